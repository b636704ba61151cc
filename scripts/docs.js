#!/usr/bin/env node
'use strict';
/**
 * Regenerates the generated parts of docs/ from the sources they describe:
 *
 * - docs/configuration.md, below the marker: every key of schemas/config.schema.json (path, type
 *   and limits, default, description, allowed values);
 * - docs/providers.md, between the markers: the provider matrix, status tables and sources, from the
 *   provider catalogue (src/providers/catalogue.ts, built to dist/providers/catalogue.js: the same
 *   entries GET /v1/providers answers) and the fixtures.
 *
 * Everything outside the markers is written by hand and kept as it is.
 *
 *   node scripts/docs.js           writes the files that changed (npm run docs builds first)
 *   node scripts/docs.js --check   writes nothing; exits 1 naming every stale file
 *
 * test/docs/generated-docs.test.ts calls check() with the TypeScript sources instead of dist/.
 * Plain CommonJS, no dependencies.
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BEGIN = '<!-- generated: do not edit below; npm run docs -->';
const END = '<!-- generated: end; hand-written below -->';
const FILES = { configuration: 'docs/configuration.md', providers: 'docs/providers.md' };

// ---------------------------------------------------------------------------------------------
// Markdown helpers

/** An inline code span that survives backticks and table pipes in its text. */
function code(text) {
  const s = String(text);
  const runs = s.match(/`+/g);
  const fence = '`'.repeat(runs ? Math.max(...runs.map((r) => r.length)) + 1 : 1);
  const pad = fence.length > 1 || s.startsWith('`') || s.endsWith('`') ? ' ' : '';
  return fence + pad + s + pad + fence;
}

const json = (value) => code(JSON.stringify(value));

/** Prose for a table cell: `<` outside code spans escaped (it would start an HTML tag). */
function prose(text) {
  return String(text)
    .split(/(`+[^`]*`+)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;')))
    .join('');
}

/** A table cell: one line, pipes escaped (also inside code spans, as GFM tables need). */
function cell(text) {
  return String(text).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function table(header, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replace(/ /g, '-');
}

/** Markdown without its fenced code blocks (their lines blanked, so line numbers stay). */
function withoutFences(markdown) {
  let fence = null;
  return markdown
    .split('\n')
    .map((line) => {
      const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (fence === null && m) {
        fence = m[1];
        return '';
      }
      if (fence !== null) {
        if (line.trim().startsWith(fence)) fence = null;
        return '';
      }
      return line;
    })
    .join('\n');
}

/** Headings of a markdown text, in order: { level, text, anchor } (repeated anchors get -1, -2…). */
function headings(markdown) {
  const seen = new Map();
  const out = [];
  for (const line of withoutFences(markdown).split('\n')) {
    const m = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[2]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: m[1].length, text: m[2], anchor: n === 0 ? base : `${base}-${n}` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// docs/configuration.md: the config schema, key by key

/** Names chosen by the user, by the key that holds them. */
const PLACEHOLDERS = {
  providers: 'provider',
  accounts: 'account',
  map: 'code',
  prefixes: 'prefix',
  attributes: 'attribute',
  certificates: 'SigningCertURL',
  replaceInValues: 'text',
};

function schemaTools(schema) {
  const defs = schema.definitions || {};
  const refName = (ref) => {
    const m = /^#\/definitions\/(.+)$/.exec(ref);
    if (!m || !defs[m[1]]) throw new Error(`config schema: cannot resolve ${ref}`);
    return m[1];
  };
  /** The node with its $ref followed; keywords beside the $ref win over the target's. */
  const resolve = (node) => {
    if (!node || typeof node !== 'object' || !node.$ref) return node || {};
    const { $ref, ...beside } = node;
    return { ...resolve(defs[refName($ref)]), ...beside };
  };
  /** Definitions a node extends through allOf: [{ $ref }]. */
  const inherited = (node) => (node.allOf || []).filter((part) => part.$ref).map((part) => refName(part.$ref));
  return { defs, resolve, inherited };
}

function limits(n) {
  const parts = [];
  const lo = n.minimum !== undefined ? { v: n.minimum, op: '≥' } : n.exclusiveMinimum !== undefined ? { v: n.exclusiveMinimum, op: '>' } : null;
  const hi = n.maximum !== undefined ? { v: n.maximum, op: '≤' } : n.exclusiveMaximum !== undefined ? { v: n.exclusiveMaximum, op: '<' } : null;
  if (lo && hi && lo.op === '≥' && hi.op === '≤') parts.push(`${lo.v}–${hi.v}`);
  else {
    if (lo) parts.push(`${lo.op} ${lo.v}`);
    if (hi) parts.push(`${hi.op} ${hi.v}`);
  }
  if (n.minLength !== undefined && n.maxLength !== undefined) parts.push(`${n.minLength}–${n.maxLength} characters`);
  else if (n.minLength !== undefined) parts.push(`at least ${n.minLength} character${n.minLength === 1 ? '' : 's'}`);
  else if (n.maxLength !== undefined) parts.push(`at most ${n.maxLength} characters`);
  if (n.minItems !== undefined) parts.push(`at least ${n.minItems} item${n.minItems === 1 ? '' : 's'}`);
  if (n.pattern !== undefined) parts.push(`matching ${code(n.pattern)}`);
  if (n.format !== undefined) parts.push(`format ${n.format}`);
  return parts;
}

function typeOf(node, tools) {
  const n = tools.resolve(node);
  if (n.const !== undefined) return json(n.const);
  if (n.enum) return `one of ${n.enum.map(json).join(', ')}`;
  const variants = n.oneOf || n.anyOf;
  if (variants && !n.type) return variants.map((v) => typeOf(v, tools)).join(', or ');
  let type = Array.isArray(n.type) ? n.type.join(' or ') : n.type;
  if (!type && (n.properties || n.allOf || n.additionalProperties !== undefined)) type = 'object';
  if (!type) return 'any JSON value';
  if (type === 'array' && n.items) {
    const items = tools.resolve(n.items);
    const inner = typeOf(items, tools);
    type = items.enum || items.const !== undefined ? `array, each ${inner}` : `array of ${inner}`;
  }
  if (type === 'object' && n.propertyNames && n.propertyNames.pattern) type += `, names matching ${code(n.propertyNames.pattern)}`;
  const extra = limits(n);
  // oneOf of bare `required` lists beside a type: exactly one of those keys.
  if (variants && n.type && variants.every((v) => Array.isArray(v.required) && Object.keys(v).length === 1)) {
    extra.push(`exactly one of ${variants.map((v) => code(v.required[0])).join(', ')}`);
  }
  return extra.length ? `${type}, ${extra.join(', ')}` : type;
}

/**
 * Every key of the config schema as rows { section, path, type, default, description }, in schema
 * order. A definition that objects extend (allOf) is listed once, in a section of its own.
 */
function configRows(schema) {
  const tools = schemaTools(schema);
  const rows = [];
  const shared = [];
  const sharedAnchor = (name) => slug(`Shared: ${name}`);

  function visit(node, pathText, section, required, key) {
    const n = tools.resolve(node);
    const parents = tools.inherited(n);
    for (const p of parents) if (!shared.includes(p)) shared.push(p);
    let description = n.description || '';
    if (parents.length) description += `${description ? ' ' : ''}Also every key of ${parents.map((p) => `[${p}](#${sharedAnchor(p)})`).join(', ')}.`;
    if (required) description = `**Required.** ${description}`;
    if (pathText) rows.push({ section, path: pathText, type: typeOf(n, tools), default: n.default, description: description.trim() });
    walkChildren(n, pathText, section, key, parents);
  }

  function walkChildren(n, pathText, section, key, parents) {
    const join = (child) => (pathText ? `${pathText}.${child}` : child);
    const inheritedKeys = new Set(parents.flatMap((p) => Object.keys(tools.resolve(tools.defs[p]).properties || {})));
    const requiredKeys = new Set(n.required || []);
    for (const [name, child] of Object.entries(n.properties || {})) {
      if (inheritedKeys.has(name) && Object.keys(child).length === 0) continue; // declared by the definition it extends
      visit(child, join(name), section, requiredKeys.has(name), name);
    }
    if (n.additionalProperties && typeof n.additionalProperties === 'object') {
      visit(n.additionalProperties, join(`<${PLACEHOLDERS[key] || 'key'}>`), section, false, undefined);
    }
    for (const variant of n.oneOf || []) {
      const v = tools.resolve(variant);
      if (v.properties) walkChildren(v, pathText, section, key, []);
    }
    if (n.type === 'array' && n.items) {
      const items = tools.resolve(n.items);
      if (items.properties) walkChildren(items, `${pathText}[]`, section, key, tools.inherited(items));
    }
  }

  const top = tools.resolve(schema);
  const topRequired = new Set(top.required || []);
  for (const [name, child] of Object.entries(top.properties || {})) {
    visit(child, name, name === 'providers' ? 'providers' : 'settings', topRequired.has(name), name);
  }
  for (let i = 0; i < shared.length; i += 1) {
    const name = shared[i];
    const def = tools.resolve(tools.defs[name]);
    rows.push({ section: `shared:${name}`, path: '', type: typeOf(def, tools), default: undefined, description: def.description || '' });
    walkChildren(def, '', `shared:${name}`, undefined, tools.inherited(def));
  }
  return rows;
}

function configurationReference(schema) {
  const rows = configRows(schema);
  const render = (section) =>
    table(
      ['key', 'type', 'default', 'description'],
      rows
        .filter((r) => r.section === section && r.path)
        .map((r) => [code(r.path), r.type, r.default === undefined ? '' : json(r.default), prose(r.description)]),
    );
  const out = [
    '## Reference',
    '',
    'Generated from [`schemas/config.schema.json`](../schemas/config.schema.json) by `scripts/docs.js`:',
    'every key the config file takes, with its type and limits, its default and what it does. A key',
    'in `<angle brackets>` is a name you choose; `[]` is each item of a list. An empty default means',
    'the key has none (or one described beside it).',
    '',
    '### Settings',
    '',
    render('settings'),
    '',
    '### Providers',
    '',
    render('providers'),
  ];
  for (const section of [...new Set(rows.map((r) => r.section))].filter((s) => s.startsWith('shared:'))) {
    const name = section.slice('shared:'.length);
    const head = rows.find((r) => r.section === section && !r.path);
    out.push('', `### Shared: ${name}`, '');
    if (head) out.push(`${head.description ? `${prose(head.description)} ` : ''}Type: ${head.type}.`, '');
    out.push(render(section));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// docs/providers.md: the provider matrix, from the provider catalogue (src/providers/catalogue.ts,
// the same entries GET /v1/providers answers)

function fixtureCounts(fixturesDir, name) {
  const dir = path.join(fixturesDir, name);
  if (!fs.existsSync(dir)) return null;
  const counts = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.expected.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).events.length);
  return counts.length ? { min: Math.min(...counts), max: Math.max(...counts), files: counts.length } : null;
}

/** The hand-written section of a provider: a heading naming it as (`name`) or ("preset": "name"). */
function sectionOf(handWritten, name) {
  const h = headings(handWritten).find((x) => x.text.includes(`(\`${name}\`)`) || x.text.includes(`"preset": "${name}"`));
  return h ? { label: h.text.replace(/\s*\([^()]*\)\s*$/, ''), anchor: h.anchor } : null;
}

function describeAck(ack) {
  return `${code(ack.status)}${ack.body === '' ? ', empty body' : ` ${code(ack.body)}`}`;
}

function describeSettings(settings) {
  return settings.length ? settings.map((s) => `${code(s.name)}${s.required ? ' (required)' : ''}`).join(', ') : '—';
}

/** A source as a list item: a URL as a link, anything else as code. */
function sourceItem(source) {
  const m = /^(https?:\/\/\S+)(.*)$/.exec(source);
  return m ? `  - <${m[1]}>${prose(m[2])}` : `  - ${code(source)}`;
}

function providerMatrix({ catalogue, root, handWritten }) {
  const fixturesDir = path.join(root, 'fixtures');
  const entries = catalogue.providerCatalogue();
  const rows = entries.map((e) => {
    const section = sectionOf(handWritten, e.name);
    const label = section ? `[${section.label}](#${section.anchor})` : e.name;
    const id = e.kind === 'preset' ? code(`"preset": "${e.name}"`) : code(e.name);
    const counts = fixtureCounts(fixturesDir, e.name);
    const reports = counts ? `[${counts.min === counts.max ? counts.min : `${counts.min}–${counts.max}`}](../fixtures/${e.name}/)` : 'no fixtures';
    return [
      `${label} ${id}`,
      e.channel,
      `${code(e.signature.scheme)}: ${prose(e.signature.summary)}`,
      describeSettings(e.settings),
      e.kind === 'builtin' && e.signature.scheme === 'none' ? 'yes, on an unprotected `default` account' : 'no',
      describeAck(e.ack),
      reports,
    ];
  });
  const out = [
    '## Matrix',
    '',
    'Generated by `scripts/docs.js` from the provider catalogue (`src/providers/catalogue.ts`: the registry,',
    "each provider's status table and description, the compiled presets), the same entries",
    '`GET /v1/providers` answers, and the fixtures. Every account also takes `token`, `allowIps`,',
    '`timeZone` and `timestampToleranceSeconds` ([configuration](configuration.md)). "Reports per',
    'request" is the fewest and the most reports one fixture request of that provider carries; "without',
    'a config file": whether the provider accepts callbacks when the service runs with no config file at',
    'all. The acknowledgement is the answer to a JSON request.',
    '',
    table(['provider', 'channel', 'signature', 'account settings', 'without a config file', 'acknowledgement', 'reports per request'], rows),
    '',
    '### Status tables',
    '',
    "Each provider's code (or condition) → the normalized status; `keep`: recorded in the message's history",
    "without changing its status; `engagement:<action>`: a `message.engagement` event. The provider's own",
    'code is kept in `error.code`.',
    '',
  ];
  for (const e of entries) {
    out.push(`- ${code(e.name)}: ${e.statuses.map((s) => `${code(s.code)} → ${code(s.status)}`).join(', ')}`);
  }
  out.push('', '### Sources', '');
  for (const e of entries) {
    out.push(`- ${code(e.name)}${e.kind === 'preset' ? ` (\`src/providers/generic/presets/${e.name}.json\`)` : ''}:`);
    for (const source of e.sources) out.push(sourceItem(source));
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Files

function builtModules(root) {
  const dist = path.join(root, 'dist/providers');
  try {
    return { catalogue: require(path.join(dist, 'catalogue')) };
  } catch (err) {
    throw new Error(`cannot load the built providers from ${dist} (run npm run build first; npm run docs does): ${err.message}`, { cause: err });
  }
}

/** The generated part put between the markers of `text` (to the end of the file when it has no END). */
function splice(text, generated, file) {
  const begin = text.indexOf(BEGIN);
  if (begin < 0) throw new Error(`${file} has no line "${BEGIN}"`);
  const end = text.indexOf(END, begin);
  const head = text.slice(0, begin + BEGIN.length);
  return end < 0 ? `${head}\n\n${generated.trim()}\n` : `${head}\n\n${generated.trim()}\n\n${text.slice(end)}`;
}

/** The hand-written parts of `text`: everything outside the markers. */
function handWrittenPart(text) {
  const begin = text.indexOf(BEGIN);
  if (begin < 0) return text;
  const end = text.indexOf(END, begin);
  return text.slice(0, begin) + (end < 0 ? '' : text.slice(end + END.length));
}

/**
 * What the generated files should hold: { 'docs/….md': content }. Options: `root` (the package),
 * `modules` ({ catalogue }: the provider catalogue module; default the built one in dist/).
 */
function render(options = {}) {
  const root = options.root || ROOT;
  const modules = options.modules || builtModules(root);
  const read = (file) => fs.readFileSync(path.join(root, file), 'utf8');
  const schema = JSON.parse(read('schemas/config.schema.json'));
  const configuration = read(FILES.configuration);
  const providers = read(FILES.providers);
  return {
    [FILES.configuration]: splice(configuration, configurationReference(schema), FILES.configuration),
    [FILES.providers]: splice(providers, providerMatrix({ ...modules, schema, root, handWritten: handWrittenPart(providers) }), FILES.providers),
  };
}

/** The generated files whose content differs from what render() makes. */
function check(options = {}) {
  const root = options.root || ROOT;
  const expected = render(options);
  return Object.keys(expected).filter((file) => fs.readFileSync(path.join(root, file), 'utf8') !== expected[file]);
}

/** Writes what differs; the files written. */
function write(options = {}) {
  const root = options.root || ROOT;
  const expected = render(options);
  const changed = Object.keys(expected).filter((file) => fs.readFileSync(path.join(root, file), 'utf8') !== expected[file]);
  for (const file of changed) fs.writeFileSync(path.join(root, file), expected[file]);
  return changed;
}

function main(argv) {
  const args = argv.slice(2);
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length) {
    process.stderr.write(`usage: node scripts/docs.js [--check]\nunknown argument: ${unknown.join(' ')}\n`);
    return 2;
  }
  if (args.includes('--check')) {
    const stale = check();
    for (const file of stale) process.stderr.write(`${file} is stale: run npm run docs\n`);
    return stale.length ? 1 : 0;
  }
  const written = write();
  process.stdout.write(written.length ? written.map((f) => `wrote ${f}\n`).join('') : 'generated docs are up to date\n');
  return 0;
}

module.exports = { BEGIN, END, FILES, render, check, write, configRows, configurationReference, providerMatrix, slug, headings, withoutFences };

if (require.main === module) {
  try {
    process.exitCode = main(process.argv);
  } catch (err) {
    process.stderr.write(`docs: ${err.message}\n`);
    process.exitCode = 2;
  }
}
