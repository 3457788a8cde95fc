import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-io.js';
import { EXIT_CODES } from './exit-codes.js';
import { main } from './main.js';
import { runCli } from './testing/cli-harness.js';

function memoryIo(): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    cwd: process.cwd(),
    out: () => out,
    err: () => err,
  };
}

describe('quantkit --help', () => {
  it.each([
    [[], ['quantize', 'inspect', 'compare', 'check', 'targets', 'plugins']],
    [
      ['quantize'],
      [
        '--output',
        '--mode',
        '--bits',
        '--granularity',
        '--calib',
        '--exclude',
        '--plugin',
        '--target',
        '"gpu-tensorrt"',
        '--float <precision>',
        '"float"',
        'q4f16                   quantkit quantize model.onnx -o model.q4f16.onnx --mode weight-only --granularity block --bits 4 --float fp16',
        'fp16                    quantkit quantize model.onnx -o model.fp16.onnx --mode float',
        '--report',
        '--force',
        '--json',
      ],
    ],
    [['inspect'], ['<model>', '--json']],
    [['compare'], ['<reference>', '<candidate>', '--data', '--samples', '--json']],
    [['plugins'], ['--plugin', '--json']],
    [['check'], ['<model>', '--target', '"wasm"', '--plugin', '--json']],
    [['targets'], ['--rules', '--plugin', '--json']],
  ])('%o --help lists its options and exits 0', async (command, expected) => {
    const run = await runCli([...command, '--help']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: quantkit/);
    for (const text of expected) expect(run.stdout).toContain(text);
  });

  it('prints the version', async () => {
    const run = await runCli(['--version']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('usage errors', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['quantize', 'm.onnx', '-o', 'x.onnx', '--fast'], /unknown option '--fast'/],
    [['quantize', 'm.onnx'], /required option '-o, --output <file>' not specified/],
    [['quantize', '-o', 'x.onnx'], /missing required argument 'input'/],
    [['inspect', 'a.onnx', 'b.onnx'], /too many arguments/],
  ])('%o exits 2 with one line on stderr', async (args, pattern) => {
    const run = await runCli(args);
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^quantkit: error: /);
    expect(lines[0]).toMatch(pattern);
  });

  it('reports usage errors as JSON with --json', async () => {
    const run = await runCli(['inspect', '--bogus', '--json']);
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(JSON.parse(run.stdout)).toEqual({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('--bogus') },
    });
  });

  it('prints the help on stderr and exits 2 when no command is given', async () => {
    const io = memoryIo();
    expect(await main(['node', 'quantkit'], io)).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(io.err()).toContain('Usage: quantkit');
    expect(io.out()).toBe('');
  });
});

describe('main', () => {
  it('maps a QuantError to its exit status with one line, and shows the stack only with --debug', async () => {
    const quiet = memoryIo();
    expect(await main(['node', 'quantkit', 'inspect', 'missing.onnx'], quiet)).toBe(EXIT_CODES.NOT_FOUND);
    expect(quiet.err()).toBe('quantkit: error: model missing.onnx does not exist\n');

    const debug = memoryIo();
    expect(await main(['node', 'quantkit', 'inspect', 'missing.onnx', '--debug'], debug)).toBe(
      EXIT_CODES.NOT_FOUND,
    );
    expect(debug.err().split('\n')[0]).toBe('quantkit: error: model missing.onnx does not exist');
    expect(debug.err()).toMatch(/\n\s+at /);
  });
});
