// AdaRound (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training Quantization"): rounding each
// weight to its nearest code is optimal for the weight, not for the layer's output. Per weight, a continuous
// variable V chooses between rounding down and up through a rectified sigmoid h(V); Adam minimises the layer's
// output error on calibration inputs plus a regulariser that drives every h to 0 or 1, and the final codes round
// by h. The gradients are worked out by hand here (no autodiff in quantkit): the error term's is two GEMMs, the
// rest is elementwise.
import { createSeededRandom } from '@quantkit/core';

/** The rectified sigmoid's stretch (Nagel et al.): h reaches exactly 0 and 1 for finite V. */
const ZETA = 1.1;
const GAMMA = -0.1;
const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

/** How AdaRound optimises one layer. */
export interface AdaRoundSettings {
  /** Adam steps. */
  readonly iterations: number;
  /** Adam's learning rate on V. */
  readonly learningRate: number;
  /** Weight of the rounding regulariser (lambda). */
  readonly regularization: number;
  /** The regulariser's exponent beta, annealed from betaStart to betaEnd after the warm start. */
  readonly betaStart: number;
  readonly betaEnd: number;
  /** Fraction of the iterations run without the regulariser first. */
  readonly warmup: number;
  /** Columns (input vectors) drawn at random for each step. */
  readonly batchColumns: number;
  readonly seed: number;
}

/**
 * The paper's regulariser (beta 20 -> 2, lambda 0.01, 20% warm start) with far fewer steps than its 10000-20000, so a
 * small layer takes seconds in JS; a learning rate of 1e-2 instead of 1e-3 makes up for them: on the 4-bit test
 * Conv/Conv/Gemm model, held-out SQNR was 17.4 dB with 500 steps at 1e-3, 19.3 with 500 at 1e-2, 19.3 with 2000 at
 * 1e-3 and 19.8 with 2000 at 1e-2 (round-to-nearest 14.1).
 */
export const DEFAULT_ADAROUND_SETTINGS: AdaRoundSettings = {
  iterations: 500,
  learningRate: 1e-2,
  regularization: 0.01,
  betaStart: 20,
  betaEnd: 2,
  warmup: 0.2,
  batchColumns: 256,
  seed: 1,
};

/**
 * One layer's rounding problem, its weight seen as a matrix [rows, inner] (a Conv's output channels by its
 * C/group * kernel patch; a MatMul's output columns by its K). Rows split into `groups` equal runs, each reading its
 * own inputs (grouped and depthwise Conv); `inputs` holds, per group, the input columns [inner, columns] row-major.
 */
export interface RoundingProblem {
  readonly rows: number;
  readonly inner: number;
  readonly groups: number;
  readonly columns: number;
  /** [rows * inner] the float weight. */
  readonly weight: Float32Array;
  /** Per weight element: its scale and zero point. */
  readonly scale: Float32Array;
  readonly zeroPoint: Int32Array;
  readonly qmin: number;
  readonly qmax: number;
  /** [groups * inner * columns] */
  readonly inputs: Float32Array;
}

/** What optimising one layer gave. */
export interface RoundingResult {
  /** Per weight element: the chosen code, within [qmin, qmax]. */
  readonly codes: Int32Array;
  /** Mean over the columns of the squared output error per output value, with the nearest codes and with these. */
  readonly errorBefore: number;
  readonly errorAfter: number;
}

/** h(V) = clip(sigmoid(V) * (zeta - gamma) + gamma, 0, 1) and dh/dV (0 where clipped). */
export function rectifiedSigmoid(value: number): { h: number; slope: number } {
  const sigmoid = 1 / (1 + Math.exp(-value));
  const stretched = sigmoid * (ZETA - GAMMA) + GAMMA;
  if (stretched <= 0) return { h: 0, slope: 0 };
  if (stretched >= 1) return { h: 1, slope: 0 };
  return { h: stretched, slope: sigmoid * (1 - sigmoid) * (ZETA - GAMMA) };
}

/** The V whose h is `fraction` (in [0, 1)): where the optimisation starts, at the float weight itself. */
function inverseRectifiedSigmoid(fraction: number): number {
  const sigmoid = (fraction - GAMMA) / (ZETA - GAMMA);
  return -Math.log(1 / sigmoid - 1);
}

/** Each weight's code floor(W / s) + zeroPoint, divided in float32 as quantizeValue does. */
export function floorCodes(problem: RoundingProblem): Float64Array {
  const { weight, scale, zeroPoint } = problem;
  return Float64Array.from(weight, (value, i) => Math.floor(Math.fround(value / scale[i]!)) + zeroPoint[i]!);
}

