import { QuantError, type QuantizerOptions, dtypeInfo } from '@quantkit/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINEAR_BITS, checkLinearOptionValues, resolveLinearOptions } from './resolve-linear-options.js';

describe('resolveLinearOptions', () => {
  it('uses the full storage range when bits fill the dtype', () => {
    for (const bits of [4, 8, 16]) {
      for (const signed of [false, true]) {
        const resolved = resolveLinearOptions({ bits, symmetric: signed, granularity: 'tensor' });
        const info = dtypeInfo(resolved.dtype);
        expect(info.bits).toBe(bits);
        expect(info.isSigned).toBe(signed);
        expect([resolved.qmin, resolved.qmax]).toEqual([info.min, info.max]);
      }
    }
  });

  it('property: the code range holds exactly 2^codeBits codes (one fewer when restricted) inside storage', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 16 }),
        fc.boolean(),
        fc.option(fc.boolean(), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (bits, symmetric, signed, restrictedRange, reduceRange) => {
          const r = resolveLinearOptions({
            bits,
            symmetric,
            signed,
            restrictedRange,
            reduceRange,
            granularity: 'tensor',
          });
          expect(r.signed).toBe(signed ?? symmetric);
          expect(r.codeBits).toBe(reduceRange ? bits - 1 : bits);
          expect(r.qmax - r.qmin + 1).toBe(2 ** r.codeBits - (restrictedRange ? 1 : 0));
          const info = dtypeInfo(r.dtype);
          expect(r.qmin).toBeGreaterThanOrEqual(info.min);
          expect(r.qmax).toBeLessThanOrEqual(info.max);
          // Signed ranges straddle zero; restricted signed ranges are balanced.
          if (r.signed) expect(r.qmin).toBeLessThan(0);
          if (r.signed && restrictedRange) expect(r.qmin).toBe(-r.qmax);
          if (!r.signed) expect(r.qmin).toBe(restrictedRange ? 1 : 0);
          // The symmetric zero point sits in the middle: equally many codes on each side, up to one.
          expect(
            Math.abs(r.qmax - r.symmetricZeroPoint - (r.symmetricZeroPoint - r.qmin)),
          ).toBeLessThanOrEqual(1);
          if (r.signed) expect(r.symmetricZeroPoint).toBe(0);
        },
      ),
    );
  });

  it('lists 2..16 as the supported widths', () => {
    expect(LINEAR_BITS[0]).toBe(2);
    expect(LINEAR_BITS[LINEAR_BITS.length - 1]).toBe(16);
    expect(LINEAR_BITS).toHaveLength(15);
  });

  it('keeps blockSize only for block granularity', () => {
    expect(
      resolveLinearOptions({ bits: 8, symmetric: true, granularity: 'tensor', blockSize: 4 }).blockSize,
    ).toBeUndefined();
    expect(
      resolveLinearOptions({ bits: 8, symmetric: true, granularity: 'block', blockSize: 4 }).blockSize,
    ).toBe(4);
  });

  it.each([
    [{ bits: 0 }, 'options.bits must be an integer from 2 to 16, got 0'],
    [{ bits: '8' }, 'options.bits must be an integer from 2 to 16, got "8"'],
    [{ bits: undefined }, 'options.bits is required (2 to 16)'],
    [{ granularity: undefined }, 'options.granularity is required ("tensor", "channel" or "block")'],
    [{ restrictedRange: 1 }, 'options.restrictedRange must be true, false or absent, got 1'],
  ])('refuses %j', (override, message) => {
    let error: unknown;
    try {
      resolveLinearOptions(
        { bits: 8, symmetric: true, granularity: 'tensor', ...override } as unknown as QuantizerOptions,
        'mine',
      );
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toBe(`mine quantizer: ${message}`);
  });

  it('refuses a missing options object', () => {
    expect(() => resolveLinearOptions(undefined as never)).toThrow(/options must be an object/);
  });

  it('checkLinearOptionValues skips absent keys', () => {
    expect(() => checkLinearOptionValues({})).not.toThrow();
    expect(() => checkLinearOptionValues({ reduceRange: true })).not.toThrow();
    expect(() => checkLinearOptionValues({ granularity: 'block', blockSize: 0 })).toThrow(/blockSize/);
  });
});
