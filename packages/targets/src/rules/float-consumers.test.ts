import { createTensor } from '@quantkit/core';
import { createModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { floatConsumersRule } from './float-consumers.js';

/** Softmax -> Q -> DQ -> tail: a Q/DQ pair between two float ops, which only costs time and accuracy. */
function floatSandwich(tail: string) {
  return createModel({
    opset: 13,
    inputs: [['x', 'float32', [1, 4]]],
    outputs: [['y', 'float32', [1, 4]]],
    initializers: {
      s: createTensor('float32', [], Float32Array.of(0.01)),
      z: createTensor('int8', [], Int8Array.of(0)),
    },
    nodes: [
      { name: 'head', opType: 'Softmax', inputs: ['x'], outputs: ['p'] },
      { name: 'q', opType: 'QuantizeLinear', inputs: ['p', 's', 'z'], outputs: ['p_q'] },
      { name: 'dq', opType: 'DequantizeLinear', inputs: ['p_q', 's', 'z'], outputs: ['p_dq'] },
      { name: 'tail', opType: tail, inputs: ['p_dq'], outputs: ['y'] },
    ],
  });
}

describe('float-consumers', () => {
  it('warns about a Q/DQ pair between float ops the target does not run quantized', () => {
    const findings = runRule(floatConsumersRule, floatSandwich('Softmax'), gpuTensorrtTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', node: 'tail' });
    expect(findings[0]!.message).toContain('Softmax "tail" reads dequantized "p_dq"');
  });

  it("does not warn at the edge of a quantized region: a float op reading a quantized Conv's output", () => {
    expect(
      runRule(floatConsumersRule, qdqConvModel({ activation: 'int8', tail: 'Softmax' }), gpuTensorrtTarget),
    ).toEqual([]);
  });

  it('passes ops the target runs quantized', () => {
    expect(runRule(floatConsumersRule, qdqConvModel({ tail: 'Softmax' }), x86VnniTarget)).toEqual([]);
    expect(
      runRule(floatConsumersRule, qdqConvModel({ activation: 'int8', tail: 'Relu' }), gpuTensorrtTarget),
    ).toEqual([]);
  });

  it('does not take a weight unpacked from bytes (codes computed from constants) for an activation Q/DQ', () => {
    // Low-bit weight-only codes: packed bytes -> BitShift -> Reshape -> DequantizeLinear -> a float op, with no
    // QuantizeLinear anywhere: the op computes in float by design, and the DQ is its weight.
    const model = createModel({
      opset: 13,
      inputs: [['x', 'float32', [1, 4]]],
      outputs: [['y', 'float32', [1, 4]]],
      initializers: {
        bytes: createTensor('uint8', [4], Uint8Array.of(1, 2, 3, 4)),
        shift: createTensor('uint8', [], Uint8Array.of(1)),
        s: createTensor('float32', [], Float32Array.of(0.01)),
        z: createTensor('uint8', [], Uint8Array.of(2)),
        shape: createTensor('int64', [1], BigInt64Array.of(4n)),
      },
      nodes: [
        {
          name: 'unpack',
          opType: 'BitShift',
          inputs: ['bytes', 'shift'],
          outputs: ['shifted'],
          attributes: { direction: 'RIGHT' },
        },
        { name: 'flat', opType: 'Reshape', inputs: ['shifted', 'shape'], outputs: ['codes'] },
        { name: 'dq', opType: 'DequantizeLinear', inputs: ['codes', 's', 'z'], outputs: ['w'] },
        { name: 'tail', opType: 'Div', inputs: ['x', 'w'], outputs: ['y'] },
      ],
    });
    expect(runRule(floatConsumersRule, model, gpuTensorrtTarget)).toEqual([]);
  });
});
