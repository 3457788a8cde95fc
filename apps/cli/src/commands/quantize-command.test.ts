import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { createTensor } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { createDefaultRegistry, createPrng } from '@quantkit/quantize';
import { parseReportHtml } from '@quantkit/report';
import { builtinTargets } from '@quantkit/targets';
import { selectHostTarget } from '@quantkit/targets/node';
import { readModelFile } from '@quantkit/onnx/node';
import { listDir, makeTempDir, runCli, sha256, wakeWordModelPath } from '../testing/cli-harness.js';
import { MLP_FEATURES, mlpModelBytes, writeNpyFolder } from '../testing/test-models.js';
import { calibrationRunsPerPass } from './quantize-command.js';

// hello_deepa.onnx takes one float32 input of shape [1, 25, 96].

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

async function writeCalibration(
  name: string,
  samples: number,
  shape: number[],
  dtype: 'float32' | 'int32' = 'float32',
) {
  const { mkdir } = await import('node:fs/promises');
  const calib = join(dir, name);
  await mkdir(calib);
  const next = createPrng(7);
  for (let s = 0; s < samples; s++) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data =
      dtype === 'float32'
        ? Float32Array.from({ length: size }, () => next() * 2 - 1)
        : Int32Array.from({ length: size }, () => Math.floor(next() * 10));
    await writeFile(join(calib, `sample_${s}.npy`), encodeNpy({ dtype, shape, data }));
  }
  return calib;
}

/**
 * Runs a command that must fail and checks the contract for every failure: one line on stderr naming the problem,
 * nothing on stdout, the exit status of the error code, no file added to (or left in) the folder, input unchanged.
 */
async function expectFailure(args: string[], code: number, pattern: RegExp, input = model) {
  const before = await listDir(dir);
  const inputHash = await sha256(input);
  const run = await runCli(args, { cwd: dir });
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^quantkit: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(await listDir(dir)).toEqual(before);
  expect(await sha256(input)).toBe(inputHash);
  return run;
}

describe('calibrationRunsPerPass', () => {
  it('counts the model runs of one pass over a folder: samples up to --calib-samples, in --calib-batch batches', async () => {
    const calib = await writeNpyFolder(join(dir, 'runs'), 10, [1, MLP_FEATURES]);
    expect(await calibrationRunsPerPass(calib, undefined, 1)).toBe(10);
    expect(await calibrationRunsPerPass(calib, 4, 1)).toBe(4);
    expect(await calibrationRunsPerPass(calib, undefined, 4)).toBe(3);
    expect(await calibrationRunsPerPass(calib, 50, 3)).toBe(4);
    // A folder that is no calibration data: quantizeFile refuses it with the reason, the bar just counts runs.
    expect(await calibrationRunsPerPass(join(dir, 'missing'), undefined, 1)).toBeUndefined();
  });
});

