import { createTensor } from '@quantkit/core';
import { createModel, decodeModel } from '@quantkit/onnx';
import { readModelFile } from '@quantkit/onnx/node';
import { openWakeWordModel } from '@quantkit/test-kit';
import { describe, expect, it } from 'vitest';
import { inspectModel, isQuantizedOp } from './inspect-model.js';
import { quantizeModel } from './quantize-model.js';

describe('isQuantizedOp', () => {
  it.each([
    'QuantizeLinear',
    'DequantizeLinear',
    'QLinearConv',
    'QLinearMatMul',
    'MatMulInteger',
    'ConvInteger',
    'DynamicQuantizeLinear',
  ])('%s is a quantized op', (op) => expect(isQuantizedOp({ opType: op, domain: '' })).toBe(true));
  it.each([
    'MatMulNBits',
    'QGemm',
    'QLinearAdd',
    'DynamicQuantizeMatMul',
  ])('com.microsoft %s is a quantized op', (op) =>
    expect(isQuantizedOp({ opType: op, domain: 'com.microsoft' })).toBe(true));
  it.each(['Conv', 'MatMul', 'Gemm', 'Relu', 'Quantize'])('%s is not', (op) =>
    expect(isQuantizedOp({ opType: op, domain: '' })).toBe(false));
});

describe('inspectModel', () => {
  it('agrees with the decoded graph on a float model', async () => {
    const model = await readModelFile(openWakeWordModel('hello_deepa.onnx'));
    const report = inspectModel(model);
    expect(report.nodeCount).toBe(model.graph.nodes.length);
    expect(report.ops.reduce((sum, op) => sum + op.count, 0)).toBe(model.graph.nodes.length);
    expect(report.quantizedNodeCount).toBe(0);
    expect(report.quantkit).toBeNull();
    // A float32 model stores 4 bytes per weight element.
    const elements = [...model.graph.initializers.values()].reduce((sum, t) => sum + t.data.length, 0);
    expect(report.weightBytesByDtype['float32']).toBe(4 * elements);
    expect(report.weightOps.length).toBeGreaterThan(0);
    for (const op of report.weightOps.filter((op) => op.weight !== null)) {
      expect(op).toMatchObject({ dtype: 'float32', bits: 32, lowBit: false });
    }
    expect(report.inputs).toEqual([{ name: 'onnx::Flatten_0', dtype: 'float32', shape: [1, 25, 96] }]);
  });
});

describe('inspectModel on built graphs', () => {
  it('reports the stored width of weights packed several to a byte, and counts their bytes', async () => {
    const weights = Float32Array.from({ length: 64 * 32 }, (_, i) => Math.sin(i) * 0.5);
    const float = createModel({
      opset: 13,
      inputs: [['x', 'float32', [1, 64]]],
      outputs: [['y', 'float32', [1, 32]]],
      initializers: { w: createTensor('float32', [64, 32], weights) },
      nodes: [{ name: 'mm', opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    const { bytes } = await quantizeModel(float, { mode: 'weight-only', bits: 4 });
    const report = inspectModel(decodeModel(bytes));
    const mm = report.weightOps.find((op) => op.name === 'mm')!;
    expect(mm).toMatchObject({ bits: 4, via: 'dequantize', lowBit: true });
    // 2048 codes at two per byte, plus 32 scales and zero points.
    expect(report.weightBytes).toBeLessThan(2048 / 2 + 400);
  });

  it('traces weights through DequantizeLinear and layout ops, and reads MatMulNBits bits', () => {
    const model = createModel({
      opset: 21,
      extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
      inputs: [['x', 'float32', ['batch', 4]]],
      outputs: [
        ['y', 'float32', ['batch', 2]],
        ['z', 'float32', ['batch', 2]],
        ['p', 'float32', ['batch', 4]],
      ],
      initializers: {
        wq: createTensor('int8', [2, 4], new Int8Array(8)),
        scale: createTensor('float32', [], new Float32Array([0.1])),
        zero: createTensor('int8', [], new Int8Array(1)),
        packed: createTensor('uint8', [2, 1, 2], new Uint8Array(4)),
        nscale: createTensor('float32', [2], new Float32Array(2)),
      },
      nodes: [
        { opType: 'DequantizeLinear', inputs: ['wq', 'scale', 'zero'], outputs: ['wdq'], name: 'dq' },
        { opType: 'Transpose', inputs: ['wdq'], outputs: ['wt'], name: 't', attributes: { perm: [1, 0] } },
        { opType: 'MatMul', inputs: ['x', 'wt'], outputs: ['y'], name: 'mm_qdq' },
        {
          opType: 'MatMulNBits',
          domain: 'com.microsoft',
          inputs: ['x', 'packed', 'nscale'],
          outputs: ['z'],
          name: 'mm_nbits',
          attributes: { K: 4, N: 2, bits: 4, block_size: 16 },
        },
        { opType: 'Mul', inputs: ['x', 'x'], outputs: ['sq'], name: 'square' },
        { opType: 'MatMul', inputs: ['sq', 'sq'], outputs: ['p'], name: 'mm_computed' },
      ],
    });
    model.metadata.set('quantkit.recipe', JSON.stringify({ mode: 'static', bits: 8 }));
    const report = inspectModel(model);
    expect(report.weightOps).toEqual([
      {
        name: 'mm_qdq',
        opType: 'MatMul',
        weight: 'wq',
        dtype: 'int8',
        bits: 8,
        via: 'dequantize',
        lowBit: true,
      },
      {
        name: 'mm_nbits',
        opType: 'MatMulNBits',
        weight: 'packed',
        dtype: 'uint8',
        bits: 4,
        via: 'initializer',
        lowBit: true,
      },
      {
        name: 'mm_computed',
        opType: 'MatMul',
        weight: null,
        dtype: null,
        bits: null,
        via: 'computed',
        lowBit: false,
      },
    ]);
    expect(report.quantizedNodeCount).toBe(2);
    expect(report.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['batch', 4] }]);
    // 8 int8 + 1 float32 + 1 int8 + 4 uint8 + 2 float32 elements.
    expect(report.weightBytesByDtype).toEqual({ int8: 9, float32: 12, uint8: 4 });
    expect(report.provenance).toEqual({ 'quantkit.recipe': { mode: 'static', bits: 8 } });
    expect(report.quantkit).toEqual({ version: null, target: null, mode: 'static' });
    model.metadata.set('quantkit.target', 'wasm');
    expect(inspectModel(model).quantkit).toEqual({ version: null, target: 'wasm', mode: 'static' });
    expect(report.opsets).toEqual([
      { domain: '', version: 21 },
      { domain: 'com.microsoft', version: 1 },
    ]);
  });
});
