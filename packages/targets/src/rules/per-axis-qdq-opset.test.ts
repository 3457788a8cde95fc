import { describe, expect, it } from 'vitest';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, qdqModel, runRule } from '../test-models.js';
import { perAxisQdqOpsetRule } from './per-axis-qdq-opset.js';

describe('per-axis-qdq-opset', () => {
  it('flags per-channel ONNX DequantizeLinear below opset 13 (axis attribute and 1-D scale)', () => {
    const findings = runRule(perAxisQdqOpsetRule, qdqConvModel({ opset: 12 }), x86VnniTarget);
    expect(findings.map((f) => f.node)).toEqual(['dq_w', 'dq_b']);
    expect(findings[0]!.message).toMatch(/DequantizeLinear "dq_w" has an axis attribute.*opset 12/);
    const noAxis = runRule(perAxisQdqOpsetRule, qdqModel({ opset: 12, dtype: 'uint8', scales: 3 }), x86VnniTarget);
    expect(noAxis.map((f) => f.node)).toEqual(['q', 'dq']);
    expect(noAxis[0]!.message).toContain('has 3 scales');
  });

  it('passes opset 13, per-tensor scales, and the com.microsoft forms', () => {
    expect(runRule(perAxisQdqOpsetRule, qdqConvModel({ opset: 13 }), x86VnniTarget)).toEqual([]);
    expect(runRule(perAxisQdqOpsetRule, qdqConvModel({ opset: 12, perChannel: false }), x86VnniTarget)).toEqual([]);
    expect(runRule(perAxisQdqOpsetRule, qdqConvModel({ opset: 11, domain: 'com.microsoft' }), x86VnniTarget)).toEqual([]);
  });
});
