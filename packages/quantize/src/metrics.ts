import { QuantError, type Tensor, sameShape } from '@quantkit/core';

/** How close a quantized model's output is to the float model's. */
export interface OutputMetrics {
  /** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2); Infinity when equal. */
  readonly sqnr: number;
  /** Cosine similarity of the flattened tensors (1 when both are zero). */
  readonly cosine: number;
  readonly maxAbsError: number;
  /** Share of rows (last axis) whose argmax agrees; undefined for scalars. */
  readonly top1Agreement: number | undefined;
}

function toNumbers(tensor: Tensor, label: string): ArrayLike<number> {
  if (tensor.data instanceof BigInt64Array) return Array.from(tensor.data, Number);
  if (tensor.dtype === 'float16' || tensor.dtype === 'bfloat16') {
    throw new QuantError('UNSUPPORTED', `${label} is ${tensor.dtype}; compare float32 outputs`);
  }
  return tensor.data as ArrayLike<number>;
}

interface ErrorSums {
  signal: number;
  noise: number;
  dot: number;
  testEnergy: number;
  maxAbsError: number;
}

function errorSums(
  reference: Tensor,
  test: Tensor,
  label: string,
): ErrorSums & { ref: ArrayLike<number>; out: ArrayLike<number> } {
  if (!sameShape(reference.shape, test.shape)) {
    throw new QuantError(
      'INVALID_ARGUMENT',
      `${label}: shapes differ, [${reference.shape.join(', ')}] vs [${test.shape.join(', ')}]`,
    );
  }
  const ref = toNumbers(reference, label);
  const out = toNumbers(test, label);
  const sums = { signal: 0, noise: 0, dot: 0, testEnergy: 0, maxAbsError: 0 };
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const t = out[i]!;
    const error = r - t;
    sums.signal += r * r;
    sums.noise += error * error;
    sums.dot += r * t;
    sums.testEnergy += t * t;
    sums.maxAbsError = Math.max(sums.maxAbsError, Math.abs(error));
  }
  return { ...sums, ref, out };
}

function sqnrOf(signal: number, noise: number): number {
  if (noise === 0) return Infinity;
  return signal === 0 ? -Infinity : 10 * Math.log10(signal / noise);
}

function cosineOf({ signal, testEnergy, dot }: ErrorSums): number {
  if (signal === 0 && testEnergy === 0) return 1;
  if (signal === 0 || testEnergy === 0) return 0;
  return dot / Math.sqrt(signal * testEnergy);
}

/**
 * Compares a test tensor against a reference.
 * @example compareTensors(floatOutput, quantizedOutput).sqnr // dB
 * @throws QuantError INVALID_ARGUMENT when the shapes differ.
 */
export function compareTensors(reference: Tensor, test: Tensor, label = 'output'): OutputMetrics {
  const sums = errorSums(reference, test, label);
  return {
    sqnr: sqnrOf(sums.signal, sums.noise),
    cosine: cosineOf(sums),
    maxAbsError: sums.maxAbsError,
    top1Agreement: top1(sums.ref, sums.out, reference.shape),
  };
}

function top1(ref: ArrayLike<number>, out: ArrayLike<number>, shape: readonly number[]): number | undefined {
  const width = shape[shape.length - 1];
  if (width === undefined || width < 2 || ref.length === 0) return undefined;
  const rows = ref.length / width;
  let agree = 0;
  for (let row = 0; row < rows; row++) {
    let bestRef = row * width;
    let bestOut = row * width;
    for (let i = row * width + 1; i < (row + 1) * width; i++) {
      if (ref[i]! > ref[bestRef]!) bestRef = i;
      if (out[i]! > out[bestOut]!) bestOut = i;
    }
    if (bestRef === bestOut) agree++;
  }
  return agree / rows;
}

/**
 * Accumulates metrics over many samples: SQNR from the summed signal and noise energy (not an average of dBs),
 * the worst max error, the mean cosine and the mean top-1 agreement.
 */
export function createMetricsAccumulator() {
  const total = { signal: 0, noise: 0, cosine: 0, maxAbsError: 0, top1: 0, top1Count: 0, samples: 0 };
  return {
    add(reference: Tensor, test: Tensor, label = 'output'): void {
      const sums = errorSums(reference, test, label);
      total.signal += sums.signal;
      total.noise += sums.noise;
      total.cosine += cosineOf(sums);
      total.maxAbsError = Math.max(total.maxAbsError, sums.maxAbsError);
      const agreement = top1(sums.ref, sums.out, reference.shape);
      if (agreement !== undefined) {
        total.top1 += agreement;
        total.top1Count++;
      }
      total.samples++;
    },
    result(): OutputMetrics & { samples: number } {
      return {
        sqnr: sqnrOf(total.signal, total.noise),
        cosine: total.samples === 0 ? Number.NaN : total.cosine / total.samples,
        maxAbsError: total.maxAbsError,
        top1Agreement: total.top1Count === 0 ? undefined : total.top1 / total.top1Count,
        samples: total.samples,
      };
    },
  };
}
