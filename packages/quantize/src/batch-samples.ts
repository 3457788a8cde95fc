import { QuantError, type Tensor, allocate } from '@quantkit/core';
import type { ValueInfo } from '@quantkit/onnx';
import type { CalibrationSample, CalibrationSource } from './options.js';

function concatenate(name: string, parts: readonly Tensor[]): Tensor {
  const first = parts[0]!;
  const rest = first.shape.slice(1);
  for (const part of parts) {
    if (
      part.dtype !== first.dtype ||
      part.shape.length !== first.shape.length ||
      part.shape.slice(1).some((d, i) => d !== rest[i])
    ) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `cannot batch calibration samples: input "${name}" has shapes [${first.shape.join(', ')}] and [${part.shape.join(', ')}]`,
      );
    }
  }
  const data = allocate(
    first.dtype,
    parts.reduce((sum, part) => sum + part.data.length, 0),
  );
  const target = data as unknown as { set(array: ArrayLike<unknown>, offset: number): void };
  let offset = 0;
  for (const part of parts) {
    target.set(part.data as ArrayLike<unknown>, offset);
    offset += part.data.length;
  }
  return {
    dtype: first.dtype,
    shape: [parts.reduce((sum, part) => sum + (part.shape[0] ?? 1), 0), ...rest],
    data,
  } as Tensor;
}

/**
 * Groups `batchSize` consecutive samples into one, concatenating every input along its first axis, so one run
 * of the model calibrates several samples. Needs inputs whose first dimension is symbolic.
 * @throws QuantError INVALID_ARGUMENT when an input has a fixed first dimension.
 */
export function batchSamples(
  source: CalibrationSource,
  batchSize: number,
  inputs: readonly ValueInfo[],
): CalibrationSource {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `the calibration batch size must be a positive integer, got ${batchSize}`,
    );
  }
  if (batchSize === 1) return source;
  for (const input of inputs) {
    const first = input.shape?.[0];
    if (typeof first === 'number' && first > 0) {
      throw new QuantError(
        'INVALID_ARGUMENT',
        [
          { option: 'calibrationBatch', value: batchSize },
          ` needs a symbolic batch dimension, but input "${input.name}" has a fixed first dimension of ${first}`,
        ],
        { details: { option: 'calibrationBatch', value: batchSize } },
      );
    }
  }
  async function* batches(): AsyncGenerator<CalibrationSample> {
    let pending: CalibrationSample[] = [];
    const flush = () => {
      const names = Object.keys(pending[0]!);
      const batch = Object.fromEntries(
        names.map((name) => [
          name,
          concatenate(
            name,
            pending.map((sample) => sample[name]!),
          ),
        ]),
      );
      pending = [];
      return batch;
    };
    for await (const sample of typeof source === 'function' ? source() : source) {
      pending.push(sample);
      if (pending.length === batchSize) yield flush();
    }
    if (pending.length > 0) yield flush();
  }
  return typeof source === 'function' || Array.isArray(source) ? batches : batches();
}
