import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { wasmTarget } from '../profiles/wasm.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { integerOpModel, runRule } from '../test-models.js';
import { ortIntegerKernelsRule } from './ort-integer-kernels.js';

describe('ort-integer-kernels', () => {
  it('flags s8 x s8 ConvInteger on wasm and on onnxruntime CPU, naming the node', () => {
    for (const target of [wasmTarget, x86VnniTarget]) {
      const findings = runRule(ortIntegerKernelsRule, integerOpModel('ConvInteger', 'int8', 'int8'), target);
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject({ severity: 'error', node: 'integer_op' });
      expect(findings[0]!.message).toContain('ConvInteger "integer_op" multiplies int8 x int8');
      expect(findings[0]!.fix).toContain('uint8');
    }
  });

  it('flags u8 x s8 ConvInteger and s8 x u8 MatMulInteger', () => {
    expect(runRule(ortIntegerKernelsRule, integerOpModel('ConvInteger', 'uint8', 'int8'), wasmTarget)).toHaveLength(1);
    expect(runRule(ortIntegerKernelsRule, integerOpModel('MatMulInteger', 'int8', 'uint8'), wasmTarget)).toHaveLength(1);
  });

  it('passes the pairs onnxruntime has kernels for, and targets that are not onnxruntime', () => {
    expect(runRule(ortIntegerKernelsRule, integerOpModel('ConvInteger', 'uint8', 'uint8'), wasmTarget)).toEqual([]);
    for (const [a, w] of [['uint8', 'int8'], ['int8', 'int8'], ['uint8', 'uint8']] as const) {
      expect(runRule(ortIntegerKernelsRule, integerOpModel('MatMulInteger', a, w), wasmTarget)).toEqual([]);
    }
    expect(runRule(ortIntegerKernelsRule, integerOpModel('ConvInteger', 'int8', 'int8'), gpuTensorrtTarget)).toEqual([]);
  });
});
