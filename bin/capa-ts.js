#!/usr/bin/env node
// The command-line entry point; the program itself is compiled to dist/ by `npm install`.
import { main } from '../dist/src/cli/main.js';

// a closed pipe (`capa-ts features x | head`) ends the output, not the program with a trace
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv.slice(2));
