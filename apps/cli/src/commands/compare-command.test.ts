import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { createPrng } from '@quantkit/quantize';
import { parseReportHtml } from '@quantkit/report';
import { listDir, makeTempDir, runCli, sha256, wakeWordModelPath } from '../testing/cli-harness.js';
import { mlpModelBytes } from '../testing/test-models.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  await copyFile(wakeWordModelPath(), join(dir, 'model.onnx'));
});
afterEach(async () => cleanup());

describe('quantkit compare', () => {
  it('finds a model identical to itself on random inputs, and says the inputs were random', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--samples', '3'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /3 random samples \(seed 1;.*symbolic batch dim set to 1, other symbolic dims to 64/,
    );
    expect(run.stdout).toMatch(/^\s+39\s+inf\s+1\.000000\s+0\.000000/m);
  });

  it('reads --data in the calibration layout and prints one JSON object with --json', async () => {
    const data = join(dir, 'data');
    await mkdir(data);
    const next = createPrng(3);
    // One file holding a batch of 2 samples: the model's fixed batch of 1 takes it in two runs.
    await writeFile(
      join(data, 'batch.npy'),
      encodeNpy({
        dtype: 'float32',
        shape: [2, 25, 96],
        data: Float32Array.from({ length: 2 * 25 * 96 }, () => next() - 0.5),
      }),
    );
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--data', 'data', '--json'], {
      cwd: dir,
    });
    expect(run.stderr).toBe('');
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.data.kind).toBe('folder');
    expect(report.samples).toBe(2);
    // JSON has no Infinity; the CLI writes it as a string rather than a misleading null.
    expect(report.outputs).toEqual([
      { output: '39', sqnr: 'Infinity', cosine: 1, maxAbsError: 0, top1Agreement: null, samples: 2 },
    ]);
  });

  it("runs both models on quantkit's runtime with --runtime quantkit, as onnxruntime-node does", async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes({ deeper: true }));
    await writeFile(join(dir, 'other.onnx'), mlpModelBytes({ deeper: true, seed: 12 }));
    const onOrt = await runCli(['compare', 'mlp.onnx', 'other.onnx', '--samples', '3', '--json'], {
      cwd: dir,
    });
    const onRuntime = await runCli(
      ['compare', 'mlp.onnx', 'other.onnx', '--samples', '3', '--runtime', 'quantkit', '--json'],
      { cwd: dir },
    );
    expect(onOrt.code, onOrt.stderr).toBe(0);
    expect(onRuntime.code, onRuntime.stderr).toBe(0);
    const [ort, runtime] = [JSON.parse(onOrt.stdout), JSON.parse(onRuntime.stdout)];
    expect(runtime.outputs[0].sqnr).toBeCloseTo(ort.outputs[0].sqnr, 3);
    expect(runtime.outputs[0].sqnr).toBeLessThan(20);
  });

  it('refuses a missing --data folder with exit 5', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--data', 'nowhere'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.NOT_FOUND);
    expect(run.stderr).toMatch(/^quantkit: error: data folder .*nowhere does not exist\n$/);
  });

  it('refuses a candidate that is not ONNX with exit 3', async () => {
    await writeFile(join(dir, 'junk.onnx'), 'not a model');
    const run = await runCli(['compare', 'model.onnx', 'junk.onnx'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_MODEL);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('refuses --samples 0', async () => {
    const run = await runCli(['compare', 'model.onnx', 'model.onnx', '--samples', '0'], { cwd: dir });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr).toMatch(/--samples must be an integer >= 1, got "0"/);
  });
});