describe('quantkit quantize: bad input', () => {
  it('refuses a truncated model', async () => {
    const bytes = await readFile(model);
    await writeFile(model, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic'],
      EXIT_CODES.INVALID_MODEL,
      /model\.onnx/,
    );
  });

  it('refuses a file that is not ONNX', async () => {
    await writeFile(model, 'name,value\nweights,1.5\n'.repeat(20));
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic'],
      EXIT_CODES.INVALID_MODEL,
      /model\.onnx/,
    );
  });

  it('refuses bit-flipped bytes', async () => {
    const bytes = await readFile(model);
    // Inverting the leading bytes turns the first field tags into invalid wire types.
    for (let i = 0; i < 16; i++) bytes[i] = bytes[i]! ^ 0xff;
    await writeFile(model, bytes);
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic'],
      EXIT_CODES.INVALID_MODEL,
      /model\.onnx/,
    );
  });

  it('refuses a missing input model', async () => {
    await expectFailure(
      ['quantize', 'nope.onnx', '-o', 'out.onnx', '--mode', 'dynamic'],
      EXIT_CODES.NOT_FOUND,
      /nope\.onnx/,
    );
  });

  it('refuses a missing calibration folder', async () => {
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--calib', 'no-such-dir'],
      EXIT_CODES.NOT_FOUND,
      /no-such-dir/,
    );
  });

  it('refuses calibration tensors of the wrong shape, naming the file', async () => {
    await writeCalibration('calib', 2, [1, 24, 96]);
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--calib', 'calib'],
      EXIT_CODES.CALIBRATION_DATA,
      /sample_0\.npy.*shape/,
    );
  });

  it('refuses calibration tensors of the wrong dtype, naming the file', async () => {
    await writeCalibration('calib', 2, INPUT_SHAPE, 'int32');
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--calib', 'calib'],
      EXIT_CODES.CALIBRATION_DATA,
      /sample_0\.npy.*float32.*int32/,
    );
  });

  it('refuses static mode without --calib', async () => {
    await expectFailure(['quantize', 'model.onnx', '-o', 'out.onnx'], EXIT_CODES.INVALID_ARGUMENT, /--calib/);
  });

  it.each([
    [['--mode', 'fast'], /--mode must be "static", "dynamic", "weight-only", "float" or "data-free", got "fast"/],
    [['--mode', 'dynamic', '--bits', '99'], /--bits must be an integer from 1 to 16, got "99"/],
    [['--mode', 'dynamic', '--granularity', 'row'], /--granularity/],
    [['--mode', 'dynamic', '--quantizer', 'nonesuch'], /--quantizer must be "linear"/],
  ])('refuses flag values %o', async (flags, pattern) => {
    const code = flags.includes('--quantizer') ? EXIT_CODES.PLUGIN_NOT_FOUND : EXIT_CODES.INVALID_ARGUMENT;
    await expectFailure(['quantize', 'model.onnx', '-o', 'out.onnx', ...flags], code, pattern);
  });

  it("lists the registry's observers for --calib-method, in --help and when the name is unknown", async () => {
    const names = createDefaultRegistry()
      .list('observer')
      .map((plugin) => plugin.name);
    expect(names.length).toBeGreaterThan(0);
    const help = await runCli(['quantize', '--help'], { cwd: dir });
    const unknown = await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--calib', '.', '--calib-method', 'nonesuch'],
      EXIT_CODES.PLUGIN_NOT_FOUND,
      /--calib-method must be .*got "nonesuch"/,
    );
    for (const name of names) {
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(`"${name}"`);
      expect(unknown.stderr).toContain(`"${name}"`);
    }
  });

  it('refuses an unknown --target with one line listing every valid one', async () => {
    const run = await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic', '--target', 'nope'],
      EXIT_CODES.PLUGIN_NOT_FOUND,
      /--target must be "auto", .* got "nope"/,
    );
    for (const target of builtinTargets) expect(run.stderr).toContain(`"${target.name}"`);
  });

  // Found by a reliability campaign: an export renamed to model_fp32.onnx and quantized to -o model.onnx lost its
  // weights, since the output's data file (model.onnx.data) was the input's; and --force replaced calibration files.
  it('never replaces a file the run reads: the input model data file, a calibration file', async () => {
    const { mkdir, rename } = await import('node:fs/promises');
    const { encodeTensor } = await import('@quantkit/onnx');
    const { writeModelFile } = await import('@quantkit/onnx/node');
    await writeModelFile(join(dir, 'export.onnx'), await readModelFile(model), {
      externalData: true,
    });
    await rename(join(dir, 'export.onnx'), join(dir, 'model_fp32.onnx'));
    const fp32 = join(dir, 'model_fp32.onnx');
    const dataHash = await sha256(join(dir, 'export.onnx.data'));
    for (const force of [[], ['--force']]) {
      await expectFailure(
        ['quantize', 'model_fp32.onnx', '-o', 'export.onnx', '--mode', 'dynamic', ...force],
        EXIT_CODES.OUTPUT_CONFLICT,
        /^quantkit: error: external data of --output ".*export\.onnx\.data" would replace the external data of the input model ".*export\.onnx\.data", which this run reads; choose another path$/,
        fp32,
      );
    }
    await expectFailure(
      ['quantize', 'model_fp32.onnx', '-o', 'export.onnx.data', '--mode', 'dynamic', '--force'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /--output ".*export\.onnx\.data" would replace the external data of the input model/,
      fp32,
    );
    expect(await sha256(join(dir, 'export.onnx.data'))).toBe(dataHash);

    await mkdir(join(dir, 'calib', 'test_data_set_0'), { recursive: true });
    const next = createPrng(3);
    const sample = createTensor(
      'float32',
      INPUT_SHAPE,
      Float32Array.from({ length: 25 * 96 }, () => next()),
    );
    const pb = join(dir, 'calib', 'test_data_set_0', 'input_0.pb');
    await writeFile(pb, encodeTensor('x', sample));
    const pbHash = await sha256(pb);
    for (const extra of [
      ['-o', pb],
      ['-o', 'q.onnx', '--report', pb],
      ['-o', 'q.onnx', '--save-calib', pb],
    ]) {
      await expectFailure(
        ['quantize', 'model.onnx', ...extra, '--mode', 'static', '--calib', 'calib', '--force'],
        EXIT_CODES.OUTPUT_CONFLICT,
        /would replace the --calib file ".*input_0\.pb", which this run reads/,
      );
    }
    expect(await sha256(pb)).toBe(pbHash);
  });

  it('refuses to write the output over the input', async () => {
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'model.onnx', '--mode', 'dynamic'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /model\.onnx/,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', './sub/../model.onnx', '--mode', 'dynamic'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /model\.onnx/,
    );
  });

  it('says weight-only int8 runs slower in onnxruntime, and --weight-only-form fold writes the form it folds', async () => {
    const plain = await runCli(['quantize', 'model.onnx', '-o', 'w8.onnx', '--mode', 'weight-only'], {
      cwd: dir,
    });
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/speed +onnxruntime dequantizes these weights on every run/);
    const fold = await runCli(
      ['quantize', 'model.onnx', '-o', 'fold.onnx', '--mode', 'weight-only', '--weight-only-form', 'fold'],
      { cwd: dir },
    );
    expect(fold.code, fold.stderr).toBe(0);
    expect(fold.stdout).not.toMatch(/dequantizes these weights/);
    expect(fold.stdout).toMatch(/verified +ort-node loads it/);
    const inspect = JSON.parse((await runCli(['inspect', 'fold.onnx', '--json'], { cwd: dir })).stdout);
    expect(JSON.stringify(inspect)).not.toContain('DequantizeLinear');
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'x.onnx', '--mode', 'dynamic', '--weight-only-form', 'fold'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--weight-only-form fold is a form of weight-only codes: use --mode weight-only/,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'x.onnx', '--mode', 'weight-only', '--weight-only-form', 'cast'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--weight-only-form/,
    );
  });

  it('times the written model against the float one after verifying, unless --no-latency', async () => {
    const timed = await runCli(['quantize', 'model.onnx', '-o', 'a.onnx', '--mode', 'dynamic', '--json'], {
      cwd: dir,
    });
    expect(timed.code, timed.stderr).toBe(0);
    const latency = JSON.parse(timed.stdout).summary.verification.latency;
    expect(latency.rounds).toBeGreaterThanOrEqual(9);
    expect(latency.threads).toBe(1);
    expect(latency.ratio).toBeCloseTo(latency.quantizedMs / latency.floatMs, 10);
    const text = await runCli(['quantize', 'model.onnx', '-o', 'b.onnx', '--mode', 'dynamic'], { cwd: dir });
    expect(text.stdout).toMatch(
      /\n {2}latency {7}\d[\d.]* ms -> \d[\d.]* ms \(.*; 1 thread, \d+ rounds in turns\)/,
    );
    const untimed = await runCli(
      ['quantize', 'model.onnx', '-o', 'c.onnx', '--mode', 'dynamic', '--no-latency'],
      {
        cwd: dir,
      },
    );
    expect(untimed.code, untimed.stderr).toBe(0);
    expect(untimed.stdout).not.toMatch(/latency/);
  });

  it('runs the latency guard by default: what it keeps float is in the plan, the recipe and the summary', async () => {
    // What the guard keeps float depends on this machine's timings (latency-guard.test.ts pins it with a cost
    // model); here every outcome must be told consistently.
    const run = await runCli(['quantize', 'model.onnx', '-o', 'g.onnx', '--mode', 'dynamic', '--json'], {
      cwd: dir,
      latencyGuard: true,
    });
    expect(run.code, run.stderr).toBe(0);
    const { summary } = JSON.parse(run.stdout);
    const guard = summary.latencyGuard;
    expect(guard.ran).toBe(true);
    expect(guard.maxRatio).toBe(1);
    expect(guard.trials[0].reverted).toBe(0);
    expect(guard.trials[0].ratio).toBeGreaterThan(0);
    const reverted = guard.reverted.flatMap((region: { nodes: string[] }) => region.nodes);
    const keptByGuard = summary.nodes.filter((node: { reason: string }) =>
      node.reason.startsWith('kept float by the latency guard'),
    );
    expect(keptByGuard.map((node: { name: string }) => node.name).sort()).toEqual([...reverted].sort());
    expect((summary.recipe.keepFloat ?? []).map((entry: { node: string }) => entry.node)).toEqual(reverted);
    if (reverted.length > 0) expect(guard.trials.length).toBeGreaterThan(1);
    else expect(guard.trials).toHaveLength(1);
    // The written model records the same recipe.
    const inspect = await readModelFile(join(dir, 'g.onnx'));
    const recorded = JSON.parse(inspect.metadata.get('quantkit.recipe')!);
    expect(recorded.keepFloat ?? []).toEqual(summary.recipe.keepFloat ?? []);

    const off = await runCli(['quantize', 'model.onnx', '-o', 'h.onnx', '--mode', 'dynamic', '--json'], {
      cwd: dir,
    });
    expect(JSON.parse(off.stdout).summary.latencyGuard).toBeUndefined();
  });

  it('--bias-correction corrects the Gemm biases and says so, in static mode only', async () => {
    await writeCalibration('calib', 4, INPUT_SHAPE);
    const run = await runCli(
      ['quantize', 'model.onnx', '-o', 'a.onnx', '--calib', 'calib', '--bias-correction'],
      {
        cwd: dir,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^\s+bias {10}\d+ biases corrected for the mean shift of rounded weights \(largest \d+\.\d% of a layer's bias, 4 samples\)/m,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'x.onnx', '--mode', 'dynamic', '--bias-correction'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--bias-correction applies to --mode static only/,
    );
  });

  it('--finetune adaround learns 4-bit rounding from --calib and lists each layer; its settings are checked', async () => {
    await writeCalibration('calib', 4, INPUT_SHAPE);
    const args = ['quantize', 'model.onnx', '--mode', 'weight-only', '--bits', '4', '--calib', 'calib'];
    const run = await runCli(
      [...args, '-o', 'a.onnx', '--finetune', 'adaround', '--iters', '40', '--finetune-lr', '1e-2', '--json'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const { summary } = JSON.parse(run.stdout);
    expect(summary.recipe.finetune).toMatchObject({ method: 'adaround', iterations: 40, learningRate: 0.01 });
    expect(summary.finetune.samples).toBe(4);
    expect(summary.finetune.layers.length).toBeGreaterThan(0);
    for (const layer of summary.finetune.layers)
      expect(layer.errorAfter).toBeLessThanOrEqual(layer.errorBefore);
    expect(summary.verification).toBeDefined();
    const text = await runCli([...args, '-o', 'b.onnx', '--finetune', 'adaround', '--iters', '20'], {
      cwd: dir,
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^\s+finetune {6}adaround: \d+ layers x 20 steps on 4 samples/m);
    expect(text.stdout).toMatch(/^\s{4}\S+: output MSE \S+ -> \S+ \(\d+%\), \d+ codes changed/m);
    await expectFailure(
      [...args, '-o', 'x.onnx', '--iters', '10'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--iters needs --finetune adaround/,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'x.onnx', '--mode', 'weight-only', '--finetune', 'adaround'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--finetune adaround learns the rounding from calibration data: pass --calib <dir>/,
    );
    await expectFailure(
      [...args, '-o', 'x.onnx', '--finetune', 'adaround', '--quantizer', 'binary'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--finetune adaround.* quantizer "binary" is not linear/,
    );
    await expectFailure(
      [...args, '-o', 'x.onnx', '--finetune', 'adaround', '--finetune-lr', 'fast'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--finetune-lr must be a positive number/,
    );
    await expectFailure(
      [...args, '-o', 'x.onnx', '--finetune', 'bias-correction'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--finetune bias-correction applies to --mode static only/,
    );
  });

  it('keeps the most sensitive layers float under --min-sqnr and says which', async () => {
    // 2-bit weights fall far short of 30 dB: the floor keeps layers float until the output gets there.
    const run = await runCli(
      [
        'quantize',
        'model.onnx',
        '-o',
        'm.onnx',
        '--mode',
        'weight-only',
        '--bits',
        '2',
        '--min-sqnr',
        '30',
        '--json',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const { fidelity, recipe, nodes } = JSON.parse(run.stdout).summary;
    expect(fidelity.minSqnr).toBe(30);
    expect(fidelity.samples).toBe('random');
    expect(fidelity.sqnr).toBeLessThan(30);
    expect(fidelity.kept.length).toBeGreaterThan(0);
    expect(fidelity.finalSqnr).toBeGreaterThanOrEqual(30);
    const kept = fidelity.kept.flatMap((region: { nodes: string[] }) => region.nodes);
    expect(recipe.keepFloat.map((entry: { node: string }) => entry.node)).toEqual(kept);
    for (const name of kept) {
      expect(nodes.find((node: { name: string }) => node.name === name).reason).toMatch(
        /^kept float for the 30 dB/,
      );
    }
    const text = await runCli(
      ['quantize', 'model.onnx', '-o', 'n.onnx', '--mode', 'weight-only', '--bits', '2', '--min-sqnr', '30'],
      { cwd: dir },
    );
    expect(text.stdout).toMatch(
      /\n {2}min SQNR {6}output -?\d+\.\d dB < 30 dB on random samples: kept float the \d+ most/,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'x.onnx', '--mode', 'dynamic', '--min-sqnr', '30dB'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--min-sqnr must be a number of dB, got "30dB"/,
    );
  });

  it('refuses an existing output without --force, and replaces it with --force', async () => {
    await writeFile(join(dir, 'out.onnx'), 'precious');
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /--force/,
    );
    expect(await readFile(join(dir, 'out.onnx'), 'utf8')).toBe('precious');
    const run = await runCli(['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic', '--force'], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(0);
    expect((await readFile(join(dir, 'out.onnx'))).length).toBeGreaterThan(1000);
  });

  it('refuses -o naming a folder or ending in /, with and without --force, and never touches the folder', async () => {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'outdir'));
    await writeFile(join(dir, 'outdir', 'keep.onnx'), 'precious');
    const folder = /-o outdir\/? is a folder; give the output file name, e\.g\. outdir\/model\.int8\.onnx$/;
    for (const output of ['outdir', 'outdir/']) {
      for (const force of [[], ['--force']]) {
        await expectFailure(
          ['quantize', 'model.onnx', '-o', output, '--mode', 'dynamic', ...force],
          EXIT_CODES.INVALID_ARGUMENT,
          folder,
        );
      }
    }
    expect(await listDir(join(dir, 'outdir'))).toEqual(['keep.onnx']);
    expect(await readFile(join(dir, 'outdir', 'keep.onnx'), 'utf8')).toBe('precious');
    // A folder that does not exist yet: the trailing / still says it is one.
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'newdir/', '--mode', 'dynamic'],
      EXIT_CODES.INVALID_ARGUMENT,
      /-o newdir\/ ends with \/, so it names a folder; give the output file name, e\.g\. newdir\/model\.int8\.onnx$/,
    );
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic', '--report', 'outdir', '--force'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--report outdir is a folder; give the output file name, e\.g\. outdir\/report\.html$/,
    );
  });

  it('refuses a --report path that would overwrite the input before writing anything', async () => {
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic', '--report', 'model.onnx'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /--report/,
    );
  });

  it('prints errors as one JSON object on stdout with --json', async () => {
    const run = await runCli(['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'fast', '--json'], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(EXIT_CODES.INVALID_ARGUMENT);
    const parsed = JSON.parse(run.stdout);
    expect(parsed).toEqual({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('--mode') },
    });
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('quantkit quantize: a third-party model', () => {
  it.each([
    'dynamic',
    'weight-only',
  ])('quantizes hello_deepa.onnx in %s mode; inspect and compare read the result', async (mode) => {
    const inputHash = await sha256(model);
    const run = await runCli(
      ['quantize', 'model.onnx', '-o', 'q.onnx', '--mode', mode, '--json', '--report', 'report.json'],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.ok).toBe(true);
    expect(result.summary.mode).toBe(mode);
    const outputBytes = (await readFile(join(dir, 'q.onnx'))).length;
    expect(result.summary.sizeAfter).toBe(outputBytes);
    expect(result.summary.sizeBefore).toBe((await readFile(model)).length);
    expect(result.summary.sizeAfter).toBeLessThan(result.summary.sizeBefore);
    expect(result.summary.nodes.some((node: { quantized: boolean }) => node.quantized)).toBe(true);
    expect(await sha256(model)).toBe(inputHash);
    expect(await listDir(dir)).toEqual(['model.onnx', 'q.onnx', 'report.json']);
    const report = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
    expect(report.kind).toBe('quantkit-report');
    expect(report.summary.nodes).toEqual(result.summary.nodes);
    // No --calib: the CLI gave the report seeded random inputs, and says so.
    expect(result.reportData).toEqual({ kind: 'random', seed: 1 });
    expect(report.samples).toBe(8);
    const gemms = result.summary.nodes.filter(
      (node: { opType: string; quantized: boolean }) => node.quantized,
    );
    expect(report.layers.map((layer: { node: string }) => layer.node).sort()).toEqual(
      gemms.map((node: { name: string }) => node.name).sort(),
    );
    const nodeNames = (layers: { node: string }[]) => layers.map((layer) => layer.node).sort();
    expect(nodeNames(result.flaggedLayers)).toEqual(
      nodeNames(report.layers.filter((layer: { flagged: boolean }) => layer.flagged)),
    );

    const inspect = JSON.parse((await runCli(['inspect', 'q.onnx', '--json'], { cwd: dir })).stdout);
    expect(inspect.ok).toBe(true);
    expect(inspect.quantizedNodeCount).toBeGreaterThan(0);
    expect(inspect.weightOps.some((op: { lowBit: boolean }) => op.lowBit)).toBe(true);
    expect(JSON.parse(inspect.metadata['quantkit.recipe']).mode).toBe(mode);
    expect(inspect.weightBytes).toBe(result.summary.weightBytesAfter);

    const compare = await runCli(['compare', 'model.onnx', 'q.onnx', '--samples', '4', '--json'], {
      cwd: dir,
    });
    expect(compare.code, compare.stderr).toBe(0);
    const metrics = JSON.parse(compare.stdout);
    expect(metrics.samples).toBe(4);
    expect(metrics.data).toEqual({ kind: 'random', seed: 1 });
    const [output] = metrics.outputs;
    expect(output.output).toBe('39');
    // int8 weights keep a float model's output close; 15 dB is a loose floor, far below typical int8 quality.
    expect(output.sqnr).toBeGreaterThan(15);
    expect(output.cosine).toBeGreaterThan(0.9);
  });

  it('prints a human summary of sizes and of what stayed float, honouring repeated and comma-separated --exclude', async () => {
    // hello_deepa has three Gemm nodes: /layer1/Gemm, /blocks.0/fcn_layer/Gemm and /last_layer/Gemm.
    const run = await runCli(
      [
        'quantize',
        'model.onnx',
        '-o',
        'q.onnx',
        '--mode',
        'dynamic',
        '--exclude',
        '/layer1/*,Sigmoid',
        '--exclude',
        '/last_layer/Gemm',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/model size\s+\S+ \w+ -> \S+ \w+ \(\d+\.\d+x smaller\)/);
    expect(run.stdout).toMatch(/^\s+quantized\s+Gemm x1$/m);
    expect(run.stdout).toMatch(/^\s+kept float\s+\S/m);
    expect(run.stdout).toMatch(/Gemm x1: excluded by "\/layer1\/\*"/);
    expect(run.stdout).toMatch(/Gemm x1: excluded by "\/last_layer\/Gemm"/);
  });

  it('quantizes statically with calibration data and counts the samples', async () => {
    // A small model built here: static calibration runs every intermediate output through onnxruntime.
    const weight = createTensor(
      'float32',
      [4, 3],
      Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 7),
    );
    const small = createModel({
      opset: 17,
      inputs: [['x', 'float32', [1, 4]]],
      outputs: [['y', 'float32', [1, 3]]],
      initializers: { weight },
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'weight'], outputs: ['h'] },
        { opType: 'Relu', inputs: ['h'], outputs: ['y'] },
      ],
    });
    await writeFile(join(dir, 'small.onnx'), encodeModel(small));
    await writeCalibration('calib', 3, [1, 4]);
    const run = await runCli(
      ['quantize', 'small.onnx', '-o', 'q.onnx', '--calib', 'calib', '--calib-samples', '2', '--json'],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).summary.calibrationSamples).toBe(2);
    const compare = JSON.parse(
      (await runCli(['compare', 'small.onnx', 'q.onnx', '--data', 'calib', '--json'], { cwd: dir })).stdout,
    );
    expect(compare.samples).toBe(3);
    expect(compare.outputs[0].cosine).toBeGreaterThan(0.99);
  });

  it('--emit fake-quant writes a float model with Q/DQ that quantize brings back, keeping its scales', async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes({ batch: 1 }));
    await writeNpyFolder(join(dir, 'calib'), 4, [1, MLP_FEATURES]);
    const fake = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'fake.onnx',
        '--mode',
        'static',
        '--calib',
        'calib',
        '--emit',
        'fake-quant',
      ],
      { cwd: dir },
    );
    expect(fake.code, fake.stderr).toBe(0);
    expect(fake.stdout).toMatch(/fake-quant \(float weights behind Q\/DQ\)/);
    const written = await readModelFile(join(dir, 'fake.onnx'));
    for (const [, tensor] of written.graph.initializers)
      if (tensor.shape.length >= 2) expect(tensor.dtype).toBe('float32');
    const back = await runCli(
      ['quantize', 'fake.onnx', '-o', 'back.onnx', '--mode', 'static', '--calib', 'calib', '--no-latency'],
      { cwd: dir },
    );
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/QAT model {5}kept from the model: \d+ activation and 2 weight Q\/DQ points/);
    expect(back.stdout).toMatch(/added by quantkit: nothing/);
    expect(back.stdout).toMatch(/calibration {3}none needed: every activation range came from the model/);
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'dyn.onnx', '--mode', 'dynamic', '--emit', 'fake-quant'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--emit fake-quant.*--mode/,
      join(dir, 'mlp.onnx'),
    );
  });

  it('quantizes hello_deepa.onnx statically', async () => {
    await writeCalibration('calib', 2, INPUT_SHAPE);
    const run = await runCli(['quantize', 'model.onnx', '-o', 'q.onnx', '--calib', 'calib', '--json'], {
      cwd: dir,
    });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).summary.calibrationSamples).toBe(2);
  });

  it('is deterministic: two runs write byte-identical files', async () => {
    const first = await runCli(['quantize', 'model.onnx', '-o', 'a.onnx', '--mode', 'dynamic'], { cwd: dir });
    const second = await runCli(['quantize', 'model.onnx', '-o', 'b.onnx', '--mode', 'dynamic'], {
      cwd: dir,
    });
    expect([first.code, second.code]).toEqual([0, 0]);
    expect(await sha256(join(dir, 'a.onnx'))).toBe(await sha256(join(dir, 'b.onnx')));
  });
});

