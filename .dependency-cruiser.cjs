/**
 * The layers of src/, lowest first (docs/architecture.md draws them): a module may import from its
 * own layer and the layers below it, never from one above. `npm run lint` checks this and that no
 * import cycle exists, so the picture in the docs stays true.
 */
const LAYERS = [
  // the typed client (dlr-receiver/client): imports only its generated types, so it ships alone
  ['src/client/'],
  ['src/paths.ts', 'src/util/'],
  ['src/errors.ts', 'src/logger.ts'],
  ['src/db/'],
  ['src/status/'],
  ['src/raw/'],
  ['src/providers/'],
  ['src/ops/'],
  ['src/config/'],
  ['src/context.ts'],
  ['src/outbox/'],
  ['src/ingest/'],
  ['src/replay/'],
  ['src/http/'],
  ['src/server.ts'],
  ['src/main.ts', 'src/cli/'],
];

const pattern = (paths) => `^(${paths.map((p) => p.replace(/[.]/g, '\\.') + (p.endsWith('/') ? '' : '$')).join('|')})`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: one of these modules belongs below the other (docs/architecture.md).',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map((layer, i) => ({
      name: `layer-${i}-imports-upward`,
      severity: 'error',
      comment: `${layer.join(', ')} may import only from its own layer and those below it (docs/architecture.md)`,
      from: { path: pattern(layer) },
      to: { path: pattern(LAYERS.slice(i + 1).flat()) },
    })),
    {
      name: 'not-in-a-layer',
      severity: 'error',
      comment: 'Every module of src/ belongs to a layer: add it to LAYERS in .dependency-cruiser.cjs and to docs/architecture.md',
      from: { path: '^src/', pathNot: pattern(LAYERS.flat()) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
