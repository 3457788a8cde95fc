import type { QuantErrorCode } from '@quantkit/core';

/**
 * The exit status for each QuantError code, so scripts can tell a bad flag from a broken model without parsing
 * messages. 1 is kept for errors quantkit did not expect (see {@link UNEXPECTED_EXIT_CODE}).
 */
export const EXIT_CODES: Readonly<Record<QuantErrorCode, number>> = {
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
  // 70 is EX_SOFTWARE in sysexits.h: an internal software error.
  INTERNAL: 70,
};

/** Exit status for an error that is not a QuantError (a bug or an environment failure quantkit did not foresee). */
export const UNEXPECTED_EXIT_CODE = 1;

/**
 * The exit status for a QuantError code.
 * @example exitCodeFor('NOT_FOUND') // 5
 */
export function exitCodeFor(code: QuantErrorCode): number {
  return EXIT_CODES[code] ?? UNEXPECTED_EXIT_CODE;
}

/**
 * Thrown by a command that has already printed everything about its failure (`check --json` prints its issues as
 * the one JSON object), so `main` exits with `exitCode` and prints nothing more.
 *
 * @example throw new ReportedFailure(EXIT_CODES.UNSUPPORTED);
 */
export class ReportedFailure extends Error {
  constructor(readonly exitCode: number) {
    super(`command failed with exit status ${exitCode}; its output says why`);
    this.name = 'ReportedFailure';
  }
}
