import { describe, expect, it } from 'vitest';
import { wasmTarget } from '../profiles/wasm.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { int32ZeroPointRule } from './int32-zero-point.js';

describe('int32-zero-point', () => {
  it('flags an int32 bias DequantizeLinear with a non-zero zero point', () => {
    const findings = runRule(int32ZeroPointRule, qdqConvModel({ biasZeroPoint: 7 }), wasmTarget);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', node: 'dq_b' });
    expect(findings[0]!.message).toContain('zero point 7 (1 of 2 non-zero)');
  });

  it('passes zero zero points', () => {
    expect(runRule(int32ZeroPointRule, qdqConvModel(), wasmTarget)).toEqual([]);
  });
});
