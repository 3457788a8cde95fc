import { copyFile, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPrng } from '@quantkit/quantize';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { listDir, makeTempDir, runCli, sha256, wakeWordModelPath } from '../testing/cli-harness.js';

// hello_deepa.onnx: three Gemm layers, input [1, 25, 96], one sigmoid output.
const INPUT_SHAPE = [1, 25, 96];

let dir: string;
let cleanup: () => Promise<void>;
let model: string;

beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  model = join(dir, 'model.onnx');
  await copyFile(wakeWordModelPath(), model);
});
afterEach(async () => cleanup());

function inputs(count: number, seed: number): Float32Array[] {
  const next = createPrng(seed);
  return Array.from({ length: count }, () =>
    Float32Array.from({ length: INPUT_SHAPE.reduce((a, b) => a * b, 1) }, () => next() * 2 - 1),
  );
}

/** Each input's outputs from onnxruntime-node directly (optimization level all, as verify runs). */
async function outputsOf(path: string, data: readonly Float32Array[]): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all' });
  const outputs: Float32Array[] = [];
  for (const values of data) {
    const result = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', values, INPUT_SHAPE),
    });
    outputs.push(result[session.outputNames[0]!]!.data as Float32Array);
  }
  await session.release();
  return outputs;
}

describe('quantkit auto', () => {
  it('fits --max-size, writes a recipe quantize --recipe turns into the same bytes, and an HTML report', async () => {
    const floatSize = (await stat(model)).size;
    const maxMb = (floatSize * 0.3) / 1e6;
    const run = await runCli([
      'auto',
      model,
      '-o',
      join(dir, 'auto.onnx'),
      '--max-size',
      maxMb.toFixed(6),
      '--recipe-out',
      join(dir, 'r.json'),
      '--report',
      join(dir, 'auto.html'),
      '--workers',
      '2',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/sensitivity \(output SQNR with the layer alone quantized\)/);
    expect((await stat(join(dir, 'auto.onnx'))).size).toBeLessThanOrEqual(Math.floor(maxMb * 1e6));
    for (const output of await outputsOf(join(dir, 'auto.onnx'), inputs(2, 5)))
      expect(output.every(Number.isFinite)).toBe(true);

    const again = await runCli([
      'quantize',
      model,
      '-o',
      join(dir, 'again.onnx'),
      '--recipe',
      join(dir, 'r.json'),
    ]);
    expect(again.code).toBe(0);
    expect(await sha256(join(dir, 'again.onnx'))).toBe(await sha256(join(dir, 'auto.onnx')));
    const mixed = await runCli([
      'quantize',
      model,
      '-o',
      join(dir, 'x.onnx'),
      '--recipe',
      join(dir, 'r.json'),
      '--bits',
      '4',
    ]);
    expect(mixed.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(mixed.stderr).toMatch(/--recipe sets the quantization; drop --bits/);

    const html = await readFile(join(dir, 'auto.html'), 'utf8');
    expect(html).toContain('data-chart="pareto"');
    const data = JSON.parse(html.match(/id="quantkit-auto-data">(.*?)<\/script>/s)![1]!);
    expect(data.layers).toHaveLength(3);
    expect(data.points.filter((point: { chosen: boolean }) => point.chosen)).toHaveLength(1);

    const conflict = await runCli(['auto', model, '-o', join(dir, 'auto.onnx'), '--max-size', '1']);
    expect(conflict.code).toBe(EXIT_CODES.OUTPUT_CONFLICT);
    expect(conflict.stderr).toMatch(/--force/);
  });

  it('keeps a --metric module within --max-drop on the written model', async () => {
    const data = inputs(12, 9);
    const reference = await outputsOf(model, data);
    await writeFile(
      join(dir, 'data.json'),
      JSON.stringify({
        input: 'onnx::Flatten_0',
        samples: data.map((values, index) => ({ input: [...values], expected: [...reference[index]!] })),
      }),
    );
    // The user's score: minus the mean absolute difference from the outputs they expect, in hundredths.
    await writeFile(
      join(dir, 'metric.mjs'),
      `import { readFileSync } from 'node:fs';
const { input: name, samples: data } = JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8'));
export default async function closeness(run) {
  let total = 0;
  for (const { input, expected } of data) {
    const outputs = await run({ [name]: { dtype: 'float32', shape: [1, 25, 96], data: Float32Array.from(input) } });
    const actual = Object.values(outputs)[0].data;
    for (let i = 0; i < expected.length; i++) total += Math.abs(actual[i] - expected[i]);
  }
  return (-100 * total) / data.length;
}
`,
    );
    const maxDrop = 0.5;
    const run = await runCli([
      'auto',
      model,
      '-o',
      join(dir, 'auto.onnx'),
      '--max-drop',
      String(maxDrop),
      '--metric',
      join(dir, 'metric.mjs'),
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    const written = await outputsOf(join(dir, 'auto.onnx'), data);
    let total = 0;
    for (const [index, expected] of reference.entries())
      for (const [at, value] of expected.entries()) total += Math.abs(written[index]![at]! - value);
    const drop = (100 * total) / data.length;
    // Held on the written model, up to the last bits a separate session's float sums may differ by.
    expect(drop).toBeLessThanOrEqual(maxDrop + 1e-4);
    // The command and this test run separate sessions; their float sums may differ in the last bits.
    expect(result.chosen.metric.drop).toBeCloseTo(drop, 3);
    expect(result.chosen.size).toBeLessThan((await stat(model)).size);
  });

  it('names an infeasible or missing budget and leaves nothing behind', async () => {
    const before = [...(await listDir(dir)), 'broken.mjs'].sort();
    const tiny = await runCli(['auto', model, '-o', join(dir, 'auto.onnx'), '--max-size', '0.001']);
    expect(tiny.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(tiny.stderr).toMatch(
      /--max-size cannot be met: no assignment fits 1000 bytes \(0\.001 MB\); the smallest achievable is \d+ bytes/,
    );
    const none = await runCli(['auto', model, '-o', join(dir, 'auto.onnx')]);
    expect(none.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(none.stderr).toMatch(
      /auto needs a budget: --max-size, --bits-per-weight, --min-sqnr or --max-drop/,
    );
    const drop = await runCli(['auto', model, '-o', join(dir, 'auto.onnx'), '--max-drop', '1']);
    expect(drop.stderr).toMatch(/--max-drop needs --metric/);
    const candidates = await runCli([
      'auto',
      model,
      '-o',
      join(dir, 'auto.onnx'),
      '--max-size',
      '1',
      '--candidates',
      'int8,fp16',
    ]);
    expect(candidates.stderr).toMatch(/--candidates has "fp16"; expected/);
    await writeFile(
      join(dir, 'broken.mjs'),
      'export default async (run) => (await run({ wrong: null }), 1);\n',
    );
    const broken = await runCli([
      'auto',
      model,
      '-o',
      join(dir, 'auto.onnx'),
      '--max-drop',
      '1',
      '--metric',
      join(dir, 'broken.mjs'),
    ]);
    expect(broken.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(broken.stderr).toMatch(/--metric failed on the float model: /);
    expect(await listDir(dir)).toEqual(before);
  });
});
