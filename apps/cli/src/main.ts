import { createRequire } from 'node:module';
import { QuantError } from '@quantkit/core';
import { Command, CommanderError } from 'commander';
import { type CliIo, processIo, writeJson } from './cli-io.js';
import { autoCommand } from './commands/auto-command.js';
import { benchCommand } from './commands/bench-command.js';
import { compareCommand } from './commands/compare-command.js';
import { inspectCommand } from './commands/inspect-command.js';
import { pluginsCommand } from './commands/plugins-command.js';
import { quantizeCommand } from './commands/quantize-command.js';
import { runCommand } from './commands/run-command.js';
import { checkCommand } from './commands/check-command.js';
import { targetsCommand } from './commands/targets-command.js';
import { EXIT_CODES, ReportedFailure, UNEXPECTED_EXIT_CODE, exitCodeFor } from './exit-codes.js';

// package.json sits one folder up from both src/ (tests) and dist/ (the built command).
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The flags that change how errors are printed; read from argv directly because parsing itself may fail. */
interface ErrorStyle {
  readonly json: boolean;
  readonly debug: boolean;
}

function errorStyle(args: readonly string[]): ErrorStyle {
  const end = args.indexOf('--');
  const flags = end === -1 ? args : args.slice(0, end);
  return { json: flags.includes('--json'), debug: flags.includes('--debug') };
}

/** Error messages are printed on one line: runtimes and parsers like to append detail lines. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

function printError(io: CliIo, style: ErrorStyle, code: string, message: string, error?: unknown): void {
  if (style.json) {
    writeJson(io, { ok: false, error: { code, message: oneLine(message) } });
  } else {
    io.stderr.write(`quantkit: error: ${oneLine(message)}\n`);
  }
  if (style.debug && error instanceof Error && error.stack !== undefined) {
    io.stderr.write(`${error.stack}\n`);
    let cause = error.cause;
    while (cause instanceof Error) {
      io.stderr.write(`caused by: ${cause.stack ?? cause.message}\n`);
      cause = cause.cause;
    }
  }
}

/**
 * Builds the commander program. Every command reports through `io` and throws on failure instead of exiting, so
 * `main` decides what the user sees.
 */
export function createProgram(io: CliIo): Command {
  const program = new Command('quantkit')
    .description('quantize ONNX models (float32 -> int8 and more) for onnxruntime, from Node.js')
    .version(version, '-V, --version', 'print the quantkit version')
    .option('--debug', 'print stack traces of errors (for bug reports)')
    .helpCommand('help [command]', 'show help for a command');
  const commands = [
    quantizeCommand(io),
    autoCommand(io),
    inspectCommand(io),
    compareCommand(io),
    checkCommand(io),
    runCommand(io),
    benchCommand(io),
    targetsCommand(io),
    pluginsCommand(io),
  ];
  for (const command of commands) {
    // The global flag is repeated on each command so `quantkit quantize ... --debug` works too.
    command.option('--debug', 'print stack traces of errors (for bug reports)');
    program.addCommand(command);
  }
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .showHelpAfterError(false)
      .configureOutput({
        writeOut: (text) => io.stdout.write(text),
        writeErr: (text) => io.stderr.write(text),
        // main prints usage errors itself, on one line and in JSON with --json.
        outputError: () => {},
      });
    for (const sub of command.commands) configure(sub);
  };
  configure(program);
  return program;
}

/**
 * Runs the quantkit command line and returns the exit status. Never throws and never lets a stack trace reach the
 * user (unless --debug): a QuantError prints `quantkit: error: <message>` on stderr (or `{ ok: false, error }` on
 * stdout with --json) and exits with the status of its code (see EXIT_CODES); usage errors exit 2.
 *
 * @param argv as in process.argv: the node binary, the script, then the arguments.
 * @example process.exitCode = await main(process.argv);
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const args = argv.slice(2);
  const style = errorStyle(args);
  const program = createProgram(io);
  try {
    if (args.length === 0) {
      io.stderr.write(program.helpInformation());
      return EXIT_CODES.INVALID_ARGUMENT;
    }
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof ReportedFailure) return error.exitCode;
    if (error instanceof CommanderError) {
      // Help and --version "fail" with exit code 0 by design.
      if (
        error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
      ) {
        return 0;
      }
      if (error.code === 'commander.help') return EXIT_CODES.INVALID_ARGUMENT;
      printError(io, style, 'INVALID_ARGUMENT', error.message.replace(/^error: /, ''), error);
      return EXIT_CODES.INVALID_ARGUMENT;
    }
    if (QuantError.is(error)) {
      printError(io, style, error.code, error.message, error);
      return exitCodeFor(error.code);
    }
    const message = error instanceof Error ? error.message : String(error);
    printError(
      io,
      style,
      'UNEXPECTED',
      `${message}${style.debug ? '' : ' (run with --debug for details)'}`,
      error,
    );
    return UNEXPECTED_EXIT_CODE;
  }
}
