import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { hisiliconLogTarget } from '../profiles/hisilicon-log.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { weightTypesRule } from './weight-types.js';

describe('weight-types', () => {
  it('flags u8 weights on gpu-tensorrt', () => {
    const findings = runRule(weightTypesRule, qdqConvModel({ activation: 'int8', weight: 'uint8' }), gpuTensorrtTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', node: 'dq_w' });
    expect(findings[0]!.message).toContain('weight "w_q" of Conv "conv" in uint8');
  });

  it('flags asymmetric weights on gpu-tensorrt and per-channel weights on a per-tensor target', () => {
    const asymmetric = qdqConvModel({ activation: 'int8', weightZeroPoints: [3, 3] });
    expect(runRule(weightTypesRule, asymmetric, gpuTensorrtTarget)[0]!.message).toContain('zero point 3');
    const perChannel = runRule(weightTypesRule, qdqConvModel({ activation: 'int8' }), hisiliconLogTarget);
    expect(perChannel[0]!.message).toContain('per-channel scales');
  });

  it('passes what each target runs; onnxruntime takes asymmetric weights', () => {
    expect(runRule(weightTypesRule, qdqConvModel({ activation: 'int8' }), gpuTensorrtTarget)).toEqual([]);
    expect(runRule(weightTypesRule, qdqConvModel({ weightZeroPoints: [3, 3] }), x86VnniTarget)).toEqual([]);
    expect(runRule(weightTypesRule, qdqConvModel({ weight: 'uint8' }), x86VnniTarget)).toEqual([]);
  });
});