/** Starting V per weight: h(V) equals the fractional part of W / s. */
export function initialRounding(problem: RoundingProblem): Float64Array {
  const { weight, scale } = problem;
  return Float64Array.from(weight, (value, i) => {
    const ratio = Math.fround(value / scale[i]!);
    return inverseRectifiedSigmoid(ratio - Math.floor(ratio));
  });
}

/** Weight error (W~ - W) for codes given per element as numbers (fractional while optimising). */
function weightError(problem: RoundingProblem, codes: ArrayLike<number>, out: Float32Array): Float32Array {
  const { weight, scale, zeroPoint } = problem;
  for (let i = 0; i < weight.length; i++) out[i] = scale[i]! * (codes[i]! - zeroPoint[i]!) - weight[i]!;
  return out;
}

/**
 * E = D X for the chosen columns: per group, rows [g * perGroup, (g + 1) * perGroup) of D [rows, inner] times that
 * group's X [inner, count]. Loop order r, k, n keeps the inner loop on contiguous memory in both E and X; four rows
 * at a time share each load of X (about twice as fast in V8 as one).
 */
function multiply(
  problem: RoundingProblem,
  difference: Float32Array,
  x: Float32Array,
  count: number,
  product: Float32Array,
): Float32Array {
  const { rows, inner, groups } = problem;
  const perGroup = rows / groups;
  product.fill(0, 0, rows * count);
  for (let g = 0; g < groups; g++) {
    const end = (g + 1) * perGroup;
    let r = g * perGroup;
    for (; r + 4 <= end; r += 4) {
      const [o0, o1, o2, o3] = [r * count, (r + 1) * count, (r + 2) * count, (r + 3) * count];
      for (let k = 0; k < inner; k++) {
        const d0 = difference[r * inner + k]!;
        const d1 = difference[(r + 1) * inner + k]!;
        const d2 = difference[(r + 2) * inner + k]!;
        const d3 = difference[(r + 3) * inner + k]!;
        if (d0 === 0 && d1 === 0 && d2 === 0 && d3 === 0) continue;
        const base = (g * inner + k) * count;
        for (let n = 0; n < count; n++) {
          const value = x[base + n]!;
          product[o0 + n]! += d0 * value;
          product[o1 + n]! += d1 * value;
          product[o2 + n]! += d2 * value;
          product[o3 + n]! += d3 * value;
        }
      }
    }
    for (; r < end; r++) {
      const out = r * count;
      for (let k = 0; k < inner; k++) {
        const d = difference[r * inner + k]!;
        if (d === 0) continue;
        const base = (g * inner + k) * count;
        for (let n = 0; n < count; n++) product[out + n]! += d * x[base + n]!;
      }
    }
  }
  return product;
}

/** G = factor * E X^T per group, [rows, inner]: dot products over the columns, four rows sharing each load of X. */
function multiplyTransposed(
  problem: RoundingProblem,
  product: Float32Array,
  x: Float32Array,
  count: number,
  factor: number,
  gradient: Float32Array,
): Float32Array {
  const { rows, inner, groups } = problem;
  const perGroup = rows / groups;
  for (let g = 0; g < groups; g++) {
    const end = (g + 1) * perGroup;
    let r = g * perGroup;
    for (; r + 4 <= end; r += 4) {
      const [e0, e1, e2, e3] = [r * count, (r + 1) * count, (r + 2) * count, (r + 3) * count];
      for (let k = 0; k < inner; k++) {
        const base = (g * inner + k) * count;
        let [s0, s1, s2, s3] = [0, 0, 0, 0];
        for (let n = 0; n < count; n++) {
          const value = x[base + n]!;
          s0 += product[e0 + n]! * value;
          s1 += product[e1 + n]! * value;
          s2 += product[e2 + n]! * value;
          s3 += product[e3 + n]! * value;
        }
        gradient[r * inner + k] = s0 * factor;
        gradient[(r + 1) * inner + k] = s1 * factor;
        gradient[(r + 2) * inner + k] = s2 * factor;
        gradient[(r + 3) * inner + k] = s3 * factor;
      }
    }
    for (; r < end; r++) {
      const e = r * count;
      for (let k = 0; k < inner; k++) {
        const base = (g * inner + k) * count;
        let sum = 0;
        for (let n = 0; n < count; n++) sum += product[e + n]! * x[base + n]!;
        gradient[r * inner + k] = sum * factor;
      }
    }
  }
  return gradient;
}

