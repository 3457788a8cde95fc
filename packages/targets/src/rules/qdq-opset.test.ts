import { describe, expect, it } from 'vitest';
import { arm64Target } from '../profiles/arm64.js';
import { qdqModel, runRule } from '../test-models.js';
import { qdqOpsetRule } from './qdq-opset.js';

describe('qdq-opset', () => {
  it('flags ONNX QuantizeLinear/DequantizeLinear below opset 10', () => {
    const findings = runRule(qdqOpsetRule, qdqModel({ opset: 9, dtype: 'uint8' }), arm64Target);
    expect(findings.map((f) => [f.node, f.severity])).toEqual([
      ['q', 'error'],
      ['dq', 'error'],
    ]);
    expect(findings[0]!.message).toContain('opset 9');
  });

  it('passes opset 10 and the com.microsoft forms below it', () => {
    expect(runRule(qdqOpsetRule, qdqModel({ opset: 10, dtype: 'uint8' }), arm64Target)).toEqual([]);
    expect(runRule(qdqOpsetRule, qdqModel({ opset: 9, dtype: 'uint8', domain: 'com.microsoft' }), arm64Target)).toEqual([]);
  });
});
