/**
 * Bodies pretty-printed as TEXT (never HTML): JSON re-indented token by token (numbers kept as
 * written — a 19-digit message id must not be rounded by JSON.parse), XML indented tag by tag,
 * form bodies split into fields. Every output is rendered by Preact as a text node.
 */

/** The JSON text re-indented, or null when it is not JSON. */
export function prettyJson(text: string): string | null {
  const trimmed = text.trim();
  if (trimmed === '' || !/^[[{"0-9tfn-]/.test(trimmed)) return null;
  try {
    JSON.parse(trimmed);
  } catch {
    return null;
  }
  let out = '';
  let depth = 0;
  let inString = false;
  const pad = () => '\n' + '  '.repeat(depth);
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += trimmed[++i] ?? '';
      } else if (c === '"') inString = false;
      continue;
    }
    switch (c) {
      case '"':
        inString = true;
        out += c;
        break;
      case '{':
      case '[': {
        // keep empty containers on one line
        let j = i + 1;
        while (j < trimmed.length && /\s/.test(trimmed[j]!)) j++;
        const close = c === '{' ? '}' : ']';
        if (trimmed[j] === close) {
          out += c + close;
          i = j;
        } else {
          depth++;
          out += c + pad();
        }
        break;
      }
      case '}':
      case ']':
        depth--;
        out += pad() + c;
        break;
      case ',':
        out += ',' + pad();
        break;
      case ':':
        out += ': ';
        break;
      case ' ':
      case '\n':
      case '\r':
      case '\t':
        break;
      default:
        out += c;
    }
  }
  return out;
}

/** Any value as indented JSON text (for API values: metadata, audit parameters). */
export function jsonText(value: unknown): string {
  if (value === undefined) return '';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The XML text with one tag per line, indented; null when it does not look like XML. */
export function prettyXml(text: string): string | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<') || !trimmed.endsWith('>')) return null;
  const tokens = trimmed.match(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<[^>]+>|[^<]+/g);
  if (!tokens) return null;
  const lines: string[] = [];
  let depth = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (/^<\//.test(tok)) {
      depth = Math.max(0, depth - 1);
      lines.push('  '.repeat(depth) + tok);
    } else if (/^<[?!]/.test(tok) || /\/>$/.test(tok)) {
      lines.push('  '.repeat(depth) + tok);
    } else if (tok.startsWith('<')) {
      // <a>text</a> stays on one line
      const text = tokens[i + 1];
      const close = tokens[i + 2];
      if (text !== undefined && !text.startsWith('<') && close !== undefined && close.startsWith('</')) {
        lines.push('  '.repeat(depth) + tok + text.trim() + close);
        i += 2;
      } else if (text !== undefined && text.startsWith('</')) {
        lines.push('  '.repeat(depth) + tok + text);
        i += 1;
      } else {
        lines.push('  '.repeat(depth) + tok);
        depth++;
      }
    } else if (tok.trim() !== '') {
      lines.push('  '.repeat(depth) + tok.trim());
    }
  }
  return lines.join('\n');
}

/** The fields of an application/x-www-form-urlencoded body, in order (repeated names kept). */
export function formFields(text: string): [string, string][] | null {
  const trimmed = text.trim();
  if (trimmed === '' || !/^[^=&\s]+=/.test(trimmed)) return null;
  return [...new URLSearchParams(trimmed).entries()];
}

export type BodyKind = 'json' | 'xml' | 'form' | 'text' | 'base64';

/** What to show a body as: its Content-Type first, then what it looks like. */
export function bodyKind(contentType: string | undefined, encoding: string, content: string): BodyKind {
  if (encoding === 'base64') return 'base64';
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('json') && prettyJson(content) !== null) return 'json';
  if (ct.includes('xml') && prettyXml(content) !== null) return 'xml';
  if (ct.includes('x-www-form-urlencoded') && formFields(content) !== null) return 'form';
  if (prettyJson(content) !== null) return 'json';
  if (/^\s*</.test(content) && prettyXml(content) !== null) return 'xml';
  if (!ct && formFields(content) !== null && !/\s/.test(content.trim())) return 'form';
  return 'text';
}

/** An ISO time from a datetime-local value (read in the browser's zone), or '' if none. */
export function localToIso(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** A datetime-local value (the browser's zone) from an ISO time, or '' if none. */
export function isoToLocal(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function headerValue(headers: Record<string, string | string[]> | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return Array.isArray(v) ? v.join(', ') : v;
  return undefined;
}
