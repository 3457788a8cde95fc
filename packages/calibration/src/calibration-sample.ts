import { type DType, QuantError, type Tensor, sizeOf } from '@quantkit/core';

/** One calibration sample: a tensor for each model input, by input name. */
export type CalibrationSample = Record<string, Tensor>;

/**
 * A model input as calibration sees it. Shape entries that are strings (ONNX `dim_param`), negative numbers,
 * `null` or `undefined` are symbolic and accept any size; an absent shape or dtype accepts anything.
 */
export interface CalibrationInput {
  readonly name: string;
  readonly dtype?: DType | undefined;
  readonly shape?: readonly (number | string | null | undefined)[] | undefined;
}

type ModelShape = NonNullable<CalibrationInput['shape']>;

function fixedDim(dim: number | string | null | undefined): number | undefined {
  return typeof dim === 'number' && dim >= 0 ? dim : undefined;
}

/** `[1, 3, "height", ?]`: fixed sizes as numbers, named symbolic dims by name, anonymous ones as `?`. */
export function formatModelShape(shape: ModelShape): string {
  const dims = shape.map((dim) => (typeof dim === 'string' ? dim : (fixedDim(dim) ?? '?')));
  return `[${dims.join(', ')}]`;
}

/** `"a", "b", "c"`: every name, for messages that list what exists rather than offer a choice. */
export function quoteNames(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * How a tensor shape fits a model input shape: exactly (`'fits'`), with a leading batch the model's fixed first dim
 * divides (`'batched'`), missing the leading batch dim of size 1 or symbolic (`'unbatched'`), or not at all.
 */
function shapeFit(modelShape: ModelShape, shape: readonly number[]): 'fits' | 'batched' | 'unbatched' | 'mismatch' {
  const dimsMatch = (model: ModelShape, actual: readonly number[]) =>
    model.length === actual.length && model.every((dim, i) => fixedDim(dim) === undefined || fixedDim(dim) === actual[i]);
  if (dimsMatch(modelShape, shape)) return 'fits';
  if (shape.length === modelShape.length && shape.length > 0 && dimsMatch(modelShape.slice(1), shape.slice(1))) {
    const modelBatch = fixedDim(modelShape[0]);
    const batch = shape[0]!;
    if (modelBatch !== undefined && modelBatch > 0 && batch > modelBatch && batch % modelBatch === 0) return 'batched';
  }
  if (shape.length + 1 === modelShape.length && dimsMatch(modelShape.slice(1), shape)) {
    const modelBatch = fixedDim(modelShape[0]);
    if (modelBatch === undefined || modelBatch === 1) return 'unbatched';
  }
  return 'mismatch';
}

// Widenings that lose nothing a calibration range could notice; everything else is refused.
function convertDType(tensor: Tensor, dtype: DType): Tensor | undefined {
  if (tensor.dtype === 'float64' && dtype === 'float32') {
    return { dtype, shape: tensor.shape, data: Float32Array.from(tensor.data as Float64Array) };
  }
  if (tensor.dtype === 'int32' && dtype === 'int64') {
    return { dtype, shape: tensor.shape, data: BigInt64Array.from(tensor.data as Int32Array, (v) => BigInt(v)) };
  }
  return undefined;
}

/**
 * Checks a sample against the model inputs and returns it ready to feed.
 *
 * - Every model input must be present and no other name may appear.
 * - dtypes must match the input's, except two lossless-enough widenings that are converted rather than refused:
 *   float64 data for a float32 input (NumPy's default float; the float32 rounding is far below quantization
 *   error) and int32 data for an int64 input (NumPy's default int on Windows).
 * - Shapes must match where the model's dims are fixed. Two batch cases are accepted: a tensor without the
 *   leading batch dim when the model's first dim is 1 or symbolic (a leading 1 is added), and a leading dim N
 *   larger than a fixed model dim d that divides it (left as is; see `splitSampleBatches`, which the pipeline calls
 *   before feeding a model with a fixed batch size; with a symbolic batch dim whole batches are fed as they are).
 *
 * @param source the file or folder the sample came from, for error messages.
 * @example
 * const ready = checkSample({ input: parseNpy(bytes, file) }, [{ name: 'input', dtype: 'float32', shape: [1, 3] }], file);
 * @throws QuantError CALIBRATION_DATA naming the source, the input, and the expected and actual dtype or shape.
 */
export function checkSample(
  sample: CalibrationSample,
  inputs: readonly CalibrationInput[],
  source: string,
): CalibrationSample {
  const names = inputs.map((input) => input.name);
  const unknown = Object.keys(sample).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${source}: ${quoteNames(unknown)} ${unknown.length === 1 ? 'is not a model input' : 'are not model inputs'}; ` +
        `the model's inputs are ${quoteNames(names)}`,
    );
  }
  const checked: CalibrationSample = {};
  for (const input of inputs) {
    let tensor = Object.hasOwn(sample, input.name) ? sample[input.name] : undefined;
    if (tensor === undefined) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `${source}: no data for model input "${input.name}"; the model's inputs are ${quoteNames(names)}`,
      );
    }
    if (tensor.data.length !== sizeOf(tensor.shape)) {
      throw new QuantError(
        'CALIBRATION_DATA',
        `${source}: input "${input.name}" has ${tensor.data.length} values for shape ${formatShape(tensor.shape)}`,
      );
    }
    if (input.dtype !== undefined && tensor.dtype !== input.dtype) {
      const converted = convertDType(tensor, input.dtype);
      if (converted === undefined) {
        throw new QuantError(
          'CALIBRATION_DATA',
          `${source}: input "${input.name}" expects ${input.dtype} data, got ${tensor.dtype} ` +
            `(shape ${formatShape(tensor.shape)})`,
        );
      }
      tensor = converted;
    }
    if (input.shape !== undefined) {
      const fit = shapeFit(input.shape, tensor.shape);
      if (fit === 'mismatch') {
        throw new QuantError(
          'CALIBRATION_DATA',
          `${source}: input "${input.name}" expects shape ${formatModelShape(input.shape)}, got ` +
            `${formatShape(tensor.shape)}`,
        );
      }
      if (fit === 'unbatched') tensor = { ...tensor, shape: [1, ...tensor.shape] };
    }
    checked[input.name] = tensor;
  }
  return checked;
}

