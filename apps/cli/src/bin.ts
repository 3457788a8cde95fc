#!/usr/bin/env node
import { installExitCleanup } from './exit-cleanup.js';
import { main } from './main.js';

installExitCleanup();
// exitCode rather than process.exit(), so buffered stdout (a large --json object piped to a file) is flushed.
process.exitCode = await main(process.argv);
