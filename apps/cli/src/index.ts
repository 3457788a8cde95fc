export { type CliIo, type OutputStream, processIo, toJson } from './cli-io.js';
export { EXIT_CODES, UNEXPECTED_EXIT_CODE, exitCodeFor } from './exit-codes.js';
export { collectList, parseChoiceFlag, parseIntegerFlag } from './flags.js';
export { type LoadedPlugin, loadPlugins } from './load-plugins.js';
export { type CliRegistry, createCliRegistry } from './cli-registry.js';
export { createProgram, main } from './main.js';
export { installExitCleanup } from './exit-cleanup.js';