describe('quantkit compare --per-layer', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes());
    const quantize = await runCli(['quantize', 'mlp.onnx', '-o', 'q.onnx', '--mode', 'dynamic'], {
      cwd: dir,
    });
    expect(quantize.code, quantize.stderr).toBe(0);
  });

  interface LayerJson {
    value: string;
    node: string;
    opType: string;
    sqnr: number | string;
    samples: number;
  }

  it('prints every value both models compute, worst first, and --json includes them', async () => {
    const text = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--per-layer', '--samples', '3'], {
      cwd: dir,
    });
    expect(text.code, text.stderr).toBe(0);
    const json = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--per-layer', '--samples', '3', '--json'], {
      cwd: dir,
    });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    const layers: LayerJson[] = report.layers;
    // The MLP computes h1 (fc1), a1 (relu1) and y (fc2); quantkit keeps those names in the quantized model.
    expect(layers.map((layer) => layer.value).sort()).toEqual(['a1', 'h1', 'y']);
    const sqnrs = layers.map((layer) => Number(layer.sqnr));
    expect(sqnrs).toEqual([...sqnrs].sort((a, b) => a - b));
    for (const layer of layers) expect(layer.samples).toBe(3);
    // The output row of the layer table measures the same thing as the output table.
    const y = layers.find((layer) => layer.value === 'y')!;
    expect(Number(y.sqnr)).toBeCloseTo(report.outputs[0].sqnr, 3);

    expect(text.stdout).toMatch(/^layers: 3 values both models compute, worst first$/m);
    const table = text.stdout.slice(text.stdout.indexOf('\nlayers: '));
    const rows = table.split('\n').filter((line) => /^\s+(h1|a1|y)\s/.test(line));
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual(layers.map((layer) => layer.value));
  });

  it('finds every layer exact when a model is compared with itself', async () => {
    const run = await runCli(['compare', 'mlp.onnx', 'mlp.onnx', '--per-layer', '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const layers: LayerJson[] = JSON.parse(run.stdout).layers;
    expect(layers).toHaveLength(3);
    for (const layer of layers) expect(layer.sqnr).toBe('Infinity');
  });

  it('limits the table to the worst 20 rows unless --all', async () => {
    // hello_deepa has 29 values both models compute.
    const quantize = await runCli(['quantize', 'model.onnx', '-o', 'deepa.onnx', '--mode', 'dynamic'], {
      cwd: dir,
    });
    expect(quantize.code, quantize.stderr).toBe(0);
    const rowsOf = (stdout: string) =>
      stdout.slice(stdout.indexOf('\nlayers: ')).trim().split('\n').length - 2;
    const limited = await runCli(['compare', 'model.onnx', 'deepa.onnx', '--per-layer', '--samples', '1'], {
      cwd: dir,
    });
    expect(limited.code, limited.stderr).toBe(0);
    const total = Number(/layers: (\d+) values/.exec(limited.stdout)?.[1]);
    expect(total).toBeGreaterThan(20);
    expect(limited.stdout).toMatch(/the worst 20 of \d+; --all shows every one/);
    expect(rowsOf(limited.stdout)).toBe(20);
    const all = await runCli(
      ['compare', 'model.onnx', 'deepa.onnx', '--per-layer', '--all', '--samples', '1'],
      {
        cwd: dir,
      },
    );
    expect(rowsOf(all.stdout)).toBe(total);
  });

  it('--report writes JSON or an HTML page in the quantize report shape', async () => {
    const json = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--report', 'c.json', '--samples', '2'], {
      cwd: dir,
    });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stdout).toMatch(/^report: c\.json$/m);
    const report = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8'));
    expect(report).toMatchObject({ kind: 'quantkit-report', version: 1, model: 'q.onnx', samples: 2 });
    expect(report.recipe.mode).toBe('dynamic');
    // Graph order, with the producing node of the candidate.
    expect(report.layers.map((layer: { output: string }) => layer.output)).toEqual(['h1', 'a1', 'y']);
    expect(report.layers[1]).toMatchObject({ node: 'relu1', opType: 'Relu', flagged: false });

    const html = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--report', 'c.html', '--samples', '2'], {
      cwd: dir,
    });
    expect(html.code, html.stderr).toBe(0);
    const page = parseReportHtml(await readFile(join(dir, 'c.html'), 'utf8'));
    expect(page.layers.map((layer) => layer.output)).toEqual(['h1', 'a1', 'y']);
  });

  it('names the computing node above Q/DQ pairs, and flags the worst layers below 20 dB with a fix', async () => {
    // 2-bit weights make every layer of the MLP lose far more than 20 dB.
    await mkdir(join(dir, 'calib'));
    const next = createPrng(5);
    for (let s = 0; s < 4; s++) {
      const data = Float32Array.from({ length: 4 }, () => next() * 2 - 1);
      await writeFile(join(dir, 'calib', `s${s}.npy`), encodeNpy({ dtype: 'float32', shape: [1, 4], data }));
    }
    const quantize = await runCli(
      ['quantize', 'mlp.onnx', '-o', 'q2.onnx', '--calib', 'calib', '--bits', '2'],
      {
        cwd: dir,
      },
    );
    expect(quantize.code, quantize.stderr).toBe(0);
    const run = await runCli(['compare', 'mlp.onnx', 'q2.onnx', '--report', 'c.json', '--data', 'calib'], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(await readFile(join(dir, 'c.json'), 'utf8'));
    // In the QDQ model "a1" and "y" come out of DequantizeLinear nodes; the nodes computing them are fc1 (with the
    // Relu folded into its output range) and fc2.
    expect(
      report.layers.map((layer: { output: string; node: string; opType: string }) => [
        layer.output,
        layer.node,
        layer.opType,
      ]),
    ).toEqual([
      ['a1', 'fc1', 'MatMul'],
      ['y', 'fc2', 'MatMul'],
    ]);
    const below = [...report.layers]
      .filter((layer: { sqnr: number }) => layer.sqnr < 20)
      .sort((a: { sqnr: number }, b: { sqnr: number }) => a.sqnr - b.sqnr)
      .slice(0, 3);
    expect(below.length).toBeGreaterThan(0);
    for (const layer of report.layers) {
      expect(layer.flagged).toBe(below.includes(layer));
      if (layer.flagged) {
        expect(layer.suggestion).toEqual({
          why: 'keep it float',
          override: { nodes: { [layer.node]: { float: true } } },
        });
      }
    }
  });

  it('refuses a --report over a model or an existing file, before running anything', async () => {
    const before = await listDir(dir);
    const hash = await sha256(join(dir, 'q.onnx'));
    const over = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--report', 'q.onnx'], { cwd: dir });
    expect(over.code).toBe(EXIT_CODES.OUTPUT_CONFLICT);
    expect(over.stderr).toMatch(
      /^quantkit: error: --report "q\.onnx" would replace the candidate model "q\.onnx", which this run reads/,
    );
    await writeFile(join(dir, 'c.json'), 'precious');
    const exists = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--report', 'c.json'], { cwd: dir });
    expect(exists.code).toBe(EXIT_CODES.OUTPUT_CONFLICT);
    expect(exists.stderr).toMatch(/--report "c\.json" already exists; pass --force/);
    expect(await readFile(join(dir, 'c.json'), 'utf8')).toBe('precious');
    expect(await listDir(dir)).toEqual([...before, 'c.json'].sort());
    expect(await sha256(join(dir, 'q.onnx'))).toBe(hash);
    const forced = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--report', 'c.json', '--force'], {
      cwd: dir,
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'c.json'), 'utf8')).kind).toBe('quantkit-report');
  });

  it('refuses a --report that names a folder, with and without --force, and leaves the folder alone', async () => {
    await mkdir(join(dir, 'reports'));
    await writeFile(join(dir, 'reports', 'keep.txt'), 'precious');
    for (const args of [
      ['--report', 'reports'],
      ['--report', 'reports', '--force'],
      ['--report', 'new/'],
    ]) {
      const run = await runCli(['compare', 'mlp.onnx', 'q.onnx', ...args], { cwd: dir });
      expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
      expect(run.stderr).toMatch(
        /^quantkit: error: --report (reports|new\/) (is a folder|ends with \/, so it names a folder); give the output file name, e\.g\. (reports|new)\/report\.html\n$/,
      );
    }
    expect(await readFile(join(dir, 'reports', 'keep.txt'), 'utf8')).toBe('precious');
  });

  it('refuses --all without --per-layer', async () => {
    const run = await runCli(['compare', 'mlp.onnx', 'q.onnx', '--all'], { cwd: dir });
    expect(run.code).toBe(EXIT_CODES.INVALID_ARGUMENT);
    expect(run.stderr).toBe('quantkit: error: --all needs --per-layer\n');
  });
});
