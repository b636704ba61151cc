#!/usr/bin/env node
'use strict';
// The `dlr` command (package bin): runs the built CLI. `npm start` or `npm run build` builds it.
require('../dist/cli/main.js').run(process.argv);
