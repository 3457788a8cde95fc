import { describe, expect, it } from 'vitest';
import { gpuTensorrtTarget } from '../profiles/gpu-tensorrt.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { qdqPerConsumerRule } from './qdq-per-consumer.js';

describe('qdq-per-consumer', () => {
  it('warns on gpu-tensorrt about a Q/DQ pair shared by several consumers', () => {
    const findings = runRule(
      qdqPerConsumerRule,
      qdqConvModel({ activation: 'int8', extraConsumers: 2 }),
      gpuTensorrtTarget,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: 'warning',
      node: 'dq_in',
      fix: [
        're-quantize with ',
        { option: 'target', value: 'gpu-tensorrt' },
        ' so each consumer gets its own pair',
      ],
    });
    expect(findings[0]!.message).toContain('feeds 3 consumers');
  });

  it('passes one consumer per pair, and targets that do not need it', () => {
    expect(runRule(qdqPerConsumerRule, qdqConvModel({ activation: 'int8' }), gpuTensorrtTarget)).toEqual([]);
    expect(runRule(qdqPerConsumerRule, qdqConvModel({ extraConsumers: 2 }), x86VnniTarget)).toEqual([]);
  });
});
