import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { uniformWeightZeroPointsRule } from './uniform-weight-zero-points.js';

describe('uniform-weight-zero-points', () => {
  it('flags per-channel Conv weights whose zero points differ on onnxruntime', () => {
    const findings = runRule(uniformWeightZeroPointsRule, qdqConvModel({ weightZeroPoints: [3, 4] }), x86VnniTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', node: 'dq_w' });
    expect(findings[0]!.message).toContain('(3, 4, ...)');
  });

  it('passes equal zero points, and other runtimes', () => {
    expect(runRule(uniformWeightZeroPointsRule, qdqConvModel({ weightZeroPoints: [3, 3] }), x86VnniTarget)).toEqual([]);
    expect(runRule(uniformWeightZeroPointsRule, qdqConvModel({ weightZeroPoints: [3, 4] }), gpuTensorrtTarget)).toEqual([]);
  });
});