describe('quantkit quantize: calibration caches, batching, overrides and reports', () => {
  const mlp = () => join(dir, 'mlp.onnx');

  beforeEach(async () => {
    await writeFile(mlp(), mlpModelBytes());
    await writeNpyFolder(join(dir, 'calib'), 9, [1, MLP_FEATURES]);
  });

  async function quantizeOk(args: string[]) {
    const run = await runCli(['quantize', ...args], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    return run;
  }

  it('--save-calib then --load-calib writes a byte-identical model without the data', async () => {
    const saved = await quantizeOk([
      'mlp.onnx',
      '-o',
      'a.onnx',
      '--calib',
      'calib',
      '--save-calib',
      'ranges.json',
    ]);
    expect(saved.stdout).toMatch(/^\s+saved ranges\s+ranges\.json/m);
    const cache = JSON.parse(await readFile(join(dir, 'ranges.json'), 'utf8'));
    expect(cache.kind).toBe('quantkit-calibration-cache');
    expect(cache.samples).toBe(9);

    const loaded = await quantizeOk(['mlp.onnx', '-o', 'b.onnx', '--load-calib', 'ranges.json', '--json']);
    expect(JSON.parse(loaded.stdout).summary.calibrationSamples).toBe(9);
    const [a, b] = await Promise.all([readFile(join(dir, 'a.onnx')), readFile(join(dir, 'b.onnx'))]);
    expect(b.equals(a)).toBe(true);
    // With saved ranges there is no data, so a report compares on random inputs and says what that means.
    const human = await quantizeOk([
      'mlp.onnx',
      '-o',
      'c.onnx',
      '--load-calib',
      'ranges.json',
      '--report',
      'r.json',
    ]);
    expect(human.stdout).toMatch(/calibration\s+9 samples \(ranges from ranges\.json\)/);
    expect(human.stdout).toMatch(
      /^\s+report data\s+random inputs \(seed 1;.*ranges from --load-calib are judged on them/m,
    );
    expect(JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')).samples).toBe(8);
  });

  it('--calib-method auto reports what it compared and records what it chose', async () => {
    const auto = await quantizeOk([
      'mlp.onnx',
      '-o',
      'b.onnx',
      '--calib',
      'calib',
      '--calib-method',
      'auto',
      '--json',
    ]);
    const { calibrationChoice, recipe } = JSON.parse(auto.stdout).summary;
    // A folder is read afresh, not held out: the candidates are compared on its first samples.
    expect(calibrationChoice.heldOut).toBe(0);
    expect(calibrationChoice.candidates).toHaveLength(4);
    expect(recipe.calibrationMethod).toBe(calibrationChoice.chosen);
  });

  it('refuses a --load-calib cache made for another model, naming the cache file', async () => {
    await quantizeOk(['mlp.onnx', '-o', 'a.onnx', '--calib', 'calib', '--save-calib', 'ranges.json']);
    await writeFile(join(dir, 'deep.onnx'), mlpModelBytes({ deeper: true }));
    await expectFailure(
      ['quantize', 'deep.onnx', '-o', 'd.onnx', '--load-calib', 'ranges.json'],
      EXIT_CODES.CALIBRATION_DATA,
      /--load-calib .*ranges\.json.* different model/,
      join(dir, 'deep.onnx'),
    );
  });

  it('refuses a missing --load-calib file and an existing --save-calib file, naming the flag', async () => {
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'q.onnx', '--load-calib', 'nowhere.json'],
      EXIT_CODES.NOT_FOUND,
      /--load-calib.*nowhere\.json/,
      mlp(),
    );
    await writeFile(join(dir, 'ranges.json'), 'precious');
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'q.onnx', '--calib', 'calib', '--save-calib', 'ranges.json'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /--save-calib "ranges\.json" already exists; pass --force/,
      mlp(),
    );
    expect(await readFile(join(dir, 'ranges.json'), 'utf8')).toBe('precious');
  });

  it('--calib-batch 4 runs batches on a symbolic batch dim, with the same ranges as one sample at a time', async () => {
    await quantizeOk(['mlp.onnx', '-o', 'one.onnx', '--calib', 'calib']);
    await quantizeOk(['mlp.onnx', '-o', 'four.onnx', '--calib', 'calib', '--calib-batch', '4']);
    // minmax ranges do not depend on how the samples are grouped, so the models must match byte for byte.
    const [one, four] = await Promise.all([
      readFile(join(dir, 'one.onnx')),
      readFile(join(dir, 'four.onnx')),
    ]);
    expect(four.equals(one)).toBe(true);
  });

  it('refuses --calib-batch 4 on a model with a fixed batch dimension', async () => {
    await writeFile(join(dir, 'fixed.onnx'), mlpModelBytes({ batch: 1 }));
    await expectFailure(
      ['quantize', 'fixed.onnx', '-o', 'q.onnx', '--calib', 'calib', '--calib-batch', '4'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--calib-batch 4 needs a symbolic batch dimension.*"x"/,
      join(dir, 'fixed.onnx'),
    );
  });

  it('--overrides keeps a node float and the summary says why', async () => {
    await writeFile(join(dir, 'overrides.json'), JSON.stringify({ nodes: { fc2: { float: true } } }));
    const run = await quantizeOk([
      'mlp.onnx',
      '-o',
      'q.onnx',
      '--calib',
      'calib',
      '--overrides',
      'overrides.json',
    ]);
    // fc1 (and the Relu after it) are quantized; fc2 stays float, for the reason the override gives.
    expect(run.stdout).toMatch(/^\s+quantized\s+MatMul x1, Relu x1$/m);
    expect(run.stdout).toMatch(/^\s+kept float\s+MatMul x1: kept float by override "fc2"$/m);
    const json = await quantizeOk([
      'mlp.onnx',
      '-o',
      'd.onnx',
      '--mode',
      'dynamic',
      '--overrides',
      'overrides.json',
      '--json',
    ]);
    const fc2 = JSON.parse(json.stdout).summary.nodes.find((node: { name: string }) => node.name === 'fc2');
    expect(fc2).toMatchObject({ quantized: false, reason: 'kept float by override "fc2"' });
  });

  it.each([
    ['{"nodes": {"fc2": {"flaot": true}}}', /--overrides file "bad\.json": .*"flaot"/],
    ['{"nodes": ', /--overrides file "bad\.json" is not valid JSON/],
  ])('refuses a malformed overrides file %s with exit 2, naming the file', async (text, pattern) => {
    await writeFile(join(dir, 'bad.json'), text);
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'q.onnx', '--mode', 'dynamic', '--overrides', 'bad.json'],
      EXIT_CODES.INVALID_ARGUMENT,
      pattern,
      mlp(),
    );
  });

  it('--report out.html writes a page with the report embedded; the summary lists the worst layers', async () => {
    const run = await quantizeOk(['mlp.onnx', '-o', 'q.onnx', '--calib', 'calib', '--report', 'out.html']);
    const html = await readFile(join(dir, 'out.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    const report = parseReportHtml(html);
    expect(report.layers.map((layer) => layer.node).sort()).toEqual(['fc1', 'fc2']);
    // The calibration folder is the report's data: 9 samples, of which --report-samples (8) are compared.
    expect(report.samples).toBe(8);
    expect(run.stdout).toMatch(/^\s+report\s+out\.html \(2 layers compared on 8 samples, \d+ flagged\)$/m);
    expect(run.stdout).not.toMatch(/random inputs/);
    const worst = [...report.layers].sort((a, b) => a.sqnr - b.sqnr)[0]!;
    expect(run.stdout).toMatch(
      new RegExp(`^\\s+worst layers\\s+${worst.node}\\s+${worst.sqnr.toFixed(2)} dB`, 'm'),
    );
    expect(await listDir(dir)).toEqual(['calib', 'mlp.onnx', 'model.onnx', 'out.html', 'q.onnx']);
  });

  it('--report out.json writes the JSON report; without --calib it compares on random inputs and says so', async () => {
    const run = await quantizeOk([
      'mlp.onnx',
      '-o',
      'q.onnx',
      '--mode',
      'dynamic',
      '--report',
      'out.json',
      '--report-samples',
      '3',
    ]);
    expect(run.stdout).toMatch(/^\s+report data\s+random inputs \(seed 1;/m);
    const report = JSON.parse(await readFile(join(dir, 'out.json'), 'utf8'));
    expect(report.kind).toBe('quantkit-report');
    expect(report.samples).toBe(3);
    expect(report.layers.length).toBeGreaterThan(0);
    for (const layer of report.layers)
      expect(layer).toMatchObject({ node: expect.any(String), flagged: expect.any(Boolean) });
  });

  it('--report in dynamic mode compares on --calib data when given', async () => {
    const run = await quantizeOk([
      'mlp.onnx',
      '-o',
      'q.onnx',
      '--mode',
      'dynamic',
      '--calib',
      'calib',
      '--report',
      'out.json',
      '--json',
    ]);
    const result = JSON.parse(run.stdout);
    expect(result.reportData).toEqual({ kind: 'folder', dir: 'calib' });
    expect(result.report).toBe('out.json');
    expect(JSON.parse(await readFile(join(dir, 'out.json'), 'utf8')).samples).toBe(8);
  });

  it('refuses an existing --report file before doing any work, naming the flag', async () => {
    await writeFile(join(dir, 'out.json'), 'precious');
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'q.onnx', '--calib', 'calib', '--report', 'out.json'],
      EXIT_CODES.OUTPUT_CONFLICT,
      /--report "out\.json" already exists; pass --force/,
      mlp(),
    );
  });
});

