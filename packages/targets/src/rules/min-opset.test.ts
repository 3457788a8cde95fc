import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { qdqModel, runRule } from '../test-models.js';
import { minOpsetRule } from './min-opset.js';

describe('min-opset', () => {
  it('flags a quantized model below the target minimum', () => {
    const findings = runRule(minOpsetRule, qdqModel({ opset: 12, dtype: 'int8' }), gpuTensorrtTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]!.message).toContain('opset 12; gpu-tensorrt needs opset 13');
  });

  it('passes the minimum opset', () => {
    expect(runRule(minOpsetRule, qdqModel({ opset: 13, dtype: 'int8' }), gpuTensorrtTarget)).toEqual([]);
  });
});
