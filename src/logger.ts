import pino, { type DestinationStream, type Logger } from 'pino';
import { maskPersonalData, redactSecrets } from './util/mask';

export type { Logger };

/** The most characters of a log line, its newline included. */
export const MAX_LOG_LINE_CHARS = 16 * 1024;
/** What an over-long line keeps of each of its long strings. */
const LONG_STRING_KEEP = 1024;
/** What the marker line of a line that is still too long keeps of it. */
const MARKER_HEAD = 2048;

/**
 * The line with the content of each string longer than `keep` characters cut to `keep` and marked
 * `…(N more characters)`: still the same JSON, one pass over the text. Cuts fall between escape
 * sequences and never split a surrogate pair.
 */
function shortenStrings(line: string, keep: number): string {
  let out = '';
  let copied = 0;
  const n = line.length;
  for (let i = line.indexOf('"'); i >= 0 && i < n; i = line.indexOf('"', i + 1)) {
    const start = i + 1;
    let j = start;
    let cut = -1;
    while (j < n) {
      const c = line.charCodeAt(j);
      if (c === 0x22) break;
      if (cut < 0 && j - start >= keep) cut = j;
      j += c === 0x5c ? (line.charCodeAt(j + 1) === 0x75 ? 6 : 2) : 1;
    }
    if (cut >= 0) {
      const before = line.charCodeAt(cut - 1);
      if (before >= 0xd800 && before <= 0xdbff) cut -= 1;
      out += `${line.slice(copied, cut)}…(${j - cut} more characters)`;
      copied = j;
    }
    i = j; // the closing quote
  }
  return copied === 0 ? line : out + line.slice(copied);
}

/**
 * A line of at most MAX_LOG_LINE_CHARS, still one JSON object: long strings are cut first; a line
 * that is still too long (a huge structure) becomes a marker line with its level, time, size and
 * head. Runs after masking, so cutting cannot leave half an e-mail address unmasked.
 */
export function capLine(line: string): string {
  if (line.length <= MAX_LOG_LINE_CHARS) return line;
  const shortened = shortenStrings(line, LONG_STRING_KEEP);
  if (shortened.length <= MAX_LOG_LINE_CHARS) return shortened;
  const start = /^\{"level":(\d{1,3}),"time":("[^"\\]{0,40}")/.exec(line);
  const head = JSON.stringify(shortened.slice(0, MARKER_HEAD));
  return `{"level":${start?.[1] ?? 40},"time":${start?.[2] ?? JSON.stringify(new Date().toISOString())},"service":"dlr-receiver","msg":"log line too long","chars":${line.length},"head":${head}}\n`;
}

/**
 * pino JSON logs. Every line passes through `redactSecrets` and `maskPersonalData` just before it is
 * written, so secrets, phone numbers and e-mail addresses never reach a log whatever logged them;
 * then `capLine` bounds its length.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'dlr-receiver' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: { streamWrite: (line) => capLine(maskPersonalData(redactSecrets(line))) },
    },
    destination ?? pino.destination({ sync: false }),
  );
}
