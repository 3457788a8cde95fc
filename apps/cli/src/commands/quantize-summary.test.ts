import { resolveRecipe } from '@quantkit/quantize';
import { wasmTarget } from '@quantkit/targets';
import { describe, expect, it } from 'vitest';
import { formatQuantizeSummary } from './quantize-summary.js';

/** What the plan says of a Conv that dynamic mode stores weight-only below opset 11 (see planDynamic). */
const WEIGHT_ONLY_CONV =
  'weights stored in int8 (DynamicQuantizeLinear needs opset 11; the model has opset 9)';

describe('formatQuantizeSummary', () => {
  it('prints sizes with ratios and groups float ops by reason', () => {
    const recipe = resolveRecipe({ mode: 'dynamic' });
    const lines = formatQuantizeSummary('in.onnx', 'out.onnx', {
      mode: 'dynamic',
      recipe,
      sizeBefore: 1000,
      sizeAfter: 250,
      weightBytesBefore: 800,
      weightBytesAfter: 1600,
      calibrationSamples: 0,
      calibrationThreads: 0,
      warnings: [],
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

  it('tells what the latency guard kept float, and when it had nothing it could keep', () => {
    const summary = {
      mode: 'static' as const,
      recipe: resolveRecipe({ mode: 'static' }),
      sizeBefore: 1000,
      sizeAfter: 300,
      weightBytesBefore: 800,
      weightBytesAfter: 200,
      calibrationSamples: 4,
      calibrationThreads: 1,
      warnings: [],
      nodes: [],
    };
    const reverted = formatQuantizeSummary('in.onnx', 'out.onnx', {
      ...summary,
      latencyGuard: {
        ran: true,
        maxRatio: 1,
        regions: 5,
        reverted: [
          { nodes: ['a', 'b'], score: 10 },
          { nodes: ['c'], score: 20 },
        ],
        trials: [
          { reverted: 0, ratio: 1.25 },
          { reverted: 2, ratio: 0.96 },
          { reverted: 1, ratio: 1.04 },
        ],
        ratio: 0.96,
      },
    });
    expect(reverted.at(-1)).toBe(
      '  latency guard 2 of 5 quantized regions kept float (3 nodes): 1.25x -> 0.96x the float latency, 3 timings; ' +
        '--no-latency-guard keeps them quantized',
    );
    const bodies = formatQuantizeSummary('in.onnx', 'out.onnx', {
      ...summary,
      latencyGuard: {
        ran: true,
        maxRatio: 1,
        regions: 0,
        reverted: [],
        trials: [{ reverted: 0, ratio: 1.1 }],
        ratio: 1.1,
      },
    });
    expect(bodies.at(-1)).toBe(
      '  latency guard 1.10x the float latency, but no quantized region it could keep float',
    );
    const fine = formatQuantizeSummary('in.onnx', 'out.onnx', {
      ...summary,
      latencyGuard: {
        ran: true,
        maxRatio: 1,
        reverted: [],
        trials: [{ reverted: 0, ratio: 0.8 }],
        ratio: 0.8,
      },
    });
    expect(fine.join('\n')).not.toMatch(/latency guard/);
  });

  it('words a verification reason that names an option with its flag', () => {
    const lines = formatQuantizeSummary('in.onnx', 'out.onnx', {
      mode: 'dynamic',
      recipe: resolveRecipe({ mode: 'dynamic' }),
      sizeBefore: 1000,
      sizeAfter: 250,
      weightBytesBefore: 800,
      weightBytesAfter: 200,
      calibrationSamples: 0,
      calibrationThreads: 0,
      warnings: [],
      nodes: [],
      verification: {
        verified: false,
        reason: 'no sample to run: pass calibrationData with real inputs',
        reasonParts: ['no sample to run: pass ', { option: 'calibrationData' }, ' with real inputs'],
      },
    });
    expect(lines.at(-1)).toBe('  not verified  no sample to run: pass --calib with real inputs');
  });

  it('says plainly which nodes dynamic or static mode ran as weight-only, from their decisions', () => {
    const summary = (mode: 'dynamic' | 'static' | 'weight-only') => ({
      mode,
      recipe: resolveRecipe({ mode }),
      sizeBefore: 1000,
      sizeAfter: 500,
      weightBytesBefore: 800,
      weightBytesAfter: 200,
      calibrationSamples: 0,
      calibrationThreads: 0,
      warnings: [],
      nodes: [
        { name: 'conv', opType: 'Conv', quantized: true, reason: WEIGHT_ONLY_CONV },
        { name: 'conv2', opType: 'Conv', quantized: true, reason: WEIGHT_ONLY_CONV },
        {
          name: 'fc',
          opType: 'MatMul',
          quantized: true,
          reason: 'int8 compute, activations quantized at run time',
        },
        { name: 'relu', opType: 'Relu', quantized: false, reason: 'Relu has no dynamically quantized form' },
      ],
    });
    const lines = formatQuantizeSummary('in.onnx', 'out.onnx', summary('dynamic'));
    expect(lines).toContain(`  note          Conv x2 ran as weight-only, not dynamic: ${WEIGHT_ONLY_CONV}`);
    expect(lines.filter((line) => line.includes('weight-only'))).toHaveLength(1);
    expect(formatQuantizeSummary('in.onnx', 'out.onnx', summary('static'))).toContain(
      `  note          Conv x2 ran as weight-only, not static: ${WEIGHT_ONLY_CONV}`,
    );
    // In weight-only mode that is what was asked for: no note.
    expect(formatQuantizeSummary('in.onnx', 'out.onnx', summary('weight-only')).join('\n')).not.toMatch(
      /note/,
    );
  });

  it('names the target and why, and says "converted" in float mode', () => {
    const recipe = resolveRecipe({ mode: 'float', floatPrecision: 'bf16' });
    const summary = {
      mode: 'float' as const,
      recipe,
      sizeBefore: 400,
      sizeAfter: 200,
      weightBytesBefore: 400,
      weightBytesAfter: 200,
      calibrationSamples: 0,
      calibrationThreads: 0,
      warnings: [],
      nodes: [{ name: 'a', opType: 'MatMul', quantized: true, reason: '' }],
    };
    const detected = formatQuantizeSummary('in.onnx', 'out.onnx', summary, {
      target: { target: wasmTarget, detected: true, reason: 'wasm matches the host (browser, WASM SIMD)' },
    });
    expect(detected.slice(0, 2)).toEqual([
      'quantized in.onnx -> out.onnx (float, bf16 weights)',
      '  target        wasm (detected: matches the host (browser, WASM SIMD))',
    ]);
    expect(detected).toContain('  converted     MatMul x1');
    const named = formatQuantizeSummary('in.onnx', 'out.onnx', summary, {
      target: { target: wasmTarget, detected: false, reason: 'named with --target' },
    });
    expect(named[1]).toBe('  target        wasm (named with --target)');
  });

  it('says what data-free quantization did and where each range came from', () => {
    const recipe = resolveRecipe({ mode: 'data-free', dataFree: { deviations: 4 } });
    const lines = formatQuantizeSummary('in.onnx', 'out.onnx', {
      mode: 'data-free',
      recipe,
      sizeBefore: 400,
      sizeAfter: 100,
      weightBytesBefore: 400,
      weightBytesAfter: 100,
      calibrationSamples: 0,
      calibrationThreads: 0,
      warnings: [],
      nodes: [{ name: 'a', opType: 'Conv', quantized: true, reason: '' }],
      dataFree: {
        batchNormStatistics: 1,
        equalizedPairs: 1,
        equalizationSweeps: 3,
        biasesAbsorbed: 2,
        absorptionSkippedForPadding: 1,
        biasesCorrected: 1,
        rangeSources: { 'batch-norm': 3, propagated: 1, random: 2, fixed: 1 },
        ranges: {},
        randomSamples: 1,
      },
    });
    expect(lines).toContain(
      '  data-free     1 layer pair equalized (3 sweeps), 2 biases absorbed (1 skipped: the next layer pads), ' +
        '1 bias corrected analytically (1 BatchNorm read)',
    );
    expect(lines).toContain(
      '  ranges        estimated without data: 3 from BatchNorm statistics (mean +- 4 std), 1 carried from those, ' +
        '1 fixed by overrides, 2 measured on 1 random input (no statistics)',
    );
  });
});
