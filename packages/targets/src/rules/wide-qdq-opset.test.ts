import type { DType } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqModel, runRule } from '../test-models.js';
import { wideQdqOpsetRule } from './wide-qdq-opset.js';

const WIDE: DType[] = ['int4', 'uint4', 'int16', 'uint16'];

describe('wide-qdq-opset', () => {
  it('flags 4- and 16-bit ONNX Q/DQ below opset 21', () => {
    for (const dtype of WIDE) {
      const findings = runRule(wideQdqOpsetRule, qdqModel({ opset: 19, dtype }), x86VnniTarget);
      expect(findings.map((f) => f.node)).toEqual(['q', 'dq']);
      expect(findings[0]!.message).toContain(`${dtype} codes`);
      expect(findings[0]!.fix).toContain('com.microsoft');
    }
  });

  it('passes them at opset 21, in the com.microsoft domain, and 8-bit codes at any opset', () => {
    for (const dtype of WIDE) {
      expect(runRule(wideQdqOpsetRule, qdqModel({ opset: 21, dtype }), x86VnniTarget)).toEqual([]);
      expect(runRule(wideQdqOpsetRule, qdqModel({ opset: 13, dtype, domain: 'com.microsoft' }), x86VnniTarget)).toEqual([]);
    }
    expect(runRule(wideQdqOpsetRule, qdqModel({ opset: 13, dtype: 'int8' }), x86VnniTarget)).toEqual([]);
  });
});
