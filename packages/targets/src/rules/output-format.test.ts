import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { integerOpModel, qdqConvModel, runRule } from '../test-models.js';
import { outputFormatRule } from './output-format.js';

describe('output-format', () => {
  it('flags QOperator ops on a QDQ-only target', () => {
    const findings = runRule(
      outputFormatRule,
      integerOpModel('MatMulInteger', 'int8', 'int8'),
      gpuTensorrtTarget,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', node: 'integer_op' });
    expect(findings[0]!.fix).toEqual([
      're-quantize with ',
      { option: 'target', value: 'gpu-tensorrt' },
      ' ',
      { option: 'format', value: 'qdq' },
    ]);
  });

  it('passes QDQ models on it, and QOperator ops where the target runs them', () => {
    expect(runRule(outputFormatRule, qdqConvModel({ activation: 'int8' }), gpuTensorrtTarget)).toEqual([]);
    expect(
      runRule(outputFormatRule, integerOpModel('MatMulInteger', 'uint8', 'int8'), x86VnniTarget),
    ).toEqual([]);
  });
});