describe('quantkit quantize: precisions and formats', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes());
    await writeNpyFolder(join(dir, 'calib'), 6, [1, MLP_FEATURES]);
  });

  async function opsAndDtypes(file: string) {
    const inspect = JSON.parse((await runCli(['inspect', file, '--json'], { cwd: dir })).stdout);
    return JSON.stringify(inspect);
  }

  it('--mode dynamic on an opset-9 Conv says in the human summary that it ran as weight-only', async () => {
    const next = createPrng(5);
    const weight = (shape: number[]) =>
      createTensor(
        'float32',
        shape,
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => next() - 0.5),
      );
    const opset9 = createModel({
      opset: 9,
      inputs: [['x', 'float32', [1, 2, 8, 8]]],
      outputs: [['y', 'float32', [1, 4]]],
      initializers: { cw: weight([4, 2, 3, 3]), cb: weight([4]), mw: weight([144, 4]) },
      nodes: [
        {
          name: 'conv',
          opType: 'Conv',
          inputs: ['x', 'cw', 'cb'],
          outputs: ['c'],
          attributes: { kernel_shape: [3, 3] },
        },
        { name: 'flat', opType: 'Flatten', inputs: ['c'], outputs: ['f'] },
        { name: 'fc', opType: 'MatMul', inputs: ['f', 'mw'], outputs: ['y'] },
      ],
    });
    await writeFile(join(dir, 'opset9.onnx'), encodeModel(opset9));
    const run = await runCli(['quantize', 'opset9.onnx', '-o', 'q.onnx', '--mode', 'dynamic'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^ {2}note {10}Conv x1 ran as weight-only, not dynamic: weights stored in int8 \(DynamicQuantizeLinear needs opset 11; the model has opset 9\)$/m,
    );
    // The MatMul did become an integer operator: it is not in the note.
    expect(run.stdout).not.toMatch(/note.*MatMul/);
  });

  it('--activation-bits 16 writes 16-bit activation Q/DQ, --format qoperator integer operators', async () => {
    const a16 = await runCli(
      ['quantize', 'mlp.onnx', '-o', 'a16.onnx', '--calib', 'calib', '--activation-bits', '16'],
      { cwd: dir },
    );
    expect(a16.code, a16.stderr).toBe(0);
    expect(await opsAndDtypes('a16.onnx')).toMatch(/uint16/);
    const qop = await runCli(
      ['quantize', 'mlp.onnx', '-o', 'qop.onnx', '--calib', 'calib', '--format', 'qoperator'],
      { cwd: dir },
    );
    expect(qop.code, qop.stderr).toBe(0);
    expect(await opsAndDtypes('qop.onnx')).toMatch(/QGemm|QLinearMatMul/);
  });

  it('refuses precision flags outside their range or mode', async () => {
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'x.onnx', '--calib', 'calib', '--activation-bits', '12'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--activation-bits/,
      join(dir, 'mlp.onnx'),
    );
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'x.onnx', '--mode', 'dynamic', '--activation-bits', '16'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--mode static only/,
      join(dir, 'mlp.onnx'),
    );
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'x.onnx', '--mode', 'weight-only', '--weight-range', 'best'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--weight-range/,
      join(dir, 'mlp.onnx'),
    );
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'x.onnx', '--mode', 'weight-only', '--format', 'qoperator'],
      EXIT_CODES.INVALID_ARGUMENT,
      /integer compute/,
      join(dir, 'mlp.onnx'),
    );
  });
});

