import { describe, expect, it } from 'vitest';
import { hisiliconLogTarget } from '../profiles/hisilicon-log.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqModel, runRule } from '../test-models.js';
import { quantizationMethodRule } from './quantization-method.js';

describe('quantization-method', () => {
  it('flags linear Q/DQ on the log-domain target', () => {
    const findings = runRule(quantizationMethodRule, qdqModel({ opset: 13, dtype: 'int8' }), hisiliconLogTarget);
    expect(findings.map((f) => f.node)).toEqual(['q', 'dq']);
    expect(findings[0]!.message).toContain('runs log-domain codes only');
  });

  it('passes linear Q/DQ on linear targets', () => {
    expect(runRule(quantizationMethodRule, qdqModel({ opset: 13, dtype: 'int8' }), x86VnniTarget)).toEqual([]);
  });
});
