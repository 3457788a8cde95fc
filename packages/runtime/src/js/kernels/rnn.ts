import { type KernelNode, QuantError, type Tensor } from '@quantkit/core';
import { jsKernel } from '../backend.js';
import { float32Data, integers, required } from '../tensor-utils.js';
import { floatOutput } from './float-output.js';
import { gemmTransposedFloat32 } from './float-gemm.js';

type RnnKind = 'LSTM' | 'GRU' | 'RNN';

/** The activation functions the recurrent ops accept, with the alpha and beta each one reads. */
const activationParameters: Record<string, { alpha?: number; beta?: number }> = {
  sigmoid: {},
  tanh: {},
  relu: {},
  softsign: {},
  softplus: {},
  affine: { alpha: 1, beta: 0 },
  leakyrelu: { alpha: 0.01 },
  thresholdedrelu: { alpha: 1 },
  scaledtanh: { alpha: 1, beta: 1 },
  hardsigmoid: { alpha: 0.2, beta: 0.5 },
  elu: { alpha: 1 },
};

interface Activation {
  readonly name: string;
  readonly alpha: number;
  readonly beta: number;
}

/** Applies an activation in place to `values[begin, end)`. */
function activate(activation: Activation, values: Float32Array, begin: number, end: number): void {
  const { alpha, beta } = activation;
  switch (activation.name) {
    case 'sigmoid':
      for (let i = begin; i < end; i++) values[i] = 1 / (1 + Math.exp(-values[i]!));
      return;
    case 'tanh':
      for (let i = begin; i < end; i++) values[i] = Math.tanh(values[i]!);
      return;
    case 'relu':
      for (let i = begin; i < end; i++) values[i] = Math.max(0, values[i]!);
      return;
    case 'softsign':
      for (let i = begin; i < end; i++) values[i] = values[i]! / (1 + Math.abs(values[i]!));
      return;
    case 'softplus':
      for (let i = begin; i < end; i++) values[i] = Math.log1p(Math.exp(values[i]!));
      return;
    case 'affine':
      for (let i = begin; i < end; i++) values[i] = alpha * values[i]! + beta;
      return;
    case 'leakyrelu':
      for (let i = begin; i < end; i++) values[i] = values[i]! >= 0 ? values[i]! : alpha * values[i]!;
      return;
    case 'thresholdedrelu':
      for (let i = begin; i < end; i++) values[i] = values[i]! > alpha ? values[i]! : 0;
      return;
    case 'scaledtanh':
      for (let i = begin; i < end; i++) values[i] = alpha * Math.tanh(beta * values[i]!);
      return;
    case 'hardsigmoid':
      for (let i = begin; i < end; i++) values[i] = Math.min(1, Math.max(0, alpha * values[i]! + beta));
      return;
    case 'elu':
      for (let i = begin; i < end; i++)
        values[i] = values[i]! >= 0 ? values[i]! : alpha * (Math.exp(values[i]!) - 1);
      return;
  }
}

interface RnnState {
  readonly kind: RnnKind;
  readonly directions: readonly ('forward' | 'reverse')[];
  readonly hiddenSize: number | undefined;
  /** Per direction, the op's activations (LSTM f, g, h; GRU f, g; RNN f). */
  readonly activations: readonly (readonly Activation[])[];
  readonly clip: number | undefined;
  readonly batchFirst: boolean;
  readonly inputForget: boolean;
  readonly linearBeforeReset: boolean;
  readonly outputs: number;
}

const gateCounts: Record<RnnKind, number> = { LSTM: 4, GRU: 3, RNN: 1 };
const defaultActivations: Record<RnnKind, readonly string[]> = {
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  RNN: ['Tanh'],
};