/** The inputs of `indices`' columns, per group [inner, indices.length]. */
function gatherColumns(
  problem: RoundingProblem,
  indices: Int32Array,
  gathered: Float32Array = new Float32Array(problem.groups * problem.inner * indices.length),
): Float32Array {
  const { groups, inner, columns, inputs } = problem;
  const count = indices.length;
  for (let row = 0; row < groups * inner; row++) {
    const from = row * columns;
    const to = row * count;
    for (let n = 0; n < count; n++) gathered[to + n] = inputs[from + indices[n]!]!;
  }
  return gathered;
}

/**
 * Mean over all the problem's columns of the squared output error per output value, ||(W~ - W) x||^2 / rows, for
 * integer codes.
 */
export function reconstructionError(problem: RoundingProblem, codes: ArrayLike<number>): number {
  const difference = weightError(problem, codes, new Float32Array(problem.weight.length));
  const chunk = 1024;
  let total = 0;
  for (let start = 0; start < problem.columns; start += chunk) {
    const count = Math.min(chunk, problem.columns - start);
    const indices = Int32Array.from({ length: count }, (_, n) => start + n);
    const product = multiply(
      problem,
      difference,
      gatherColumns(problem, indices),
      count,
      new Float32Array(problem.rows * count),
    );
    for (const value of product) total += value * value;
  }
  return total / (problem.columns * problem.rows);
}

/** The loss at V on some columns, and its gradient with respect to V (for the optimiser and the gradient check). */
export interface RoundingLoss {
  readonly reconstruction: number;
  readonly regularizer: number;
  readonly gradient: Float64Array;
}

/**
 * loss = (1 / B) sum over the B columns of ||(W~ - W) x||^2 + lambda * sum over weights of (1 - |2h - 1|^beta), with
 * W~ = s * (clamp(floor(W / s) + zeroPoint + h(V), qmin, qmax) - zeroPoint). The gradient by the chain rule:
 * dL/dW~ = (2 / B) (W~ - W) X X^T, dW~/dh = s where the clamp passes h through (0 where it saturates),
 * d(regulariser)/dh = -2 lambda beta |2h - 1|^(beta - 1) sign(2h - 1), and dh/dV from rectifiedSigmoid.
 * `regularization` 0 leaves the regulariser out (the warm start).
 */
export function roundingLoss(
  problem: RoundingProblem,
  floors: Float64Array,
  rounding: Float64Array,
  columnIndices: Int32Array,
  regularization: number,
  beta: number,
  workspace: RoundingWorkspace = createWorkspace(problem, columnIndices.length),
): RoundingLoss {
  const { qmin, qmax, scale } = problem;
  const size = rounding.length;
  const { codes, hs, slopes, passes, difference, gathered, product, errorGradient, gradient } = workspace;
  for (let i = 0; i < size; i++) {
    const { h, slope } = rectifiedSigmoid(rounding[i]!);
    hs[i] = h;
    slopes[i] = slope;
    const floor = floors[i]!;
    // floor + h stays in [qmin, qmax] for every h in [0, 1] exactly when qmin <= floor < qmax.
    passes[i] = floor >= qmin && floor < qmax ? 1 : 0;
    codes[i] = Math.min(Math.max(floor + h, qmin), qmax);
  }
  weightError(problem, codes, difference);
  const count = columnIndices.length;
  const x = gatherColumns(problem, columnIndices, gathered);
  multiply(problem, difference, x, count, product);
  let reconstruction = 0;
  for (let i = 0; i < problem.rows * count; i++) reconstruction += product[i]! * product[i]!;
  reconstruction /= count;
  multiplyTransposed(problem, product, x, count, 2 / count, errorGradient);
  let regularizer = 0;
  for (let i = 0; i < size; i++) {
    let dh = passes[i] === 1 ? errorGradient[i]! * scale[i]! : 0;
    if (regularization > 0) {
      const centred = 2 * hs[i]! - 1;
      const magnitude = Math.abs(centred);
      regularizer += regularization * (1 - magnitude ** beta);
      if (magnitude > 0) dh -= 2 * regularization * beta * magnitude ** (beta - 1) * Math.sign(centred);
    }
    gradient[i] = dh * slopes[i]!;
  }
  return { reconstruction, regularizer, gradient };
}