/**
 * Splits a `[N, ...]` tensor into the batches a model with a fixed first dim `d` takes: `N / d` tensors of shape
 * `[d, ...]` (N tensors of `[1, ...]` for the common `d = 1`). Returns `[tensor]` unchanged when the model's first
 * dim is symbolic or already equal to N, since such a model takes the whole batch in one run.
 *
 * @example
 * splitBatch({ dtype: 'float32', shape: [4, 3], data }, [1, 3]); // four tensors of shape [1, 3]
 * @throws QuantError CALIBRATION_DATA when the shape does not fit the model's (other dims differ, or d does not
 *   divide N).
 */
export function splitBatch(tensor: Tensor, modelShape: ModelShape, source = 'calibration tensor'): Tensor[] {
  const fit = shapeFit(modelShape, tensor.shape);
  if (fit === 'fits') return [tensor];
  if (fit === 'unbatched') return [{ ...tensor, shape: [1, ...tensor.shape] }];
  if (fit === 'mismatch') {
    throw new QuantError(
      'CALIBRATION_DATA',
      `${source}: shape ${formatShape(tensor.shape)} cannot be split into batches of the model's shape ` +
        `${formatModelShape(modelShape)}`,
    );
  }
  const chunk = fixedDim(modelShape[0])!;
  const shape = [chunk, ...tensor.shape.slice(1)];
  const stride = sizeOf(shape);
  const parts: Tensor[] = [];
  for (let start = 0; start < tensor.data.length; start += stride) {
    parts.push({ dtype: tensor.dtype, shape, data: tensor.data.slice(start, start + stride) } as Tensor);
  }
  return parts;
}

/**
 * Splits every input of a checked sample with `splitBatch` and zips the pieces into samples the model can take.
 * @throws QuantError CALIBRATION_DATA when the inputs split into different numbers of batches.
 */
export function splitSampleBatches(
  sample: CalibrationSample,
  inputs: readonly CalibrationInput[],
  source = 'calibration sample',
): CalibrationSample[] {
  const pieces = inputs.map((input) => {
    const tensor = sample[input.name];
    if (tensor === undefined) {
      throw new QuantError('CALIBRATION_DATA', `${source}: no data for model input "${input.name}"`);
    }
    return input.shape === undefined ? [tensor] : splitBatch(tensor, input.shape, `${source} (input "${input.name}")`);
  });
  const counts = pieces.map((parts) => parts.length);
  if (counts.some((count) => count !== counts[0])) {
    const described = inputs.map((input, i) => `"${input.name}" into ${counts[i]}`).join(', ');
    throw new QuantError(
      'CALIBRATION_DATA',
      `${source}: the inputs hold different batch sizes (${described}); every input needs the same batch size`,
    );
  }
  return Array.from({ length: counts[0] ?? 0 }, (_, k) =>
    Object.fromEntries(inputs.map((input, i) => [input.name, pieces[i]![k]!])),
  );
}
