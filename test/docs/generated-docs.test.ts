import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config/config';
import * as catalogue from '../../src/providers/catalogue';

interface ConfigRow {
  section: string;
  path: string;
  type: string;
  default?: unknown;
  description: string;
}
interface Heading {
  level: number;
  text: string;
  anchor: string;
}
interface Docs {
  check(options?: { root?: string; modules?: object }): string[];
  configRows(schema: unknown): ConfigRow[];
  headings(markdown: string): Heading[];
  withoutFences(markdown: string): string;
}

// Plain CommonJS, so that it runs without a build; here it gets the TypeScript sources instead of dist/.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a JS module without types: require() and the Docs interface above
const docs = require('../../scripts/docs.js') as Docs;

const ROOT = path.resolve(__dirname, '../..');
const README_LIMIT_BYTES = 15_000;

const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const docPages = () =>
  fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);

/** The markdown files whose links must hold. */
const linkedFiles = () => ['README.md', 'fixtures/README.md', ...docPages()];

/** The link targets of a markdown text, outside code blocks, code spans and HTML comments. */
function links(markdown: string): string[] {
  const text = docs
    .withoutFences(markdown)
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/(`+)[\s\S]*?\1/g, '');
  return [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]);
}

/** Lines inside fenced code blocks. */
function fencedLines(markdown: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of markdown.split('\n')) {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === null && m) fence = m[1]!;
    else if (fence !== null && line.trim().startsWith(fence)) fence = null;
    else if (fence !== null) out.push(line);
  }
  return out;
}

describe('docs', () => {
  it('the generated parts of docs/ are what scripts/docs.js makes (run `npm run docs` if not)', () => {
    expect(docs.check({ modules: { catalogue } })).toEqual([]);
  });

  it(`README.md stays under ${README_LIMIT_BYTES} bytes`, () => {
    expect(fs.statSync(path.join(ROOT, 'README.md')).size).toBeLessThan(README_LIMIT_BYTES);
  });

  it('README.md keeps the test command CI runs in a fenced block', () => {
    expect(fencedLines(read('README.md')).some((line) => /^npm ci && npm test(\s|$)/.test(line))).toBe(true);
  });

  it('README.md links every page of docs/', () => {
    const targets = new Set(links(read('README.md')).map((t) => t.split('#')[0]));
    expect(docPages().filter((page) => !targets.has(page))).toEqual([]);
  });

  it('every relative link of README.md and docs/ leads to a file, and every anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of linkedFiles()) {
      for (const target of links(read(file))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // absolute URL
        const [pathPart, anchor] = target.split('#') as [string, string | undefined];
        const resolved = pathPart === '' ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(pathPart));
        if (!fs.existsSync(resolved)) {
          broken.push(`${file}: ${target} (no such file)`);
          continue;
        }
        if (anchor === undefined || !resolved.endsWith('.md')) continue;
        const anchors = docs.headings(fs.readFileSync(resolved, 'utf8')).map((h) => h.anchor);
        if (!anchors.includes(decodeURIComponent(anchor).toLowerCase())) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every default the config schema declares is the one the service applies', () => {
    const schema = JSON.parse(read('schemas/config.schema.json')) as unknown;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dlr-docs-'));
    const load = (config: unknown) => {
      const file = path.join(dir, `config-${Math.random().toString(36).slice(2)}.json`);
      fs.writeFileSync(file, JSON.stringify(config));
      return loadConfig({ DLR_CONFIG: file }) as unknown as Record<string, unknown>;
    };
    const withAccount = { providers: { aliyun: { accounts: { default: {} } } } };
    // The second file sets what the first leaves out, so that the defaults inside it apply too.
    const configs = [load(withAccount), load({ ...withAccount, server: { rateLimit: { api: { max: 1 }, callbacks: { max: 1 } } } })];
    const at = (value: unknown, steps: string[]): unknown =>
      steps.reduce<unknown>((v, step) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[step] : undefined), value);

    const mismatches: string[] = [];
    let checked = 0;
    for (const row of docs.configRows(schema)) {
      if (row.default === undefined || /[<[]/.test(row.path)) continue; // generic providers' defaults apply in their compiler
      let steps: string[];
      if (row.section === 'settings') steps = row.path.split('.');
      else if (row.section === 'shared:accountCommon') steps = ['providers', 'aliyun', 'accounts', 'default', row.path];
      else continue;
      const config = configs.find((c) => {
        const parent = at(c, steps.slice(0, -1));
        return parent !== null && typeof parent === 'object';
      });
      // `false` turns a setting off; the loaded config says so with null.
      const applied = config === undefined ? undefined : at(config, steps);
      const expected = row.default === false && applied === null ? null : row.default;
      checked += 1;
      if (JSON.stringify(applied) !== JSON.stringify(expected)) {
        mismatches.push(`${row.path}: the schema says ${JSON.stringify(row.default)}, the service applies ${JSON.stringify(applied)}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });
});
