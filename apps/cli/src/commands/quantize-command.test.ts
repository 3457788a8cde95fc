import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '@quantkit/calibration';
import { createTensor } from '@quantkit/core';
import { createModel, encodeModel } from '@quantkit/onnx';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../exit-codes.js';
import { createPrng } from '../random-samples.js';
import { listDir, makeTempDir, runCli, sha256, wakeWordModelPath } from '../testing/cli-harness.js';
import { formatQuantizeSummary, parseQuantizeFlags } from './quantize-command.js';

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
async function expectFailure(args: string[], code: number, pattern: RegExp) {
  const before = await listDir(dir);
  const inputHash = await sha256(model);
  const run = await runCli(args, { cwd: dir });
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^quantkit: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(await listDir(dir)).toEqual(before);
  expect(await sha256(model)).toBe(inputHash);
  return run;
}

describe('parseQuantizeFlags', () => {
  it('maps flags to options and leaves unset ones to the pipeline defaults', () => {
    const request = parseQuantizeFlags({
      output: 'out.onnx',
      mode: 'static',
      calib: 'calib',
      bits: '4',
      granularity: 'tensor',
      asymmetric: true,
      exclude: ['Conv', '*head*'],
      calibSamples: '3',
    });
    expect(request.options).toEqual({
      mode: 'static',
      bits: 4,
      granularity: 'tensor',
      symmetric: false,
      exclude: ['Conv', '*head*'],
    });
    expect(request.calibrationDir).toBe('calib');
    expect(request.calibrationLimit).toBe(3);
    expect(parseQuantizeFlags({ output: 'o', mode: 'dynamic' }).options).toEqual({ mode: 'dynamic' });
  });

  it.each([
    [{ mode: 'fast' }, /--mode must be "static", "dynamic" or "weight-only", got "fast"/],
    [{ mode: 'dynamic', bits: '99' }, /--bits must be an integer from 2 to 16, got "99"/],
    [{ mode: 'dynamic', bits: '8.5' }, /--bits must be an integer/],
    [{ mode: 'dynamic', granularity: 'row' }, /--granularity must be "tensor", "channel" or "block"/],
    [{ mode: 'dynamic', blockSize: '32' }, /--block-size needs --granularity block/],
    [{ mode: 'dynamic', symmetric: true, asymmetric: true }, /not both/],
    [{ mode: 'static' }, /pass --calib <dir>, or use --mode dynamic or --mode weight-only/],
    [{ mode: 'dynamic', calib: 'x' }, /--calib is used only with --mode static/],
    [{ mode: 'dynamic', format: 'onnx' }, /--format must be "qdq"/],
  ])('rejects %o', (flags, pattern) => {
    expect(() => parseQuantizeFlags({ output: 'o', ...flags })).toThrow(pattern);
  });

  it('rejects a target that does not exist yet with UNSUPPORTED, listing the valid ones', () => {
    expect(() => parseQuantizeFlags({ output: 'o', mode: 'dynamic', target: 'x86-vnni' })).toThrow(
      expect.objectContaining({ code: 'UNSUPPORTED', message: expect.stringContaining('"auto"') }),
    );
    expect(parseQuantizeFlags({ output: 'o', mode: 'dynamic', target: 'auto' }).options.mode).toBe('dynamic');
  });
});

describe('formatQuantizeSummary', () => {
  it('prints sizes with ratios and groups float ops by reason', () => {
    const recipe = {
      mode: 'dynamic',
      quantizer: 'linear',
      bits: 8,
      granularity: 'channel',
      blockSize: undefined,
      symmetric: true,
      activationSymmetric: false,
      calibrationMethod: 'minmax',
      format: 'qdq',
      exclude: [],
    } as const;
    const lines = formatQuantizeSummary('in.onnx', 'out.onnx', {
      mode: 'dynamic',
      recipe,
      sizeBefore: 1000,
      sizeAfter: 250,
      weightBytesBefore: 800,
      weightBytesAfter: 1600,
      calibrationSamples: 0,
      nodes: [
        { name: 'a', opType: 'MatMul', quantized: true, reason: '' },
        { name: 'b', opType: 'MatMul', quantized: true, reason: '' },
        { name: 'c', opType: 'Relu', quantized: false, reason: 'Relu has no quantized form' },
        { name: 'd', opType: 'Add', quantized: false, reason: 'Add has no quantized form' },
        { name: 'e', opType: 'Gemm', quantized: false, reason: 'excluded by "Gemm"' },
      ],
    });
    expect(lines).toEqual([
      'quantized in.onnx -> out.onnx (dynamic, linear int8 per-channel symmetric weights)',
      '  model size    1000 B -> 250 B (4.00x smaller)',
      '  weight bytes  800 B -> 1.6 KiB (2.00x larger)',
      '  quantized     MatMul x2',
      '  kept float    Relu x1, Add x1: has no quantized form',
      '                Gemm x1: excluded by "Gemm"',
    ]);
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
    [['--mode', 'fast'], /--mode must be "static", "dynamic" or "weight-only", got "fast"/],
    [['--mode', 'dynamic', '--bits', '99'], /--bits must be an integer from 2 to 16, got "99"/],
    [['--mode', 'dynamic', '--granularity', 'row'], /--granularity/],
    [['--mode', 'dynamic', '--quantizer', 'nonesuch'], /--quantizer must be "linear"/],
  ])('refuses flag values %o', async (flags, pattern) => {
    const code = flags.includes('--quantizer') ? EXIT_CODES.PLUGIN_NOT_FOUND : EXIT_CODES.INVALID_ARGUMENT;
    await expectFailure(['quantize', 'model.onnx', '-o', 'out.onnx', ...flags], code, pattern);
  });

  it('refuses an unknown --target, listing the valid ones', async () => {
    await expectFailure(
      ['quantize', 'model.onnx', '-o', 'out.onnx', '--mode', 'dynamic', '--target', 'x86-vnni'],
      EXIT_CODES.UNSUPPORTED,
      /--target "x86-vnni".*"auto"/,
    );
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
    expect(report.nodes).toEqual(result.summary.nodes);

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
