import { describe, expect, it } from 'vitest';
import { arm64Target } from '../profiles/arm64.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { typePairsRule } from './type-pairs.js';

describe('type-pairs', () => {
  it('flags s8 x u8 on arm64, whose types are each accepted but not as that pair', () => {
    const findings = runRule(typePairsRule, qdqConvModel({ activation: 'int8', weight: 'uint8' }), arm64Target);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', node: 'conv' });
    expect(findings[0]!.message).toContain('int8 activations by uint8 weights; arm64 runs u8 x s8, s8 x s8, u8 x u8');
  });

  it('passes the pairs arm64 runs', () => {
    for (const [activation, weight] of [['uint8', 'int8'], ['int8', 'int8'], ['uint8', 'uint8']] as const) {
      expect(runRule(typePairsRule, qdqConvModel({ activation, weight }), arm64Target)).toEqual([]);
    }
  });
});
