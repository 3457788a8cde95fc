// The baseline that issue 10 measures quantkit's static mode against: a min-max static quantizer that behaves
// like onnxruntime.quantization.quantize_static with its usual settings (QuantFormat.QDQ, per_channel=True,
// activations QUInt8, weights QInt8, CalibrationMethod.MinMax), preceded by the pre-processing onnxruntime's
// documentation asks for (quant_pre_process: onnxruntime's basic graph optimizations). Written from the ONNX
// operator definitions and the documented behaviour of those options; no onnxruntime source is copied.
//
// Steps, each a function below:
//  1. preprocess: onnxruntime-node optimizes the float model at level 'basic' and writes it out (BatchNorm folded
//     into Conv, Constant nodes turned into initializers, constant subexpressions folded). Only ONNX ops result.
//  2. calibrate: the float model runs on every calibration sample with each activation that needs a range added
//     as a graph output; a tensor's range is the min and max over all samples, widened to include 0.
//  3. upgrade: models below opset 13 are moved to opset 13 (per-channel DequantizeLinear needs it; onnxruntime
//     refuses per-channel QDQ below 13, so its users convert first). Only operators whose meaning changed are
//     rewritten; see upgradeToOpset13.
//  4. insert QDQ: for Conv, MatMul, Gemm, Add, Mul, Concat and GlobalAveragePool nodes of the main graph, float
//     activation inputs and outputs get one QuantizeLinear -> DequantizeLinear pair per tensor (uint8,
//     asymmetric); weights become int8 codes (symmetric, per output channel) behind a DequantizeLinear; Conv and
//     Gemm biases become int32 codes at input scale x weight scale; other constant inputs become uint8 codes
//     with their own min-max range, as onnxruntime treats a constant in an activation slot.
//
// Choices where onnxruntime leaves room or versions differ: int8 weight codes stay in [-127, 127] (recent
// onnxruntime's symmetric range, so scale = max|w| / 127); a weight slice of zeros gets scale 1; rounding is to
// nearest, ties to even, as QuantizeLinear rounds.
//
// Where this differs from onnxruntime (kept small on purpose; see README.md):
//  - onnxruntime's default op list also covers data-movement ops (Reshape, Transpose, MaxPool, Resize, ...);
//    the reference quantizes only the seven op types issue 10 names.
//  - onnxruntime's own handling of opset 9/10 (relabel as 11, then refuse per-channel QDQ below 13) is replaced
//    by a real conversion to 13.
// Like onnxruntime by default, nodes inside If/Loop/Scan bodies are left float.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { axisLayout, createTensor } from '@quantkit/core';
import {
  createNode,
  decodeModel,
  encodeModel,
  exposeOutputsInBytes,
  floatAttribute,
  intAttribute,
  intsAttribute,
  isDefaultDomain,
  numberToInt64,
  opsetVersion,
  setOpsetVersion,
  subgraphsOf,
} from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';

/** The op types whose inputs and outputs the reference quantizes (issue 10's list). */
export const REFERENCE_OP_TYPES = new Set([
  'Conv',
  'MatMul',
  'Gemm',
  'Add',
  'Mul',
  'Concat',
  'GlobalAveragePool',
]);

const QDQ_OPSET = 13;
const UINT8_MAX = 255;
const INT8_LIMIT = 127;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Quantizes a float ONNX model the way onnxruntime's min-max static QDQ quantizer would (see the file header).
 * @param {Uint8Array} modelBytes the float model
 * @param {ReadonlyArray<Record<string, { dtype: string, shape: readonly number[], data: ArrayLike<unknown> }>>}
 *   calibrationSamples feeds keyed by input name (onnxruntime Tensors work too)
 * @param {{ preprocess?: boolean }} [options] preprocess (default true) runs onnxruntime's basic optimizations
 *   first, as quant_pre_process does
 * @returns {Promise<Uint8Array>} the quantized model
 * @throws Error when the model needs an opset conversion this file does not do, or has no calibration samples
 */