describe('quantkit quantize: targets and float precisions', () => {
  const mlp = () => join(dir, 'mlp.onnx');
  beforeEach(async () => {
    await writeFile(mlp(), mlpModelBytes());
    await writeNpyFolder(join(dir, 'calib'), 6, [1, MLP_FEATURES]);
  });

  async function inspectJson(file: string) {
    const run = await runCli(['inspect', file, '--json'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  }

  it('--target gpu-tensorrt writes int8 activation zero points, records the target, and check passes', async () => {
    const run = await runCli(
      ['quantize', 'mlp.onnx', '-o', 'trt.onnx', '--calib', 'calib', '--target', 'gpu-tensorrt', '--json'],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.target).toEqual({ name: 'gpu-tensorrt', detected: false, reason: 'named with --target' });
    expect(result.summary.recipe.target).toBe('gpu-tensorrt');

    // Activations are what QuantizeLinear nodes quantize (weights are stored as codes); TensorRT takes int8 only.
    const graph = (await readModelFile(join(dir, 'trt.onnx'))).graph;
    const activationZeroPoints = graph.nodes
      .filter((node) => node.opType === 'QuantizeLinear')
      .map((node) => node.inputs[2] ?? '');
    expect(activationZeroPoints.length).toBeGreaterThan(0);
    const inspect = await inspectJson('trt.onnx');
    const dtypes = new Map(
      inspect.initializers.map((tensor: { name: string; dtype: string }) => [tensor.name, tensor.dtype]),
    );
    for (const name of activationZeroPoints) expect(dtypes.get(name), name).toBe('int8');
    expect(inspect.provenance['quantkit.target']).toBe('gpu-tensorrt');
    expect(inspect.quantkit).toEqual({ version: expect.any(String), target: 'gpu-tensorrt', mode: 'static' });
    const text = await runCli(['inspect', 'trt.onnx'], { cwd: dir });
    expect(text.stdout).toMatch(/^quantized by quantkit: target gpu-tensorrt, mode static, /m);

    const check = await runCli(['check', 'trt.onnx', '--target', 'gpu-tensorrt'], { cwd: dir });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/^trt\.onnx fits target gpu-tensorrt \(named with --target\): 0 errors, /m);
  });

  it('--target auto (the default) plans for the detected host target and says why', async () => {
    const host = await selectHostTarget();
    const run = await runCli(['quantize', 'mlp.onnx', '-o', 'q.onnx', '--mode', 'dynamic'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^  target +${host.target.name} \\(detected: \\S`, 'm'));
    const json = await runCli(
      ['quantize', 'mlp.onnx', '-o', 'q2.onnx', '--mode', 'dynamic', '--target', 'auto', '--json'],
      { cwd: dir },
    );
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.target).toEqual({ name: host.target.name, detected: true, reason: host.reason });
    expect(result.summary.recipe.target).toBe(host.target.name);
  });

  it('prints the compatibility warnings after the summary, one line each', async () => {
    // int8 activations run on onnxruntime-web, only slower than the uint8 ones its profile asks for.
    const run = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'w.onnx',
        '--calib',
        'calib',
        '--target',
        'wasm',
        '--activation-symmetric',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    const first = lines.findIndex((line) => line.startsWith('warning ['));
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(0, first).some((line) => line.startsWith('  calibration'))).toBe(true);
    for (const line of lines.slice(first)) expect(line).toMatch(/^warning \[activation-types\] .* Fix: /);
    const json = JSON.parse(
      (
        await runCli(
          [
            'quantize',
            'mlp.onnx',
            '-o',
            'w2.onnx',
            '--calib',
            'calib',
            '--target',
            'wasm',
            '--activation-symmetric',
            '--json',
          ],
          { cwd: dir },
        )
      ).stdout,
    );
    expect(json.summary.warnings).toHaveLength(lines.length - first);
  });

  it('--mode float writes float16 weights that stay within 60 dB of the original', async () => {
    const run = await runCli(['quantize', 'mlp.onnx', '-o', 'fp16.onnx', '--mode', 'float'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^quantized mlp\.onnx -> fp16\.onnx \(float, fp16 weights\)/);
    const inspect = await inspectJson('fp16.onnx');
    const weights = inspect.initializers.filter((tensor: { name: string }) => /^w\d/.test(tensor.name));
    expect(weights.length).toBe(2);
    for (const weight of weights) expect(weight.dtype).toBe('float16');
    const compare = await runCli(['compare', 'mlp.onnx', 'fp16.onnx', '--json'], { cwd: dir });
    expect(compare.code, compare.stderr).toBe(0);
    // fp16 rounds each value to 11 significant bits (relative error <= 2^-11, 66 dB); 60 dB allows for the sums.
    expect(JSON.parse(compare.stdout).outputs[0].sqnr).toBeGreaterThanOrEqual(60);
  });

  it('--mode data-free quantizes a BatchNorm network with no data and says where its ranges came from', async () => {
    const next = createPrng(9);
    const weight = (shape: number[], scale = 0.5) =>
      createTensor(
        'float32',
        shape,
        Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() - 0.5) * scale),
      );
    const positive = (shape: number[]) =>
      createTensor(
        'float32',
        shape,
        Float32Array.from({ length: shape[0]! }, () => 0.5 + next()),
      );
    const node = (name: string, opType: string, inputs: string[], outputs: string[]) => ({
      name,
      opType,
      inputs,
      outputs,
    });
    const model = createModel({
      opset: 13,
      inputs: [['x', 'float32', [1, 3, 8, 8]]],
      outputs: [['y', 'float32', [1, 4, 8, 8]]],
      initializers: {
        w1: weight([8, 3, 1, 1]),
        scale: positive([8]),
        shift: weight([8], 1),
        mean: weight([8], 0.1),
        variance: positive([8]),
        w2: weight([4, 8, 1, 1]),
        b2: weight([4], 0.1),
      },
      nodes: [
        node('conv1', 'Conv', ['x', 'w1'], ['c1']),
        node('bn', 'BatchNormalization', ['c1', 'scale', 'shift', 'mean', 'variance'], ['b1']),
        node('relu', 'Relu', ['b1'], ['r1']),
        node('conv2', 'Conv', ['r1', 'w2', 'b2'], ['y']),
      ],
    });
    await writeFile(join(dir, 'bn.onnx'), encodeModel(model));
    const run = await runCli(['quantize', 'bn.onnx', '-o', 'df.onnx', '--mode', 'data-free'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^quantized bn\.onnx -> df\.onnx \(data-free, /);
    expect(run.stdout).toMatch(
      /data-free {5}1 layer pair equalized \(\d+ sweeps?\), \d+ bias(es)? absorbed, 1 bias corrected analytically \(1 BatchNorm read\)/,
    );
    expect(run.stdout).toMatch(
      /ranges {8}estimated without data: 1 from BatchNorm statistics \(mean \+- 6 std\), 2 measured on 8 random inputs/,
    );
    const compare = await runCli(['compare', 'bn.onnx', 'df.onnx', '--json'], { cwd: dir });
    expect(compare.code, compare.stderr).toBe(0);
    expect(JSON.parse(compare.stdout).outputs[0].sqnr).toBeGreaterThanOrEqual(25);
    const stray = await runCli(
      ['quantize', 'bn.onnx', '-o', 'df2.onnx', '--mode', 'data-free', '--calib-method', 'entropy'],
      { cwd: dir },
    );
    expect(stray.code).not.toBe(0);
    expect(stray.stderr).toMatch(/--calib-method is used only with --mode static, not --mode data-free/);
  });

  it('q4f16 (--mode weight-only --granularity block --bits 4 --float fp16) writes 4-bit MatMulNBits and fp16', async () => {
    const run = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'q4f16.onnx',
        '--mode',
        'weight-only',
        '--granularity',
        'block',
        '--bits',
        '4',
        '--float',
        'fp16',
        '--json',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).summary.recipe).toMatchObject({
      bits: 4,
      granularity: 'block',
      floatPrecision: 'fp16',
    });
    const inspect = await inspectJson('q4f16.onnx');
    expect(inspect.ops.map((op: { opType: string }) => op.opType)).toContain('MatMulNBits');
    expect(inspect.weightBytesByDtype.float16).toBeGreaterThan(0);
    expect(inspect.weightBytesByDtype.float32).toBeUndefined();
    const compare = await runCli(['compare', 'mlp.onnx', 'q4f16.onnx', '--samples', '2', '--json'], {
      cwd: dir,
    });
    expect(compare.code, compare.stderr).toBe(0);
  });

  it('refuses --float fp8 on an opset-13 model naming the flag and the opset, and fp8 outside --mode float', async () => {
    // hello_deepa.onnx imports opset 13; float8 DequantizeLinear needs 19.
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'fp8.onnx', '--mode', 'float', '--float', 'fp8-e4m3fn'],
      EXIT_CODES.UNSUPPORTED,
      /--float fp8-e4m3fn: .*opset 19.*opset 13/,
    );
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'fp8.onnx', '--mode', 'dynamic', '--float', 'fp8-e4m3fn'],
      EXIT_CODES.INVALID_ARGUMENT,
      /--float fp8-e4m3fn stores weights in fp8: use --mode float/,
      mlp(),
    );
  });
});

describe('quantkit quantize: low-bit quantizers', () => {
  beforeEach(async () => {
    await writeFile(join(dir, 'mlp.onnx'), mlpModelBytes({ deeper: true }));
  });

  it('--quantizer binary --bits 1 keeps the first and last layers int8, --no-keep-first-last does not', async () => {
    const kept = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'b.onnx',
        '--mode',
        'weight-only',
        '--quantizer',
        'binary',
        '--bits',
        '1',
        '--json',
      ],
      { cwd: dir },
    );
    expect(kept.code, kept.stderr).toBe(0);
    const reasons = (JSON.parse(kept.stdout).summary.nodes as { reason: string }[]).map((n) => n.reason);
    expect(reasons.filter((r) => r.startsWith('weights kept in int8')).length).toBe(2);
    const all = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'c.onnx',
        '--mode',
        'weight-only',
        '--quantizer',
        'binary',
        '--bits',
        '1',
        '--no-keep-first-last',
        '--json',
      ],
      { cwd: dir },
    );
    expect(all.code, all.stderr).toBe(0);
    expect(
      (JSON.parse(all.stdout).summary.nodes as { reason: string }[]).some((n) =>
        n.reason.startsWith('weights kept'),
      ),
    ).toBe(false);
  });

  it('--format packed with the log quantizer writes ai.quantkit ops; with the linear one it is refused', async () => {
    const run = await runCli(
      [
        'quantize',
        'mlp.onnx',
        '-o',
        'p.onnx',
        '--mode',
        'weight-only',
        '--quantizer',
        'log',
        '--bits',
        '4',
        '--format',
        'packed',
      ],
      { cwd: dir },
    );
    expect(run.code, run.stderr).toBe(0);
    const inspect = await runCli(['inspect', 'p.onnx', '--json'], { cwd: dir });
    expect(inspect.stdout).toMatch(/ai\.quantkit/);
    await expectFailure(
      ['quantize', 'mlp.onnx', '-o', 'q.onnx', '--mode', 'weight-only', '--format', 'packed'],
      EXIT_CODES.UNSUPPORTED,
      /no packed form/,
      join(dir, 'mlp.onnx'),
    );
  });
});
