import { describe, expect, it } from 'vitest';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqModel, runRule } from '../test-models.js';
import { float8OpsetRule } from './float8-opset.js';

describe('float8-opset', () => {
  it('flags float8 Q/DQ below opset 19', () => {
    for (const dtype of ['float8e4m3fn', 'float8e5m2'] as const) {
      const findings = runRule(float8OpsetRule, qdqModel({ opset: 18, dtype }), x86VnniTarget);
      expect(findings.map((f) => f.node)).toEqual(['q', 'dq']);
      expect(findings[0]!.message).toContain(`${dtype} codes`);
    }
  });

  it('passes float8 at opset 19 and int8 below it', () => {
    expect(runRule(float8OpsetRule, qdqModel({ opset: 19, dtype: 'float8e4m3fn' }), x86VnniTarget)).toEqual([]);
    expect(runRule(float8OpsetRule, qdqModel({ opset: 18, dtype: 'int8' }), x86VnniTarget)).toEqual([]);
  });
});
