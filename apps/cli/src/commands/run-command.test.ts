import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseNpy } from '@quantkit/calibration';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { listDir, makeTempDir, runCli } from '../testing/cli-harness.js';
import { mlpModelBytes, writeNpyFolder } from '../testing/test-models.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes({ deeper: true }));
});
afterEach(async () => cleanup());

describe('quantkit run', () => {
  it("writes each sample's outputs as .npy, equal to what onnxruntime-node computes from the same inputs", async () => {
    await writeNpyFolder(join(dir, 'data'), 3, [2, 4]);
    const run = await runCli(['run', 'mlp.onnx', '--data', 'data', '-o', 'out', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.samples.map((sample: { folder: string }) => sample.folder)).toEqual([
      'sample_0000',
      'sample_0001',
      'sample_0002',
    ]);
    expect(await listDir(join(dir, 'out'))).toEqual(['sample_0000', 'sample_0001', 'sample_0002']);
    const session = await createOrtNodeExecutor().createSession(await readFile(join(dir, 'mlp.onnx')));
    const inputs = (await listDir(join(dir, 'data'))).sort();
    for (const [index, file] of inputs.entries()) {
      const x = parseNpy(await readFile(join(dir, 'data', file)));
      const expected = (await session.run({ x }))['y']!;
      const written = parseNpy(await readFile(join(dir, 'out', `sample_000${index}`, 'y.npy')));
      expect(written.shape).toEqual(expected.shape);
      const difference = Math.max(
        ...Array.from(written.data as Float32Array, (value, i) => Math.abs(value - Number(expected.data[i]))),
      );
      expect(difference).toBeLessThan(1e-5);
    }
    await session.dispose();
  });

  it('refuses to replace an existing output folder without --force, and leaves it as it was', async () => {
    const first = await runCli(['run', 'mlp.onnx', '-o', 'out', '--samples', '1'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/ran .*mlp\.onnx on quantkit: 1 random samples/);
    const again = await runCli(['run', 'mlp.onnx', '-o', 'out', '--samples', '2'], { cwd: dir });
    expect(again.code).toBe(EXIT_CODES.OUTPUT_CONFLICT);
    expect(again.stderr).toMatch(
      /^quantkit: error: output folder .*out exists; pass --force to replace it\n$/,
    );
    expect(await listDir(join(dir, 'out'))).toEqual(['sample_0000']);
    const forced = await runCli(['run', 'mlp.onnx', '-o', 'out', '--samples', '2', '--force'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(await listDir(join(dir, 'out'))).toEqual(['sample_0000', 'sample_0001']);
    expect((await listDir(dir)).filter((name) => name.includes('quantkit'))).toEqual([]);
  });

  it('leaves no output folder when the runtime cannot run the model', async () => {
    await writeNpyFolder(join(dir, 'data'), 1, [2, 5]);
    const run = await runCli(['run', 'mlp.onnx', '--data', 'data', '-o', 'out'], { cwd: dir });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/^quantkit: error: .*x.*\n$/);
    expect(await listDir(dir)).toEqual(['data', 'mlp.onnx']);
  });
});

describe("a user's kernel plugin", () => {
  // A backend of its own above the built-ins, with a Relu that marks what it computed (relu(x) + 1000).
  const PLUGIN = `
    export default [
      { kind: 'backend', name: 'mine', apiVersion: 1, priority: 100, init: async () => ({}) },
      {
        kind: 'kernel', name: 'mine/Relu', apiVersion: 1, opType: 'Relu', domain: '', backend: 'mine',
        description: 'relu plus 1000, to be seen',
        prepare: () => undefined,
        run: (_state, [x]) => [{ ...x, data: x.data.map((v) => Math.max(0, v) + 1000) }],
      },
    ];
  `;

  it('is listed by quantkit plugins and runs the model in quantkit run', async () => {
    await writeFile(join(dir, 'mine.mjs'), PLUGIN);
    const listed = await runCli(['plugins', '--plugin', './mine.mjs'], { cwd: dir });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(
      /^\s+mine\/Relu\s+api v1\s+\[\.\/mine\.mjs\]\s+relu plus 1000, to be seen$/m,
    );
    expect(listed.stdout).toMatch(/^\s+js\/\*\s+\d+ kernels\s+\(--json lists each\)$/m);
    expect(listed.stdout).toMatch(/^\s+mine\s+api v1\s+\[\.\/mine\.mjs\]/m);

    const plain = await runCli(['run', 'mlp.onnx', '-o', 'plain', '--samples', '1'], { cwd: dir });
    const mine = await runCli(['run', 'mlp.onnx', '-o', 'mine', '--samples', '1', '--plugin', './mine.mjs'], {
      cwd: dir,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(mine.code, mine.stderr).toBe(0);
    const y = async (folder: string) =>
      parseNpy(await readFile(join(dir, folder, 'sample_0000', 'y.npy'))).data as Float32Array;
    const [before, after] = [await y('plain'), await y('mine')];
    // Relu feeds two MatMuls on: +1000 on every hidden value moves every output far from the built-in result.
    expect(Math.min(...Array.from(after, (value, i) => Math.abs(value - before[i]!)))).toBeGreaterThan(1);
  });
});

describe('quantkit bench', () => {
  it('times the model on each runtime asked for and compares with the first', async () => {
    const run = await runCli(
      ['bench', 'mlp.onnx', '--runtime', 'ort-node', '--runtime', 'quantkit', '--runs', '5', '--json'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.results.map((result: { runtime: string }) => result.runtime)).toEqual([
      'ort-node',
      'quantkit',
    ]);
    for (const result of report.results) {
      expect(result.runs).toBe(5);
      expect(result.medianMs).toBeGreaterThan(0);
      expect(result.p90Ms).toBeGreaterThanOrEqual(result.medianMs);
    }
    const text = await runCli(['bench', 'mlp.onnx', '--runs', '3'], { cwd: dir });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^\s+quantkit\s+1\s+3\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+1\.00x$/m);
    expect(text.stdout).toMatch(/^\s+ort-node\s+1\s+3\s/m);
  });

  it('refuses --threads above 1 for the quantkit runtime, naming the flag', async () => {
    const run = await runCli(['bench', 'mlp.onnx', '--threads', '4'], { cwd: dir });
    expect(run.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr).toBe(
      'quantkit: error: --threads 4: the quantkit runtime runs on one thread; use --threads 1 or another --runtime\n',
    );
  });
});
