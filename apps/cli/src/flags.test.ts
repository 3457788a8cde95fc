import { describe, expect, it } from 'vitest';
import { collectList, parseChoiceFlag, parseIntegerFlag } from './flags.js';

describe('parseIntegerFlag', () => {
  it('accepts integers in range and passes undefined through', () => {
    expect(parseIntegerFlag('--bits', '4', { min: 2, max: 16 })).toBe(4);
    expect(parseIntegerFlag('--bits', '16', { min: 2, max: 16 })).toBe(16);
    expect(parseIntegerFlag('--bits', undefined, { min: 2, max: 16 })).toBeUndefined();
  });

  it.each([
    '99',
    '1',
    '',
    'abc',
    '8.0',
    '1e1',
    '0x8',
    ' ',
  ])('rejects %j naming the flag and the range', (value) => {
    expect(() => parseIntegerFlag('--bits', value, { min: 2, max: 16 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^--bits must be an integer from 2 to 16/),
      }),
    );
  });

  it('describes open-ended ranges', () => {
    expect(() => parseIntegerFlag('--samples', '0', { min: 1 })).toThrow(
      '--samples must be an integer >= 1, got "0"',
    );
  });
});

describe('parseChoiceFlag', () => {
  it('lists the valid values', () => {
    expect(parseChoiceFlag('--mode', 'dynamic', ['static', 'dynamic'])).toBe('dynamic');
    expect(() => parseChoiceFlag('--mode', 'fast', ['static', 'dynamic'])).toThrow(
      '--mode must be "static" or "dynamic", got "fast"',
    );
  });
});

describe('collectList', () => {
  it('splits on commas and accumulates across repeats', () => {
    expect(collectList('a,b', [])).toEqual(['a', 'b']);
    expect(collectList('c', collectList('a, b,'))).toEqual(['a', 'b', 'c']);
  });
});
