#!/usr/bin/env node
import { main } from './main.js';

// exitCode rather than process.exit(), so buffered stdout (a large --json object piped to a file) is flushed.
process.exitCode = await main(process.argv);
