import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86Avx2Target } from '../profiles/x86-avx2.js';
import { x86VnniTarget } from '../profiles/x86-vnni.js';
import { qdqConvModel, runRule } from '../test-models.js';
import { reduceRangeRule } from './reduce-range.js';

const full = Array.from({ length: 18 }, (_, i) => (i % 2 === 0 ? 127 : -100));

describe('reduce-range', () => {
  it('warns on x86-avx2 when int8 weight codes use the full 8-bit range', () => {
    const findings = runRule(reduceRangeRule, qdqConvModel({ weightCodes: full }), x86Avx2Target);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', node: 'dq_w' });
    expect(findings[0]!.message).toContain('18 of 18 codes outside [-64, 63] (e.g. 127)');
  });

  it('passes 7-bit codes on x86-avx2 and full-range codes on x86-vnni', () => {
    expect(runRule(reduceRangeRule, qdqConvModel(), x86Avx2Target)).toEqual([]);
    expect(runRule(reduceRangeRule, qdqConvModel({ weightCodes: full }), x86VnniTarget)).toEqual([]);
  });

  it('flags exactly the weights with a code outside [-64, 63]', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 18, maxLength: 18 }), (codes) => {
        const outside = codes.filter((c) => c < -64 || c > 63).length;
        const findings = runRule(reduceRangeRule, qdqConvModel({ weightCodes: codes }), x86Avx2Target);
        expect(findings.length).toBe(outside > 0 ? 1 : 0);
        if (outside > 0) expect(findings[0]!.message).toContain(`${outside} of 18 codes`);
      }),
      { numRuns: 50 },
    );
  });
});