function prepareRnn(kind: RnnKind, node: KernelNode): RnnState {
  const attributes = node.attributes;
  const direction = attributes.string('direction', 'forward');
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw new QuantError(
      'INVALID_MODEL',
      `direction is "${direction}"; expected forward, reverse or bidirectional`,
    );
  }
  const directions: readonly ('forward' | 'reverse')[] =
    direction === 'bidirectional' ? ['forward', 'reverse'] : [direction];
  const perDirection = defaultActivations[kind].length;
  const names = attributes.has('activations')
    ? attributes.get('activations')?.type === 'strings'
      ? (attributes.get('activations')!.value as readonly string[])
      : []
    : directions.flatMap(() => defaultActivations[kind]);
  if (names.length !== perDirection * directions.length) {
    throw new QuantError(
      'INVALID_MODEL',
      `activations lists ${names.length} functions; ${kind} ${direction} takes ${perDirection * directions.length}`,
    );
  }
  const alphas = attributes.floats('activation_alpha', []);
  const betas = attributes.floats('activation_beta', []);
  let alphaAt = 0;
  let betaAt = 0;
  const activations = names.map((name): Activation => {
    const key = name.toLowerCase();
    const parameters = activationParameters[key];
    if (parameters === undefined) {
      throw new QuantError(
        'UNSUPPORTED',
        `activation "${name}" is not one of ${Object.keys(activationParameters).join(', ')}`,
      );
    }
    // Alphas and betas are consumed in order by the functions that take them.
    const alpha = parameters.alpha === undefined ? 0 : (alphas[alphaAt++] ?? parameters.alpha);
    const beta = parameters.beta === undefined ? 0 : (betas[betaAt++] ?? parameters.beta);
    return { name: key, alpha, beta };
  });
  const outputs = node.outputs.length;
  return {
    kind,
    directions,
    hiddenSize: attributes.has('hidden_size') ? attributes.int('hidden_size') : undefined,
    activations: directions.map((_, d) => activations.slice(d * perDirection, (d + 1) * perDirection)),
    clip: attributes.has('clip') ? attributes.float('clip') : undefined,
    batchFirst: attributes.int('layout', 0) === 1,
    inputForget: attributes.int('input_forget', 0) !== 0,
    linearBeforeReset: attributes.int('linear_before_reset', 0) !== 0,
    outputs,
  };
}

function expectShape(tensor: Tensor, shape: readonly number[], what: string): void {
  if (tensor.shape.length !== shape.length || tensor.shape.some((dim, axis) => dim !== shape[axis])) {
    throw new QuantError(
      'INVALID_MODEL',
      `${what} is [${tensor.shape.join(', ')}]; expected [${shape.join(', ')}]`,
    );
  }
}

/**
 * Runs LSTM, GRU or RNN: per direction, the input projection of every time step at once (X times W transposed, plus
 * both biases), then step by step the recurrent projection of all batch rows at once and each row's gate
 * equations. Each batch row runs for its own sequence_lens entry (a reverse pass starts at its last valid step); Y
 * is zero past it and Y_h (Y_c) hold the state after its last valid step.
 */
