import { describe, expect, it } from 'vitest';
import { parseQuantizeFlags } from './quantize-flags.js';

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
    expect(request.reportSamples).toBe(8);
    expect(parseQuantizeFlags({ output: 'o', mode: 'dynamic' }).options).toEqual({ mode: 'dynamic' });
  });

  it.each([
    [{ mode: 'fast' }, /--mode must be "static", "dynamic", "weight-only", "float" or "data-free", got "fast"/],
    [
      { mode: 'float', float: 'fp32' },
      /--float must be "fp16", "bf16", "fp8-e4m3fn" or "fp8-e5m2", got "fp32"/,
    ],
    [{ mode: 'dynamic', bits: '99' }, /--bits must be an integer from 1 to 16, got "99"/],
    [{ mode: 'dynamic', bits: '8.5' }, /--bits must be an integer/],
    [{ mode: 'dynamic', granularity: 'row' }, /--granularity must be "tensor", "channel" or "block"/],
    [{ mode: 'dynamic', blockSize: '32' }, /--block-size needs --granularity block/],
    [{ mode: 'dynamic', symmetric: true, asymmetric: true }, /not both/],
    [
      { mode: 'static' },
      /pass --calib <dir> or --load-calib <file>, or use --mode dynamic or --mode weight-only/,
    ],
    [
      { mode: 'dynamic', calib: 'x', calibSamples: '3' },
      /--calib-samples is used only with --mode static, not --mode dynamic/,
    ],
    [{ calib: 'c', loadCalib: 'r.json' }, /--calib <dir> or --load-calib <file>, not both: choose one/],
    [{ loadCalib: 'r.json', calibBatch: '4' }, /--calib-batch applies to --calib <dir>, not --load-calib/],
    [{ mode: 'dynamic', saveCalib: 'r.json' }, /--save-calib is used only with --mode static/],
    [{ mode: 'weight-only', loadCalib: 'r.json' }, /--load-calib is used only with --mode static/],
    [{ mode: 'dynamic', calibBatch: '2' }, /--calib-batch is used only with --mode static/],
    [{ calib: 'c', calibBatch: '0' }, /--calib-batch must be an integer >= 1, got "0"/],
    [{ mode: 'dynamic', reportSamples: '4' }, /--report-samples needs --report/],
    [{ mode: 'dynamic', report: 'r.json', reportSamples: 'x' }, /--report-samples must be an integer >= 1/],
    [{ mode: 'dynamic', format: 'onnx' }, /--format must be "qdq"/],
  ])('rejects %o', (flags, pattern) => {
    expect(() => parseQuantizeFlags({ output: 'o', ...flags })).toThrow(pattern);
  });

  it('takes --load-calib instead of --calib in static mode, and --calib as report data in the other modes', () => {
    const loaded = parseQuantizeFlags({
      output: 'o',
      loadCalib: 'r.json',
      saveCalib: 's.json',
      overrides: 'ov.json',
    });
    expect(loaded.options.mode).toBe('static');
    expect([loaded.loadCalibration, loaded.saveCalibration, loaded.overrides]).toEqual([
      'r.json',
      's.json',
      'ov.json',
    ]);
    expect(loaded.calibrationDir).toBeUndefined();
    const dynamic = parseQuantizeFlags({
      output: 'o',
      mode: 'dynamic',
      calib: 'c',
      report: 'r.html',
      reportSamples: '3',
    });
    expect([dynamic.calibrationDir, dynamic.report, dynamic.reportSamples]).toEqual(['c', 'r.html', 3]);
    expect(parseQuantizeFlags({ output: 'o', calib: 'c', calibBatch: '4' }).calibrationBatch).toBe(4);
  });

  it('passes --target through for the registry to check ("auto" when not given) and maps --float', () => {
    expect(parseQuantizeFlags({ output: 'o', mode: 'dynamic', target: 'gpu-tensorrt' }).target).toBe(
      'gpu-tensorrt',
    );
    expect(parseQuantizeFlags({ output: 'o', mode: 'dynamic' }).target).toBe('auto');
    // The pipeline decides which modes take which precision; the flag is only mapped here.
    expect(parseQuantizeFlags({ output: 'o', mode: 'weight-only', float: 'fp16' }).options).toEqual({
      mode: 'weight-only',
      floatPrecision: 'fp16',
    });
    expect(
      parseQuantizeFlags({ output: 'o', mode: 'dynamic', float: 'fp8-e5m2' }).options.floatPrecision,
    ).toBe('fp8-e5m2');
  });
});
