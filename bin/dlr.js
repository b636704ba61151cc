#!/usr/bin/env node
'use strict';
// The `dlr` command (package bin): runs the built CLI. `npm start` or `npm run build` builds it.
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const main = path.join(root, 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  // a checkout without a build: say so, instead of node's stack for a missing module
  process.stderr.write(`dlr: the build is missing (no ${main}): run \`npm run build\` in ${root} first\n`);
  process.exit(1);
}
require(main).run(process.argv);