function runRnn(state: RnnState, inputs: readonly (Tensor | undefined)[]): Tensor[] {
  const { kind, directions, batchFirst } = state;
  const gateCount = gateCounts[kind];
  const x = required(inputs[0], 'X');
  const w = required(inputs[1], 'W');
  const r = required(inputs[2], 'R');
  const [bInput, lengthsInput, initialHInput] = [inputs[3], inputs[4], inputs[5]];
  const initialCInput = kind === 'LSTM' ? inputs[6] : undefined;
  const peepholeInput = kind === 'LSTM' ? inputs[7] : undefined;
  if (x.shape.length !== 3)
    throw new QuantError('INVALID_MODEL', `X is [${x.shape.join(', ')}]; expected rank 3`);
  const [sequence, batch] = batchFirst ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const inputSize = x.shape[2]!;
  const hidden = state.hiddenSize ?? r.shape[2] ?? 0;
  const dirs = directions.length;
  const width = gateCount * hidden;
  expectShape(w, [dirs, width, inputSize], 'W');
  expectShape(r, [dirs, width, hidden], 'R');
  if (bInput !== undefined) expectShape(bInput, [dirs, 2 * width], 'B');
  const stateShape = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
  if (initialHInput !== undefined) expectShape(initialHInput, stateShape, 'initial_h');
  if (initialCInput !== undefined) expectShape(initialCInput, stateShape, 'initial_c');
  if (peepholeInput !== undefined) expectShape(peepholeInput, [dirs, 3 * hidden], 'P');
  const lengths =
    lengthsInput === undefined ? new Array<number>(batch).fill(sequence) : integers(lengthsInput);
  if (lengths.length !== batch || lengths.some((length) => length < 0 || length > sequence)) {
    throw new QuantError(
      'INVALID_MODEL',
      `sequence_lens is [${lengths.join(', ')}]; expected ${batch} lengths from 0 to ${sequence}`,
    );
  }
  const xData = float32Data(x, 'X');
  const wData = float32Data(w, 'W');
  const rData = float32Data(r, 'R');
  const bData = bInput === undefined ? undefined : float32Data(bInput, 'B');
  const initialH = initialHInput === undefined ? undefined : float32Data(initialHInput, 'initial_h');
  const initialC = initialCInput === undefined ? undefined : float32Data(initialCInput, 'initial_c');
  const peepholes = peepholeInput === undefined ? undefined : float32Data(peepholeInput, 'P');

  const y = new Float32Array(sequence * dirs * batch * hidden);
  const yH = new Float32Array(dirs * batch * hidden);
  const yC = new Float32Array(dirs * batch * hidden);
  // Element offsets: Y is [seq, dirs, batch, H] or (layout 1) [batch, seq, dirs, H]; states [dirs, batch, H] or
  // [batch, dirs, H]; X rows are time-major or batch-major.
  const yAt = (t: number, d: number, b: number) =>
    (batchFirst ? (b * sequence + t) * dirs + d : (t * dirs + d) * batch + b) * hidden;
  const stateAt = (d: number, b: number) => (batchFirst ? b * dirs + d : d * batch + b) * hidden;
  const rowOf = (t: number, b: number) => (batchFirst ? b * sequence + t : t * batch + b);

  const projected = new Float32Array(sequence * batch * width);
  const gates = new Float32Array(batch * width);
  const h = new Float32Array(batch * hidden);
  const c = new Float32Array(batch * hidden);
  // GRU without linear_before_reset multiplies R's hidden-gate rows by r * h, known only after r: the step's first
  // product covers the z and r rows, a second one (r * h) by the hidden-gate rows.
  const resetFirst = kind === 'GRU' && !state.linearBeforeReset;
  const recurrentWidth = resetFirst ? 2 * hidden : width;
  const recurrent = new Float32Array(batch * recurrentWidth);
  const resetHidden = resetFirst ? new Float32Array(batch * hidden) : undefined;
  const hiddenRecurrent = resetFirst ? new Float32Array(batch * hidden) : undefined;
  const maxLength = lengths.reduce((a, b) => Math.max(a, b), 0);
  const clip = state.clip;
  for (let d = 0; d < dirs; d++) {
    const reverse = directions[d] === 'reverse';
    const [f1, f2, f3] = state.activations[d]!;
    // Input projection of all steps at once, plus Wb and (except GRU's hidden gate, where r may multiply it) Rb.
    projected.fill(0);
    gemmTransposedFloat32(
      xData,
      0,
      wData,
      d * width * inputSize,
      projected,
      0,
      sequence * batch,
      inputSize,
      width,
    );
    const rBias = new Float32Array(width);
    if (bData !== undefined) {
      const base = d * 2 * width;
      for (let j = 0; j < width; j++) rBias[j] = bData[base + width + j]!;
      for (let row = 0; row < sequence * batch; row++) {
        for (let j = 0; j < width; j++) {
          const keepRecurrentBias = kind === 'GRU' && j >= 2 * hidden;
          projected[row * width + j]! += bData[base + j]! + (keepRecurrentBias ? 0 : rBias[j]!);
        }
      }
    }
    for (let b = 0; b < batch; b++) {
      const at = stateAt(d, b);
      for (let k = 0; k < hidden; k++) {
        h[b * hidden + k] = initialH === undefined ? 0 : initialH[at + k]!;
        c[b * hidden + k] = initialC === undefined ? 0 : initialC[at + k]!;
      }
    }
    const rBase = d * width * hidden;
    const timeOf = (step: number, b: number) => (reverse ? lengths[b]! - 1 - step : step);
    for (let step = 0; step < maxLength; step++) {
      // Each batch row at its own time step (a reverse pass starts at the row's last valid step); rows past their
      // length compute on zeros and keep their state.
      for (let b = 0; b < batch; b++) {
        const length = lengths[b]!;
        if (step >= length) {
          gates.fill(0, b * width, (b + 1) * width);
          continue;
        }
        const row = rowOf(timeOf(step, b), b);
        gates.set(projected.subarray(row * width, (row + 1) * width), b * width);
      }
      recurrent.fill(0);
      gemmTransposedFloat32(h, 0, rData, rBase, recurrent, 0, batch, hidden, recurrentWidth);
      for (let b = 0; b < batch; b++) {
        if (step >= lengths[b]!) continue;
        const g = b * width;
        const s = b * hidden;
        const row = b * recurrentWidth;
        if (kind === 'LSTM') {
          for (let j = 0; j < width; j++) gates[g + j] = gates[g + j]! + recurrent[row + j]!;
          stepLstm(gates, g, h, c, s, hidden, f1!, f2!, f3!, clip, peepholes, d, state.inputForget);
        } else if (kind === 'RNN') {
          for (let j = 0; j < width; j++) gates[g + j] = gates[g + j]! + recurrent[row + j]!;
          clipRange(gates, g, g + hidden, clip);
          activate(f1!, gates, g, g + hidden);
          for (let k = 0; k < hidden; k++) h[s + k] = gates[g + k]!;
        } else {
          for (let j = 0; j < 2 * hidden; j++) gates[g + j] = gates[g + j]! + recurrent[row + j]!;
          clipRange(gates, g, g + 2 * hidden, clip);
          activate(f1!, gates, g, g + 2 * hidden);
          if (resetHidden !== undefined) {
            for (let k = 0; k < hidden; k++) resetHidden[s + k] = gates[g + hidden + k]! * h[s + k]!;
          } else {
            // linear_before_reset: r * (h Rh^T + Rbh).
            for (let k = 0; k < hidden; k++) {
              const linear = recurrent[row + 2 * hidden + k]! + rBias[2 * hidden + k]!;
              gates[g + 2 * hidden + k]! += gates[g + hidden + k]! * linear;
            }
          }
        }
      }
      if (kind !== 'GRU') {
        for (let b = 0; b < batch; b++) {
          if (step < lengths[b]!) y.set(h.subarray(b * hidden, (b + 1) * hidden), yAt(timeOf(step, b), d, b));
        }
        continue;
      }
      if (resetHidden !== undefined && hiddenRecurrent !== undefined) {
        // (r * h) Rh^T + Rbh; rows past their length multiply their kept state, unused.
        hiddenRecurrent.fill(0);
        const hiddenRows = rBase + 2 * hidden * hidden;
        gemmTransposedFloat32(resetHidden, 0, rData, hiddenRows, hiddenRecurrent, 0, batch, hidden, hidden);
      }
      for (let b = 0; b < batch; b++) {
        if (step >= lengths[b]!) continue;
        const g = b * width;
        const s = b * hidden;
        if (hiddenRecurrent !== undefined) {
          for (let k = 0; k < hidden; k++) {
            gates[g + 2 * hidden + k]! += hiddenRecurrent[s + k]! + rBias[2 * hidden + k]!;
          }
        }
        clipRange(gates, g + 2 * hidden, g + 3 * hidden, clip);
        activate(f2!, gates, g + 2 * hidden, g + 3 * hidden);
        for (let k = 0; k < hidden; k++) {
          const z = gates[g + k]!;
          h[s + k] = (1 - z) * gates[g + 2 * hidden + k]! + z * h[s + k]!;
        }
        y.set(h.subarray(s, s + hidden), yAt(timeOf(step, b), d, b));
      }
    }
    for (let b = 0; b < batch; b++) {
      yH.set(h.subarray(b * hidden, (b + 1) * hidden), stateAt(d, b));
      yC.set(c.subarray(b * hidden, (b + 1) * hidden), stateAt(d, b));
    }
  }
  const yShape = batchFirst ? [batch, sequence, dirs, hidden] : [sequence, dirs, batch, hidden];
  const outputs = [
    floatOutput(x.dtype, yShape, y),
    floatOutput(x.dtype, stateShape, yH),
    floatOutput(x.dtype, stateShape, yC),
  ];
  return outputs.slice(0, Math.max(1, Math.min(state.outputs, kind === 'LSTM' ? 3 : 2)));
}

