import { QuantError, type Tensor, allocate } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { required, tensorOf } from '../tensor-utils.js';
import { erf } from './elementwise.js';

const FLOAT32_MAX = 3.4028234663852886e38;

/** The input's values and an output array of its dtype, for the float-only activations. */
function floatInOut(input: Tensor | undefined): {
  x: Float32Array | Float64Array;
  y: Float32Array | Float64Array;
  output: Tensor;
} {
  const tensor = required(input, 'X');
  if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') {
    throw new QuantError(
      'UNSUPPORTED',
      `input is ${tensor.dtype}; this kernel computes on float32 and float64`,
    );
  }
  const y = allocate(tensor.dtype, tensor.data.length) as Float32Array | Float64Array;
  return {
    x: tensor.data as Float32Array | Float64Array,
    y,
    output: tensorOf(tensor.dtype, tensor.shape, y),
  };
}

/**
 * Clip to [min, max]: attributes before opset 11 (float), optional scalar inputs from 11 (any numeric dtype from
 * 12; int64 compared as bigints). A min above max clips everything to max, as onnxruntime does.
 */
const clip = jsKernel('Clip', {
  opsets: { min: 6 },
  prepare: (node) =>
    node.opset < 11
      ? { min: node.attributes.float('min', -FLOAT32_MAX), max: node.attributes.float('max', FLOAT32_MAX) }
      : undefined,
  run: (attributes, [input, minInput, maxInput]) => {
    const x = required(input, 'input');
    if (x.dtype === 'int64') {
      const source = x.data as BigInt64Array;
      const low = minInput === undefined ? undefined : (minInput.data as BigInt64Array)[0];
      const high = maxInput === undefined ? undefined : (maxInput.data as BigInt64Array)[0];
      const out = new BigInt64Array(source.length);
      for (let i = 0; i < source.length; i++) {
        let value = source[i]!;
        if (low !== undefined && value < low) value = low;
        if (high !== undefined && value > high) value = high;
        out[i] = value;
      }
      return [tensorOf('int64', x.shape, out)];
    }
    if (x.dtype === 'float16' || x.dtype === 'bfloat16' || x.dtype === 'bool') {
      throw new QuantError('UNSUPPORTED', `Clip on ${x.dtype} is not implemented`);
    }
    const high = attributes?.max ?? (maxInput === undefined ? Infinity : Number(maxInput.data[0]));
    // A min above max clips everything to max.
    const low = Math.min(
      attributes?.min ?? (minInput === undefined ? -Infinity : Number(minInput.data[0])),
      high,
    );
    const out = allocate(x.dtype, x.data.length) as Float32Array;
    clipNumbers(x.data as Float32Array, out, low, high);
    return [tensorOf(x.dtype, x.shape, out)];
  },
});

/**
 * The clipping loop (low <= high), in a function of its own so V8 optimizes it apart from the int64 path;
 * Math.min/max compile to branch-free instructions and keep NaN, as onnxruntime does.
 */
function clipNumbers(source: Float32Array, out: Float32Array, low: number, high: number): void {
  for (let i = 0; i < source.length; i++) out[i] = Math.min(Math.max(source[i]!, low), high);
}

/** HardSigmoid: max(0, min(1, alpha * x + beta)). */
const hardSigmoid = jsKernel('HardSigmoid', {
  prepare: (node) => ({
    alpha: node.attributes.float('alpha', 0.2),
    beta: node.attributes.float('beta', 0.5),
  }),
  run: ({ alpha, beta }, [input]) => {
    const { x, y, output } = floatInOut(input);
    const a = Math.fround(alpha);
    const b = Math.fround(beta);
    for (let i = 0; i < x.length; i++) {
      const value = Math.fround(a * x[i]!) + b;
      y[i] = value < 0 ? 0 : value > 1 ? 1 : value;
    }
    return [output];
  },
});

/** HardSwish (opset 14): x * max(0, min(1, x / 6 + 1 / 2)). */
const hardSwish = jsKernel('HardSwish', {
  run: (_, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) {
      const value = x[i]!;
      const gate = value / 6 + 0.5;
      y[i] = gate <= 0 ? 0 : gate >= 1 ? value : value * gate;
    }
    return [output];
  },
});

/** LeakyRelu: x for x >= 0, alpha * x below. */
const leakyRelu = jsKernel('LeakyRelu', {
  prepare: (node) => ({ alpha: Math.fround(node.attributes.float('alpha', 0.01)) }),
  run: ({ alpha }, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) {
      const value = x[i]!;
      y[i] = value >= 0 ? value : alpha * value;
    }
    return [output];
  },
});

/** Elu: x for x >= 0, alpha * (exp(x) - 1) below. */
const elu = jsKernel('Elu', {
  prepare: (node) => ({ alpha: Math.fround(node.attributes.float('alpha', 1)) }),
  run: ({ alpha }, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) {
      const value = x[i]!;
      y[i] = value >= 0 ? value : alpha * Math.expm1(value);
    }
    return [output];
  },
});

/** Selu: gamma * x for x > 0, gamma * alpha * (exp(x) - 1) otherwise (defaults rounded to float32 as ONNX's). */
const selu = jsKernel('Selu', {
  prepare: (node) => ({
    alpha: Math.fround(node.attributes.float('alpha', 1.6732632423543772)),
    gamma: Math.fround(node.attributes.float('gamma', 1.0507009873554805)),
  }),
  run: ({ alpha, gamma }, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) {
      const value = x[i]!;
      y[i] = value > 0 ? gamma * value : gamma * alpha * Math.expm1(value);
    }
    return [output];
  },
});

/** Softplus: log(1 + exp(x)), written so large inputs do not overflow. */
const softplus = jsKernel('Softplus', {
  run: (_, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) {
      const value = x[i]!;
      y[i] = value > 0 ? value + Math.log1p(Math.exp(-value)) : Math.log1p(Math.exp(value));
    }
    return [output];
  },
});

/** Softsign: x / (1 + |x|). */
const softsign = jsKernel('Softsign', {
  run: (_, [input]) => {
    const { x, y, output } = floatInOut(input);
    for (let i = 0; i < x.length; i++) y[i] = x[i]! / (1 + Math.abs(x[i]!));
    return [output];
  },
});

/** Gelu (opset 20): x * Phi(x) exactly (erf), or its tanh approximation. */
const gelu = jsKernel('Gelu', {
  opsets: { min: 20 },
  prepare: (node) => {
    const approximate = node.attributes.string('approximate', 'none');
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new QuantError('INVALID_MODEL', `approximate is "${approximate}"; expected "none" or "tanh"`);
    }
    return { tanh: approximate === 'tanh' };
  },
  run: ({ tanh }, [input]) => {
    const { x, y, output } = floatInOut(input);
    const root2OverPi = Math.sqrt(2 / Math.PI);
    if (tanh) {
      for (let i = 0; i < x.length; i++) {
        const value = x[i]!;
        y[i] = 0.5 * value * (1 + Math.tanh(root2OverPi * (value + 0.044715 * value * value * value)));
      }
    } else {
      for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i]! * (1 + erf(x[i]! / Math.SQRT2));
    }
    return [output];
  },
});

export const activationKernels = [
  clip,
  hardSigmoid,
  hardSwish,
  leakyRelu,
  elu,
  selu,
  softplus,
  softsign,
  gelu,
];
