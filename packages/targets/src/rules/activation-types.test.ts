import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { activationTypesRule } from './activation-types.js';

describe('activation-types', () => {
  it('flags u8 activations on gpu-tensorrt as errors', () => {
    const findings = runRule(activationTypesRule, qdqConvModel({ activation: 'uint8' }), gpuTensorrtTarget);
    expect(findings.map((f) => [f.node, f.severity])).toEqual([
      ['q_in', 'error'],
      ['q_out', 'error'],
    ]);
    expect(findings[0]!.message).toContain('to uint8; gpu-tensorrt runs int8 activations');
  });

  it('flags asymmetric int8 activations on gpu-tensorrt', () => {
    const findings = runRule(activationTypesRule, qdqConvModel({ activation: 'int8', activationZeroPoint: 5 }), gpuTensorrtTarget);
    expect(findings).toHaveLength(2);
    expect(findings[0]!.message).toContain('zero point 5');
  });

  it('warns (not errors) about s8 activations on x86, where onnxruntime falls back', () => {
    const findings = runRule(activationTypesRule, qdqConvModel({ activation: 'int8' }), x86VnniTarget);
    expect(findings.map((f) => f.severity)).toEqual(['warning', 'warning']);
  });

  it('passes the preferred activations of each target', () => {
    expect(runRule(activationTypesRule, qdqConvModel({ activation: 'int8' }), gpuTensorrtTarget)).toEqual([]);
    expect(runRule(activationTypesRule, qdqConvModel({ activation: 'uint8', activationZeroPoint: 3 }), x86VnniTarget)).toEqual([]);
  });
});
