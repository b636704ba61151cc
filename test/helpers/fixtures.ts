import fs from 'node:fs';
import path from 'node:path';

export const FIXTURES_DIR = path.resolve(__dirname, '../../fixtures');

export interface ExpectedEvent {
  type: string;
  message_id: string;
  recipient: string;
  [key: string]: unknown;
}

export interface Fixture {
  provider: string;
  name: string;
  body: Buffer;
  source: string;
  contentType: string;
  ack: { status: number; body: unknown };
  events: ExpectedEvent[];
}

/** Every fixture: a body file and its NAME.expected.json beside it. */
export function loadFixtures(provider?: string): Fixture[] {
  const providers = provider ? [provider] : fs.readdirSync(FIXTURES_DIR).filter((d) => fs.statSync(path.join(FIXTURES_DIR, d)).isDirectory());
  const out: Fixture[] = [];
  for (const p of providers) {
    const dir = path.join(FIXTURES_DIR, p);
    for (const file of fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.expected.json'))
      .sort()) {
      const name = file.slice(0, -'.expected.json'.length);
      const bodyFile = fs.readdirSync(dir).find((f) => f !== file && f.startsWith(`${name}.`) && !f.endsWith('.expected.json'));
      if (!bodyFile) throw new Error(`fixture ${p}/${name} has no body file`);
      const expected = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Omit<Fixture, 'provider' | 'name' | 'body'>;
      out.push({ provider: p, name, body: fs.readFileSync(path.join(dir, bodyFile)), ...expected });
    }
  }
  return out;
}

export function fixture(provider: string, name: string): Fixture {
  const found = loadFixtures(provider).find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${provider}/${name}`);
  return found;
}
