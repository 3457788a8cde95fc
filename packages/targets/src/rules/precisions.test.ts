import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { hisiliconLogTarget } from '../profiles/hisilicon-log.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqModel, runRule } from '../test-models.js';
import { precisionsRule } from './precisions.js';

describe('precisions', () => {
  it('flags int16 Q/DQ on gpu-tensorrt and float8 on hisilicon-log', () => {
    const int16 = runRule(precisionsRule, qdqModel({ opset: 21, dtype: 'int16' }), gpuTensorrtTarget);
    expect(int16.map((f) => [f.node, f.severity])).toEqual([
      ['q', 'error'],
      ['dq', 'error'],
    ]);
    expect(int16[0]!.message).toContain('does not run int16-activation');
    expect(runRule(precisionsRule, qdqModel({ opset: 19, dtype: 'float8e5m2' }), hisiliconLogTarget)).toHaveLength(2);
  });

  it('passes precisions the target lists', () => {
    expect(runRule(precisionsRule, qdqModel({ opset: 21, dtype: 'int16' }), x86VnniTarget)).toEqual([]);
    expect(runRule(precisionsRule, qdqModel({ opset: 19, dtype: 'float8e4m3fn' }), gpuTensorrtTarget)).toEqual([]);
  });
});
