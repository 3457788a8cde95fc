import { isDefaultDomain } from '@quantkit/onnx';

/**
 * How the planner treats each op type it can quantize.
 * - compute: runs on integer codes (its weights are quantized, its float inputs get Q/DQ).
 * - passthrough: normally kept in 8 bit between compute ops so ORT fuses it (QLinearAdd, u8 MaxPool, ...).
 * `dataInputs` are the input slots that carry float data; the others (shapes, axes, scalars) stay as they are.
 * `shareParams` marks ops whose output values are a subset of their input's, so the output reuses the input's
 * scale and zero point: ORT then drops the DQ -> op -> Q pair and runs the op on uint8 directly.
 */
export interface OpRole {
  readonly role: 'compute' | 'passthrough';
  readonly dataInputs: readonly number[] | 'all';
  readonly shareParams?: boolean;
}

export const STATIC_OPS: Readonly<Record<string, OpRole>> = {
  Conv: { role: 'compute', dataInputs: [0, 1] },
  ConvTranspose: { role: 'compute', dataInputs: [0, 1] },
  Gemm: { role: 'compute', dataInputs: [0, 1] },
  MatMul: { role: 'compute', dataInputs: [0, 1] },
  Relu: { role: 'passthrough', dataInputs: [0] },
  Clip: { role: 'passthrough', dataInputs: [0] },
  Add: { role: 'passthrough', dataInputs: [0, 1] },
  Mul: { role: 'passthrough', dataInputs: [0, 1] },
  Concat: { role: 'passthrough', dataInputs: 'all' },
  MaxPool: { role: 'passthrough', dataInputs: [0], shareParams: true },
  AveragePool: { role: 'passthrough', dataInputs: [0] },
  GlobalAveragePool: { role: 'passthrough', dataInputs: [0] },
  Reshape: { role: 'passthrough', dataInputs: [0], shareParams: true },
  Transpose: { role: 'passthrough', dataInputs: [0], shareParams: true },
  Flatten: { role: 'passthrough', dataInputs: [0], shareParams: true },
  Squeeze: { role: 'passthrough', dataInputs: [0], shareParams: true },
  Unsqueeze: { role: 'passthrough', dataInputs: [0], shareParams: true },
  Resize: { role: 'passthrough', dataInputs: [0], shareParams: true },
};

/** Ops whose weight can be stored in 8 bit and dequantized in front of the float op (weight-only mode). */
export const WEIGHT_ONLY_OPS: ReadonlySet<string> = new Set([
  'Conv',
  'ConvTranspose',
  'Gemm',
  'MatMul',
  'Gather',
  'LSTM',
  'GRU',
  'RNN',
]);

/** Recurrent ops: input weights W (slot 1) and recurrence weights R (slot 2), both [directions, gates x hidden, ...]. */
const RECURRENT_OPS: ReadonlySet<string> = new Set(['LSTM', 'GRU', 'RNN']);

/** Input slot of the weight for each op with a weight (the first of them for recurrent ops, see weightSlots). */
export function weightSlot(opType: string): number {
  return opType === 'Gather' ? 0 : 1;
}

/** Every input slot holding a weight: W and R for LSTM, GRU and RNN, else the one of weightSlot. */
export function weightSlots(opType: string): readonly number[] {
  return RECURRENT_OPS.has(opType) ? [1, 2] : [weightSlot(opType)];
}

/**
 * Input slots whose values an op needs strictly above zero (or away from zero) to stay finite: Log(0) is -inf,
 * 1/0 is inf. A clamp such as Clip(min = 1e-10) guards them in the float model, but an 8-bit grid from 0 has no
 * code for 1e-10 and rounds it to exactly 0, so these readers must see the float value, never a Q/DQ'd one.
 */
const POSITIVE_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Log: [0],
  Reciprocal: [0],
  Sqrt: [0],
  Div: [1],
};

/**
 * The slots of `node` that must read float values (see POSITIVE_INPUTS); Pow counts when its exponent may be
 * negative (not a constant, or a constant with a negative entry). `exponent` looks up a constant input's values.
 */
export function positiveOnlySlots(
  opType: string,
  domain: string,
  exponent: () => ArrayLike<number> | undefined,
): readonly number[] {
  if (!isDefaultDomain(domain)) return [];
  if (opType === 'Pow') {
    const values = exponent();
    return values === undefined || Array.prototype.some.call(values, (v: number) => v < 0) ? [0] : [];
  }
  return POSITIVE_INPUTS[opType] ?? [];
}
