import { QuantError } from '../errors.js';

function rethrowUnlessQuantError(error: unknown): QuantError {
  if (QuantError.is(error)) return error;
  throw error;
}

/**
 * Runs `run` and returns the QuantError it throws; anything else thrown is rethrown, and not throwing fails.
 * @example expect(quantErrorOf(() => parseNpy(bytes)).code).toBe('CALIBRATION_DATA');
 */
export function quantErrorOf(run: () => unknown): QuantError {
  try {
    run();
  } catch (error) {
    return rethrowUnlessQuantError(error);
  }
  throw new Error('expected a QuantError, but nothing was thrown');
}

/**
 * Awaits `promise` and returns the QuantError it rejects with; other rejections are rethrown, fulfilment fails.
 * @example expect((await asyncQuantErrorOf(session.run(feeds))).code).toBe('EXECUTOR');
 */
export async function asyncQuantErrorOf(promise: Promise<unknown>): Promise<QuantError> {
  try {
    await promise;
  } catch (error) {
    return rethrowUnlessQuantError(error);
  }
  throw new Error('expected a QuantError, but the promise fulfilled');
}
