#!/usr/bin/env node
// The command-line entry point; the program itself is compiled to dist/ by `npm install`.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