export async function referenceQuantize(modelBytes, calibrationSamples, options = {}) {
  return (await referenceQuantizeWithSummary(modelBytes, calibrationSamples, options)).bytes;
}

/**
 * {@link referenceQuantize} plus what it did: the opset before and after, and the quantized nodes by op type
 * (a model whose compute sits in If bodies ends up with none, and the bench says so).
 * @returns {Promise<{ bytes: Uint8Array, summary: { opsetFrom: number, opsetTo: number, quantizedNodes: Record<string, number>, activations: number, weights: number } }>}
 */
export async function referenceQuantizeWithSummary(modelBytes, calibrationSamples, options = {}) {
  if (calibrationSamples.length === 0) throw new Error('the reference quantizer needs calibration samples');
  const bytes = options.preprocess === false ? modelBytes : await optimizeBasic(modelBytes);
  const model = decodeModel(bytes);
  const opsetFrom = opsetVersion(model);
  if (opsetFrom === undefined) throw new Error('the model imports no default ONNX opset');
  const { graph } = model;
  const targets = graph.nodes.filter(
    (node) => isDefaultDomain(node.domain) && REFERENCE_OP_TYPES.has(node.opType),
  );

  // Every value a target reads or writes that is computed at run time; initializers are handled from their data.
  const wanted = new Set();
  for (const node of targets) {
    for (const name of [...node.inputs, ...node.outputs])
      if (name !== '' && !graph.isInitializer(name)) wanted.add(name);
  }
  // Softmax changed meaning at opset 13; the upgrade needs each input's rank, which calibration sees.
  if (opsetFrom < QDQ_OPSET) {
    for (const node of graph.nodes) if (SOFTMAX_LIKE.has(node.opType)) wanted.add(node.inputs[0]);
  }
  const stats = await calibrate(bytes, model, [...wanted], calibrationSamples);

  if (opsetFrom < QDQ_OPSET) upgradeToOpset13(model, stats);
  const counts = insertQdq(graph, targets, stats);
  graph.removeUnused();
  graph.topologicalSort();
  return {
    bytes: encodeModel(model),
    summary: { opsetFrom, opsetTo: Math.max(opsetFrom, QDQ_OPSET), ...counts },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Pre-processing

/** The model onnxruntime-node writes after its level-'basic' optimizations (what quant_pre_process keeps). */
async function optimizeBasic(modelBytes) {
  const folder = mkdtempSync(join(tmpdir(), 'reference-quantizer-'));
  try {
    const path = join(folder, 'preprocessed.onnx');
    const session = await ort.InferenceSession.create(modelBytes, {
      graphOptimizationLevel: 'basic',
      optimizedModelFilePath: path,
    });
    await session.release();
    return new Uint8Array(readFileSync(path));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Calibration

function toOrtTensor(value) {
  if (value instanceof ort.Tensor) return value;
  return new ort.Tensor(value.dtype, value.data, value.shape);
}

/**
 * Runs the float model on every sample and keeps, per wanted value, its element type, rank and the min and max
 * over all samples. The session runs unoptimized so every exposed value is the float model's own.
 * @returns {Promise<Map<string, { dtype: string, rank: number, min: number, max: number }>>}
 */
async function calibrate(bytes, model, names, samples) {
  const { graph } = model;
  const exposed = names.filter((name) => !graph.isInput(name));
  const probe = exposeOutputsInBytes(bytes, model, exposed);
  const session = await ort.InferenceSession.create(probe, { graphOptimizationLevel: 'disabled' });
  const stats = new Map();
  const observe = (name, tensor) => {
    const dtype = tensor.type ?? tensor.dtype;
    const rank = (tensor.dims ?? tensor.shape).length;
    let entry = stats.get(name);
    if (entry === undefined) {
      entry = { dtype, rank, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      stats.set(name, entry);
    }
    if (dtype !== 'float32') return;
    // Plain min and max, as onnxruntime's MinMax calibrator keeps them: an infinite value would make the scale
    // infinite there too (no corpus model produces one on its recipes).
    const { min, max } = rangeOf(tensor.data);
    entry.min = Math.min(entry.min, min);
    entry.max = Math.max(entry.max, max);
  };
  try {
    for (const sample of samples) {
      const feeds = {};
      for (const input of session.inputNames) feeds[input] = toOrtTensor(sample[input]);
      const outputs = await session.run(feeds);
      for (const name of names) {
        const tensor = graph.isInput(name) ? sample[name] : outputs[name];
        if (tensor !== undefined) observe(name, tensor);
      }
    }
  } finally {
    await session.release();
  }
  return stats;
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Opset upgrade

const SOFTMAX_LIKE = new Set(['Softmax', 'LogSoftmax', 'Hardmax']);

/**
 * Moves the model (main graph and bodies) to opset 13. Operators whose inputs or meaning changed between the
 * model's opset and 13 are rewritten to the same computation: Slice and TopK (10: attributes became inputs), Clip
 * and Pad (11), Dropout (12: ratio became an input), Squeeze, Unsqueeze, Split and ReduceSum (13: attributes
 * became inputs), Softmax, LogSoftmax and Hardmax (13: one axis instead of everything from `axis` on). Others
 * whose meaning changed and that no corpus model uses (Upsample, Scatter, Resize-10) are refused.
 * @throws Error naming the operator when it cannot be converted
 */
function upgradeToOpset13(model, stats) {
  const from = opsetVersion(model);
  const main = model.graph;
  const constant = (graph, base, dtype, shape, data) => {
    const name = main.uniqueName(base);
    graph.addInitializer(name, createTensor(dtype, shape, data));
    return name;
  };
  // Saturating: an INT64_MAX attribute ("to the end") decodes to 2^63 as a number and must not wrap around.
  const int64s = (graph, base, values) =>
    constant(graph, base, 'int64', [values.length], BigInt64Array.from(values, numberToInt64));
  const scalarLike = (graph, base, like, value) => {
    const dtype = graph.valueType(like)?.dtype ?? stats.get(like)?.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64')
      throw new Error(`cannot move a ${dtype} input of "${like}" to opset 13`);
    const data = dtype === 'float32' ? Float32Array.of(value) : Float64Array.of(value);
    return constant(graph, base, dtype, [], data);
  };
  // Moves an ints attribute to input `position` (the inputs before it are present in every case used here).
  const attributeToInput = (graph, node, attribute, position) => {
    const values = intsAttribute(node, attribute);
    node.attributes.delete(attribute);
    if (values === undefined) return;
    node.inputs.length = Math.max(node.inputs.length, position);
    node.inputs[position] = int64s(graph, `${node.name || node.outputs[0]}_${attribute}`, values);
  };
  const dropTrailingEmpty = (node) => {
    while (node.inputs.length > 0 && node.inputs[node.inputs.length - 1] === '') node.inputs.pop();
  };

  const upgradeGraph = (graph) => {
    for (const node of [...graph.nodes]) {
      for (const body of subgraphsOf(node)) upgradeGraph(body);
      if (!isDefaultDomain(node.domain)) continue;
      const label = `${node.opType} "${node.name || node.outputs[0]}"`;
      switch (node.opType) {
        case 'Upsample':
        case 'Scatter':
          throw new Error(`the reference does not move ${label} from opset ${from} to ${QDQ_OPSET}`);
        case 'Resize':
          if (from < 11) throw new Error(`the reference does not move ${label} from opset ${from} to 11+`);
          break;
        case 'Slice':
          if (from < 10) {
            const axes = intsAttribute(node, 'axes');
            attributeToInput(graph, node, 'starts', 1);
            attributeToInput(graph, node, 'ends', 2);
            if (axes !== undefined)
              node.inputs[3] = int64s(graph, `${node.name || node.outputs[0]}_axes`, axes);
            node.attributes.delete('axes');
          }
          break;
        case 'TopK':
          if (from < 10) {
            node.inputs[1] = int64s(graph, `${node.name || node.outputs[0]}_k`, [intAttribute(node, 'k', 1)]);
            node.attributes.delete('k');
          }
          break;
        case 'Clip':
          if (from < 11) {
            // Clip-6 bounds default to the float range, the same as leaving the opset-11 inputs out.
            const min = floatAttribute(node, 'min');
            const max = floatAttribute(node, 'max');
            node.attributes.delete('min');
            node.attributes.delete('max');
            const base = node.name || node.outputs[0];
            node.inputs[1] = min === undefined ? '' : scalarLike(graph, `${base}_min`, node.inputs[0], min);
            node.inputs[2] = max === undefined ? '' : scalarLike(graph, `${base}_max`, node.inputs[0], max);
            dropTrailingEmpty(node);
          }
          break;
        case 'Pad':
          if (from < 11) {
            const value = floatAttribute(node, 'value');
            attributeToInput(graph, node, 'pads', 1);
            node.attributes.delete('value');
            if (value !== undefined && value !== 0)
              node.inputs[2] = scalarLike(
                graph,
                `${node.name || node.outputs[0]}_value`,
                node.inputs[0],
                value,
              );
          }
          break;
        case 'Dropout':
          if (from < 12) {
            const ratio = floatAttribute(node, 'ratio');
            node.attributes.delete('ratio');
            if (ratio !== undefined)
              node.inputs[1] = scalarLike(
                graph,
                `${node.name || node.outputs[0]}_ratio`,
                node.inputs[0],
                ratio,
              );
          }
          break;
        case 'Squeeze':
        case 'Unsqueeze':
        case 'ReduceSum':
          attributeToInput(graph, node, 'axes', 1);
          break;
        case 'Split':
          attributeToInput(graph, node, 'split', 1);
          break;
        case 'Softmax':
        case 'LogSoftmax':
        case 'Hardmax':
          upgradeSoftmax(main, graph, node, stats.get(node.inputs[0])?.rank);
          break;
        default:
          break;
      }
    }
    graph.invalidate();
  };
  upgradeGraph(main);
  setOpsetVersion(model, QDQ_OPSET);
  // Opset 13 came with IR version 7.
  if (model.irVersion < 7) model.irVersion = 7;
}

/**
 * Before opset 13 a Softmax works on the input flattened to 2-D at `axis` (default 1); from 13 on, along one
 * axis (default -1). The two agree when `axis` is the last one; otherwise the old form is spelled out:
 * Flatten(axis) -> op(axis -1) -> Reshape back to the input's shape.
 */
function upgradeSoftmax(main, graph, node, rank) {
  const axis = intAttribute(node, 'axis', 1);
  const normalized = rank !== undefined && axis < 0 ? axis + rank : axis;
  if (rank !== undefined && normalized === rank - 1) {
    node.attributes.set('axis', { type: 'int', value: -1 });
    return;
  }
  const [input] = node.inputs;
  const [output] = node.outputs;
  const base = node.name || output;
  const shape = main.uniqueName(`${base}_input_shape`);
  const flat = main.uniqueName(`${base}_flat`);
  const result = main.uniqueName(`${base}_flat_out`);
  graph.addNode(
    createNode({
      name: main.uniqueName(`${base}_shape`),
      opType: 'Shape',
      inputs: [input],
      outputs: [shape],
    }),
  );
  graph.addNode(
    createNode({
      name: main.uniqueName(`${base}_flatten`),
      opType: 'Flatten',
      inputs: [input],
      outputs: [flat],
      attributes: { axis },
    }),
  );
  node.inputs[0] = flat;
  node.outputs[0] = result;
  node.attributes.set('axis', { type: 'int', value: -1 });
  graph.addNode(
    createNode({
      name: main.uniqueName(`${base}_unflatten`),
      opType: 'Reshape',
      inputs: [result, shape],
      outputs: [output],
    }),
  );
  graph.invalidate();
  graph.topologicalSort();
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Quantization parameters and QDQ insertion

/** Rounding to the nearest integer, ties to even, as QuantizeLinear (and numpy) round. */
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * uint8 asymmetric parameters for a range: the range is widened to include 0 (so 0 is exact, which zero padding
 * and ReLU outputs need), scale spans it in 255 steps, and a range of width 0 gets scale 1 and zero point 0.
 */
export function activationParameters(min, max) {
  const low = Math.min(min, 0);
  const high = Math.max(max, 0);
  const scale = Math.fround((high - low) / UINT8_MAX);
  if (!(scale >= 1.1754943508222875e-38) || !Number.isFinite(scale)) return { scale: 1, zeroPoint: 0 };
  const zeroPoint = Math.min(UINT8_MAX, Math.max(0, roundHalfEven(-low / scale)));
  return { scale, zeroPoint };
}

/**
 * int8 symmetric codes for a weight, one scale per slice along `axis` (or one for the whole tensor when axis is
 * undefined): scale = max|w| / 127 so codes stay in [-127, 127] and the zero point is 0. An all-zero slice gets
 * scale 1 (its codes are 0 whatever the scale; 1 keeps bias scales derived from it finite and non-zero).
 */
export function symmetricWeight(tensor, axis) {
  const { outer, axisSize, inner } =
    axis === undefined
      ? { outer: 1, axisSize: 1, inner: tensor.data.length }
      : axisLayout(tensor.shape, axis);
  const scales = new Float32Array(axisSize);
  const codes = new Int8Array(tensor.data.length);
  for (let channel = 0; channel < axisSize; channel++) {
    let absMax = 0;
    for (let o = 0; o < outer; o++) {
      const start = (o * axisSize + channel) * inner;
      for (let i = start; i < start + inner; i++) absMax = Math.max(absMax, Math.abs(tensor.data[i]));
    }
    const scale = absMax > 0 ? Math.fround(absMax / INT8_LIMIT) : 1;
    scales[channel] = scale;
    for (let o = 0; o < outer; o++) {
      const start = (o * axisSize + channel) * inner;
      for (let i = start; i < start + inner; i++) {
        codes[i] = Math.max(-INT8_LIMIT, Math.min(INT8_LIMIT, roundHalfEven(tensor.data[i] / scale)));
      }
    }
  }
  return { codes, scales };
}

/**
 * The per-channel weight axis onnxruntime uses for an initializer in input `position` of `node`, or undefined for
 * one scale per tensor. Conv: output channels (0). Gemm B: its N axis (0 with transB, else 1). MatMul: axis 1 of
 * any initializer of rank 2 or more (for the usual 2-D B that is its last axis, the output channels).
 */
function weightAxis(node, position, rank) {
  if (node.opType === 'Conv' && position === 1) return 0;
  if (node.opType === 'Gemm' && position === 1) return intAttribute(node, 'transB', 0) === 1 ? 0 : 1;
  if (node.opType === 'MatMul' && rank >= 2) return 1;
  return undefined;
}

/** What one input of a target node is: a run-time activation, a weight, a bias, or another constant. */
function inputKind(graph, node, position) {
  const name = node.inputs[position];
  if (name === '') return undefined;
  const initializer = graph.initializers.get(name);
  if (initializer === undefined) return 'activation';
  if (initializer.dtype !== 'float32') return undefined;
  if ((node.opType === 'Conv' || node.opType === 'Gemm') && position === 2) return 'bias';
  if (node.opType === 'Conv' || node.opType === 'Gemm' || node.opType === 'MatMul') return 'weight';
  return 'constant';
}

/**
 * Rewrites the main graph: Q/DQ pairs on activations, DequantizeLinear behind integer initializers. Returns how
 * many nodes, activations and weights were quantized.
 */
function insertQdq(graph, targets, stats) {
  const activationParams = new Map();
  const paramsOf = (name) => {
    if (activationParams.has(name)) return activationParams.get(name);
    const entry = stats.get(name);
    const params =
      entry === undefined || entry.dtype !== 'float32' || !(entry.min <= entry.max)
        ? undefined
        : activationParameters(entry.min, entry.max);
    activationParams.set(name, params);
    return params;
  };
  const scalar = (base, dtype, value) => {
    const name = graph.uniqueName(base);
    const data = dtype === 'float32' ? Float32Array.of(value) : Uint8Array.of(value);
    graph.addInitializer(name, createTensor(dtype, [], data));
    return name;
  };

  // Plan first, on the original names: which activations get a Q/DQ pair, which initializer inputs are replaced.
  const activations = new Set();
  const initializerUses = [];
  const quantizedNodes = {};
  // Inputs as the plan saw them: rewiring below renames them, and a bias needs its node's float input and weight.
  const originalInputs = new Map();
  for (const node of targets) {
    originalInputs.set(node, [...node.inputs]);
    let quantized = false;
    for (const [position, name] of node.inputs.entries()) {
      const kind = inputKind(graph, node, position);
      if (kind === 'activation') {
        if (paramsOf(name) === undefined) continue;
        activations.add(name);
        quantized = true;
      } else if (kind !== undefined) {
        initializerUses.push({ node, position, name, kind });
        quantized = true;
      }
    }
    for (const name of node.outputs) if (paramsOf(name) !== undefined) activations.add(name);
    if (quantized) quantizedNodes[node.opType] = (quantizedNodes[node.opType] ?? 0) + 1;
  }

  // Activations: Q reads the float value, DQ writes what every main-graph consumer reads from then on. A graph
  // output keeps its name on the DQ, so the producer writes a renamed float value instead.
  for (const name of activations) {
    const { scale, zeroPoint } = paramsOf(name);
    const scaleName = scalar(`${name}_scale`, 'float32', scale);
    const zeroPointName = scalar(`${name}_zero_point`, 'uint8', zeroPoint);
    const codes = graph.uniqueName(`${name}_quantized`);
    const isOutput = graph.isOutput(name);
    let floatName = name;
    let dequantized = graph.uniqueName(`${name}_dequantized`);
    if (isOutput) {
      const producer = graph.producer(name);
      if (producer === undefined) continue; // a graph input passed straight through: nothing to quantize
      floatName = graph.uniqueName(`${name}_float`);
      graph.replaceOutput(producer, name, floatName);
      dequantized = name;
    }
    const quantize = createNode({
      name: graph.uniqueName(`${name}_QuantizeLinear`),
      opType: 'QuantizeLinear',
      inputs: [floatName, scaleName, zeroPointName],
      outputs: [codes],
    });
    const dequantize = createNode({
      name: graph.uniqueName(`${name}_DequantizeLinear`),
      opType: 'DequantizeLinear',
      inputs: [codes, scaleName, zeroPointName],
      outputs: [dequantized],
    });
    if (!isOutput) graph.replaceAllUses(name, dequantized, { outputs: false });
    graph.addNode(quantize);
    graph.addNode(dequantize);
  }

  // Initializers: each replaced by integer codes behind a DequantizeLinear, shared by every use of the same kind.
  const dequantizedInitializers = new Map();
  const addDequantized = (key, base, codesTensor, scales, zeroPoints, axis) => {
    const codesName = graph.uniqueName(`${base}_quantized`);
    graph.addInitializer(codesName, codesTensor);
    const scaleName = graph.uniqueName(`${base}_scale`);
    graph.addInitializer(scaleName, scales);
    const zeroPointName = graph.uniqueName(`${base}_zero_point`);
    graph.addInitializer(zeroPointName, zeroPoints);
    const output = graph.uniqueName(`${base}_dequantized`);
    graph.addNode(
      createNode({
        name: graph.uniqueName(`${base}_DequantizeLinear`),
        opType: 'DequantizeLinear',
        inputs: [codesName, scaleName, zeroPointName],
        outputs: [output],
        attributes: axis === undefined ? {} : { axis },
      }),
    );
    dequantizedInitializers.set(key, output);
    return output;
  };
  const scaleTensor = (scales, perChannel) =>
    perChannel
      ? createTensor('float32', [scales.length], scales)
      : createTensor('float32', [], scales.slice(0, 1));

  let weights = 0;
  for (const use of initializerUses) {
    const { node, position, name, kind } = use;
    const tensor = graph.initializers.get(name);
    let replacement;
    if (kind === 'weight') {
      const axis = weightAxis(node, position, tensor.shape.length);
      const key = `weight:${name}:${axis}`;
      replacement = dequantizedInitializers.get(key);
      if (replacement === undefined) {
        const { codes, scales } = symmetricWeight(tensor, axis);
        const perChannel = axis !== undefined;
        const zeroPoints = perChannel
          ? createTensor('int8', [scales.length], new Int8Array(scales.length))
          : createTensor('int8', [], new Int8Array(1));
        replacement = addDequantized(
          key,
          name,
          createTensor('int8', tensor.shape, codes),
          scaleTensor(scales, perChannel),
          zeroPoints,
          axis,
        );
        weights++;
      }
    } else if (kind === 'constant') {
      const key = `constant:${name}`;
      replacement = dequantizedInitializers.get(key);
      if (replacement === undefined) {
        const { min, max } = rangeOf(tensor.data);
        const { scale, zeroPoint } = activationParameters(min, max);
        const codes = new Uint8Array(tensor.data.length);
        for (let i = 0; i < codes.length; i++)
          codes[i] = Math.max(0, Math.min(UINT8_MAX, roundHalfEven(tensor.data[i] / scale) + zeroPoint));
        replacement = addDequantized(
          key,
          name,
          createTensor('uint8', tensor.shape, codes),
          createTensor('float32', [], Float32Array.of(scale)),
          createTensor('uint8', [], Uint8Array.of(zeroPoint)),
          undefined,
        );
        weights++;
      }
    } else {
      const [input, weight] = originalInputs.get(node);
      replacement = quantizeBias(
        { node, name, tensor, input: paramsOf(input), weightName: weight },
        graph,
        dequantizedInitializers,
        addDequantized,
      );
      if (replacement !== undefined) weights++;
    }
    if (replacement !== undefined) graph.setInput(node, position, replacement);
  }
  return { quantizedNodes, activations: activations.size, weights };
}

/**
 * An int32 bias at scale input scale x weight scale (per channel when the weight is), zero point 0: the form
 * onnxruntime's fused QLinearConv/QGemm add straight to their int32 accumulators. Left float when the node's
 * input or weight is not quantized, or the bias is not 1-D (a Gemm C can broadcast in 2-D).
 */
function quantizeBias(
  { node, name, tensor, input, weightName },
  graph,
  dequantizedInitializers,
  addDequantized,
) {
  const weight = graph.initializers.get(weightName);
  if (input === undefined || weight === undefined || weight.dtype !== 'float32' || tensor.shape.length !== 1)
    return undefined;
  const axis = weightAxis(node, 1, weight.shape.length);
  const { scales: weightScales } = symmetricWeight(weight, axis);
  const perChannel = axis !== undefined;
  if (perChannel && weightScales.length !== tensor.data.length) return undefined;
  const key = `bias:${name}:${input.scale}:${weightName}:${axis}`;
  const existing = dequantizedInitializers.get(key);
  if (existing !== undefined) return existing;
  const scales = new Float32Array(perChannel ? weightScales.length : 1);
  for (let c = 0; c < scales.length; c++) scales[c] = Math.fround(input.scale * weightScales[c]);
  const codes = new Int32Array(tensor.data.length);
  for (let i = 0; i < codes.length; i++) {
    const scale = scales[perChannel ? i : 0];
    codes[i] = Math.max(INT32_MIN, Math.min(INT32_MAX, roundHalfEven(tensor.data[i] / scale)));
  }
  return addDequantized(
    key,
    name,
    createTensor('int32', tensor.shape, codes),
    perChannel ? createTensor('float32', [scales.length], scales) : createTensor('float32', [], scales),
    perChannel
      ? createTensor('int32', [scales.length], new Int32Array(scales.length))
      : createTensor('int32', [], new Int32Array(1)),
    perChannel ? 0 : undefined,
  );
}

function rangeOf(data) {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < data.length; i++) {
    if (data[i] < min) min = data[i];
    if (data[i] > max) max = data[i];
  }
  return { min, max };
}
