import { QUANT_ERROR_CODES } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES, UNEXPECTED_EXIT_CODE, exitCodeFor } from './exit-codes.js';

describe('EXIT_CODES', () => {
  it('gives every QuantError code a status other than 0 and the one for unexpected errors', () => {
    for (const code of QUANT_ERROR_CODES) {
      expect(exitCodeFor(code)).toBe(EXIT_CODES[code]);
      expect(exitCodeFor(code)).not.toBe(0);
      expect(exitCodeFor(code)).not.toBe(UNEXPECTED_EXIT_CODE);
    }
  });

  it('keeps the documented statuses scripts rely on', () => {
    expect(EXIT_CODES).toMatchObject({
      INVALID_ARGUMENT: 2,
      INVALID_MODEL: 3,
      UNSUPPORTED: 4,
      NOT_FOUND: 5,
      IO_ERROR: 6,
      CALIBRATION_DATA: 7,
      OUTPUT_CONFLICT: 8,
      PLUGIN_NOT_FOUND: 9,
      PLUGIN_INVALID: 9,
      PLUGIN_CONFLICT: 9,
      EXECUTOR: 10,
      INTERNAL: 70,
    });
  });
});