/** The buffers one step of the optimisation fills, allocated once per layer rather than per step. */
interface RoundingWorkspace {
  readonly codes: Float64Array;
  readonly hs: Float64Array;
  readonly slopes: Float64Array;
  readonly passes: Uint8Array;
  readonly difference: Float32Array;
  readonly gathered: Float32Array;
  readonly product: Float32Array;
  readonly errorGradient: Float32Array;
  readonly gradient: Float64Array;
}

function createWorkspace(problem: RoundingProblem, batch: number): RoundingWorkspace {
  const size = problem.weight.length;
  return {
    codes: new Float64Array(size),
    hs: new Float64Array(size),
    slopes: new Float64Array(size),
    passes: new Uint8Array(size),
    difference: new Float32Array(size),
    gathered: new Float32Array(problem.groups * problem.inner * batch),
    product: new Float32Array(problem.rows * batch),
    errorGradient: new Float32Array(size),
    gradient: new Float64Array(size),
  };
}

/** beta at `step`: betaStart at the end of the warm start, falling linearly to betaEnd at the last step. */
export function annealedBeta(settings: AdaRoundSettings, step: number): number {
  const start = Math.floor(settings.warmup * settings.iterations);
  const progress = (step - start) / Math.max(1, settings.iterations - start);
  return settings.betaEnd + (settings.betaStart - settings.betaEnd) * Math.min(1, Math.max(0, 1 - progress));
}

/** Codes rounded by h: floor + (h >= 0.5), clamped to the code range. */
function finalCodes(problem: RoundingProblem, floors: Float64Array, rounding: Float64Array): Int32Array {
  const { qmin, qmax } = problem;
  return Int32Array.from(floors, (floor, i) => {
    const code = floor + (rectifiedSigmoid(rounding[i]!).h >= 0.5 ? 1 : 0);
    return code < qmin ? qmin : code > qmax ? qmax : code;
  });
}

/**
 * Optimises one layer's rounding and returns the codes with the smaller reconstruction error on the problem's
 * columns: AdaRound's, or the nearest codes `nearest` when (rarely, with few steps) those measure better.
 * `onStep` hears of each step, for progress.
 *
 * @example
 * const { codes, errorBefore, errorAfter } = optimizeRounding(problem, nearestCodes, DEFAULT_ADAROUND_SETTINGS);
 */
export function optimizeRounding(
  problem: RoundingProblem,
  nearest: ArrayLike<number>,
  settings: AdaRoundSettings,
  onStep?: (step: number) => void,
): RoundingResult {
  const floors = floorCodes(problem);
  const rounding = initialRounding(problem);
  const size = rounding.length;
  const firstMoment = new Float64Array(size);
  const secondMoment = new Float64Array(size);
  const random = createSeededRandom(settings.seed);
  const batch = Math.min(settings.batchColumns, problem.columns);
  const warm = Math.floor(settings.warmup * settings.iterations);
  const workspace = createWorkspace(problem, batch);
  const indices = new Int32Array(batch);
  for (let step = 0; step < settings.iterations; step++) {
    for (let n = 0; n < batch; n++) indices[n] = Math.floor(random() * problem.columns);
    // In order, the gather walks each input row forward (the loss does not depend on the columns' order).
    indices.sort();
    const regularization = step < warm ? 0 : settings.regularization;
    const beta = annealedBeta(settings, step);
    const { gradient } = roundingLoss(problem, floors, rounding, indices, regularization, beta, workspace);
    const t = step + 1;
    const correction1 = 1 - ADAM_BETA1 ** t;
    const correction2 = 1 - ADAM_BETA2 ** t;
    for (let i = 0; i < size; i++) {
      const g = gradient[i]!;
      firstMoment[i] = ADAM_BETA1 * firstMoment[i]! + (1 - ADAM_BETA1) * g;
      secondMoment[i] = ADAM_BETA2 * secondMoment[i]! + (1 - ADAM_BETA2) * g * g;
      const m = firstMoment[i]! / correction1;
      const v = secondMoment[i]! / correction2;
      rounding[i]! -= (settings.learningRate * m) / (Math.sqrt(v) + ADAM_EPSILON);
    }
    onStep?.(t);
  }
  const codes = finalCodes(problem, floors, rounding);
  const errorBefore = reconstructionError(problem, nearest);
  const errorAfter = reconstructionError(problem, codes);
  if (errorAfter <= errorBefore) return { codes, errorBefore, errorAfter };
  return { codes: Int32Array.from(nearest), errorBefore, errorAfter: errorBefore };
}
