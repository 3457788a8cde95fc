import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { listDir, makeTempDir, runCli, sha256, wakeWordModelPath } from '../testing/cli-harness.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
afterEach(async () => cleanup());

describe('quantkit inspect', () => {
  it('prints opsets, inputs, ops, weights and metadata', async () => {
    const run = await runCli(['inspect', wakeWordModelPath()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^opsets: ai\.onnx \d+/m);
    expect(run.stdout).toMatch(/onnx::Flatten_0\s+float32\s+\[1, 25, 96\]/);
    expect(run.stdout).toMatch(/^weights: .* \(float32 /m);
    expect(run.stdout).toMatch(/^weight precision: 0 of \d+ /m);
  });

  it('prints one JSON object with --json', async () => {
    const run = await runCli(['inspect', wakeWordModelPath(), '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(true);
    expect(report.fileBytes).toBe((await readFile(wakeWordModelPath())).length);
    expect(report.initializers.reduce((sum: number, t: { bytes: number }) => sum + t.bytes, 0)).toBe(
      report.weightBytes,
    );
  });

  it.each([
    ['truncated', async (bytes: Buffer) => bytes.subarray(0, 1000)],
    ['not ONNX', async () => Buffer.from('{"this": "is json"}\n')],
    [
      'bit-flipped',
      async (bytes: Buffer) => Buffer.from(bytes.map((byte, i) => (i < 16 ? byte ^ 0xff : byte))),
    ],
  ])('refuses a %s file with one line and exit 3, leaving it unchanged', async (_name, corrupt) => {
    const file = join(dir, 'bad.onnx');
    await writeFile(file, await corrupt(await readFile(wakeWordModelPath())));
    const hash = await sha256(file);
    const before = await listDir(dir);
    const run = await runCli(['inspect', 'bad.onnx'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_MODEL);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^quantkit: error: .*bad\.onnx/);
    expect(await sha256(file)).toBe(hash);
    expect(await listDir(dir)).toEqual(before);
  });

  it('refuses a missing file with exit 5', async () => {
    const run = await runCli(['inspect', 'missing.onnx', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.NOT_FOUND);
    expect(JSON.parse(run.stdout).error.code).toBe('NOT_FOUND');
  });

  it('names a folder given as a model', async () => {
    await copyFile(wakeWordModelPath(), join(dir, 'm.onnx'));
    const run = await runCli(['inspect', '.'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr).toMatch(/is a folder; expected a file/);
  });
});