function clipRange(values: Float32Array, begin: number, end: number, clip: number | undefined): void {
  if (clip === undefined) return;
  for (let i = begin; i < end; i++) values[i] = Math.min(clip, Math.max(-clip, values[i]!));
}

/**
 * One LSTM step of one batch row on its gate pre-activations at `g` (i, o, f, c order): peepholes, clip and
 * activations, then the new cell state into `c` and hidden state into `h` at `s`.
 */
function stepLstm(
  gates: Float32Array,
  g: number,
  h: Float32Array,
  c: Float32Array,
  s: number,
  hidden: number,
  f: Activation,
  gFunction: Activation,
  hFunction: Activation,
  clip: number | undefined,
  peepholes: Float32Array | undefined,
  direction: number,
  inputForget: boolean,
): void {
  const input = g;
  const output = g + hidden;
  const forget = g + 2 * hidden;
  const cell = g + 3 * hidden;
  const peephole = direction * 3 * hidden;
  if (peepholes !== undefined) {
    for (let k = 0; k < hidden; k++) {
      gates[input + k]! += peepholes[peephole + k]! * c[s + k]!;
      gates[forget + k]! += peepholes[peephole + 2 * hidden + k]! * c[s + k]!;
    }
  }
  // Clip applies to each activation's input: the output gate's only after its peephole reads the new cell state.
  clipRange(gates, input, input + hidden, clip);
  clipRange(gates, forget, cell + hidden, clip);
  activate(f, gates, input, input + hidden);
  if (inputForget) for (let k = 0; k < hidden; k++) gates[forget + k] = 1 - gates[input + k]!;
  else activate(f, gates, forget, forget + hidden);
  activate(gFunction, gates, cell, cell + hidden);
  for (let k = 0; k < hidden; k++) {
    c[s + k] = gates[forget + k]! * c[s + k]! + gates[input + k]! * gates[cell + k]!;
  }
  if (peepholes !== undefined) {
    for (let k = 0; k < hidden; k++) gates[output + k]! += peepholes[peephole + hidden + k]! * c[s + k]!;
  }
  clipRange(gates, output, output + hidden, clip);
  activate(f, gates, output, output + hidden);
  for (let k = 0; k < hidden; k++) gates[cell + k] = c[s + k]!;
  activate(hFunction, gates, cell, cell + hidden);
  for (let k = 0; k < hidden; k++) h[s + k] = gates[output + k]! * gates[cell + k]!;
}

/**
 * LSTM: forward, reverse or bidirectional; optional B, sequence_lens, initial_h, initial_c and peepholes P;
 * any activations, clip, input_forget, layout 0 and 1; outputs Y, Y_h, Y_c.
 */
export const lstmKernel = jsKernel('LSTM', {
  prepare: (node) => prepareRnn('LSTM', node),
  run: (state, inputs) => runRnn(state, inputs),
});

/** GRU: as LSTM without the cell state, with linear_before_reset. */
export const gruKernel = jsKernel('GRU', {
  prepare: (node) => prepareRnn('GRU', node),
  run: (state, inputs) => runRnn(state, inputs),
});

/** RNN: the plain recurrent layer, H = f(X W^T + H R^T + Wb + Rb). */
export const rnnKernel = jsKernel('RNN', {
  prepare: (node) => prepareRnn('RNN', node),
  run: (state, inputs) => runRnn(state, inputs),
});
