import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { floatConsumersRule } from './float-consumers.js';

describe('float-consumers', () => {
  it('warns about an op the target does not run quantized behind a DequantizeLinear', () => {
    const findings = runRule(floatConsumersRule, qdqConvModel({ activation: 'int8', tail: 'Softmax' }), gpuTensorrtTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', node: 'tail' });
    expect(findings[0]!.message).toContain('Softmax "tail" reads dequantized "c_dq"');
  });

  it('passes ops the target runs quantized', () => {
    expect(runRule(floatConsumersRule, qdqConvModel({ tail: 'Softmax' }), x86VnniTarget)).toEqual([]);
    expect(runRule(floatConsumersRule, qdqConvModel({ activation: 'int8', tail: 'Relu' }), gpuTensorrtTarget)).toEqual([]);
  });
});
