import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuantError } from '@quantkit/core';
import { checkWrites } from '@quantkit/onnx/node';
import { SYMBOLIC_DIM, randomSamples, resolveRecipe } from '@quantkit/quantize';
import { describe, expect, it } from 'vitest';
import { inFlagTerms } from './flag-terms.js';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

async function rejected(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('inFlagTerms', () => {
  it.each([
    [
      { mode: 'static', floatPrecision: 'fp8-e5m2' },
      '--float fp8-e5m2 stores weights in fp8: use --mode float',
    ],
    [
      { mode: 'weight-only', format: 'qoperator' },
      '--format qoperator needs integer compute: use --mode static or --mode dynamic',
    ],
    [{ mode: 'dynamic', bits: 4 }, '--mode dynamic quantizes weights to 8 bits; got --bits 4'],
    [
      { mode: 'sideways' },
      '--mode must be "static", "dynamic", "weight-only", "float" or "data-free", got "sideways"',
    ],
  ] as const)('words the pipeline option error of %j in flags', (options, expected) => {
    const error = thrown(() => resolveRecipe(options as never));
    expect(QuantError.is(error)).toBe(true);
    const worded = inFlagTerms(error) as QuantError;
    expect(worded.message).toBe(expected);
    expect(worded.code).toBe((error as QuantError).code);
    expect(worded.details).toEqual((error as QuantError).details);
    expect(worded.cause).toBe(error);
  });

  it('names the data flag of the command when random inputs cannot be made', () => {
    const half = [{ name: 'h', dtype: 'float16', shape: [1] }];
    // quantize's --report and verification take real inputs from --calib, compare from --data.
    const quantize = thrown(() => randomSamples(half, 1, 1));
    expect((inFlagTerms(quantize) as Error).message).toMatch(/; pass --calib with real inputs$/);
    const compare = thrown(() => randomSamples(half, 1, 1, SYMBOLIC_DIM, 'dataDir'));
    expect((inFlagTerms(compare) as Error).message).toMatch(/; pass --data with real inputs$/);
  });

  it('names the files a run reads and writes by their flags', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quantkit-flag-terms-'));
    try {
      const output = join(dir, 'out.onnx');
      const calibration = join(dir, 'a.pb');
      await writeFile(output, 'old');
      await writeFile(calibration, 'sample');
      const exists = await rejected(() => checkWrites([], [{ role: 'output', path: output }], {}));
      expect((inFlagTerms(exists) as Error).message).toBe(
        `--output "${output}" already exists; pass --force to replace it`,
      );
      const replaces = await rejected(() =>
        checkWrites(
          [{ role: 'calibration file', path: calibration }],
          [{ role: 'calibration cache', path: calibration }],
          { force: true },
        ),
      );
      expect((inFlagTerms(replaces) as Error).message).toBe(
        `--save-calib "${calibration}" would replace the --calib file "${calibration}", which this run reads; choose another path`,
      );
      const same = await rejected(() =>
        checkWrites(
          [],
          [
            { role: 'output', path: join(dir, 'q.onnx') },
            { role: 'report', path: join(dir, 'q.onnx') },
          ],
          {},
        ),
      );
      expect((inFlagTerms(same) as Error).message).toBe(
        `--report and --output are the same file "${join(dir, 'q.onnx')}"`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the API words in the library, and leaves errors without parts alone', () => {
    const error = thrown(() => resolveRecipe({ mode: 'static', floatPrecision: 'fp8-e5m2' }));
    expect((error as Error).message).toBe(
      'floatPrecision "fp8-e5m2" stores weights in fp8: use mode "float"',
    );
    const plain = new QuantError('INVALID_ARGUMENT', 'mode "x" is odd');
    expect(inFlagTerms(plain)).toBe(plain);
    const other = new Error('boom');
    expect(inFlagTerms(other)).toBe(other);
    const unknown = new QuantError('INVALID_ARGUMENT', [{ option: 'somethingNew', value: 'v' }, ' is odd']);
    expect((inFlagTerms(unknown) as Error).message).toBe('somethingNew v is odd');
    // Booleans name the flag that sets them: --symmetric for true, --asymmetric and --no-verify for false.
    const booleans = new QuantError('INVALID_ARGUMENT', [
      { option: 'symmetric', value: true },
      ', ',
      { option: 'symmetric', value: false },
      ', ',
      { option: 'verify', value: false },
    ]);
    expect((inFlagTerms(booleans) as Error).message).toBe('--symmetric, --asymmetric, --no-verify');
  });
});
