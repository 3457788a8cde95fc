// As in packed-kernels.test.ts, the reference for an ai.quantkit op is the same quantization in a form onnxruntime
// runs: each float model is quantized by quantkit's pipeline once `--format packed` (run by the runtime, whose
// ai.quantkit Gather, ConvTranspose, LSTM, GRU, RNN and Slice dequantize the packed weight once and run the float
// kernel) and once in the stock form (DequantizeLinear or Gather in front of the float op, run by onnxruntime-node).
import { type Granularity, type Tensor, createRegistry } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type AttributeInit, type Model, type NodeInit, createModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from '../../builtins.js';
import { int64Tensor, randomFloat } from '../../conformance/random-tensors.js';
import { type Tolerance, tensorMismatch } from '../../conformance/run-both.js';
import { createRuntime } from '../../runtime.js';

const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

/** A float model: its nodes, its inputs (fed), its weights (initializers), and what it outputs. */
interface FloatCase {
  readonly name: string;
  /** Default-domain opset (17 when omitted). */
  readonly opset?: number;
  /** The ai.quantkit ops the packed form must run. */
  readonly packedOps: readonly string[];
  readonly nodes: readonly NodeInit[];
  readonly feeds: Record<string, Tensor>;
  readonly weights: Record<string, Tensor>;
  /** Other initializers (shapes, indices). */
  readonly constants?: Record<string, Tensor>;
  readonly outputs: readonly string[];
  readonly tolerance?: Tolerance;
}

function recurrentCase(
  opType: 'LSTM' | 'GRU' | 'RNN',
  packed: 'W' | 'R',
  attributes: Record<string, AttributeInit>,
  seed: number,
): FloatCase {
  const gates = { LSTM: 4, GRU: 3, RNN: 1 }[opType];
  const [sequence, batch, input, hidden] = [6, 2, 20, 8];
  const directions = attributes['direction'] === 'bidirectional' ? 2 : 1;
  const w = randomFloat([directions, gates * hidden, input], seed + 1, -0.5, 0.5);
  const r = randomFloat([directions, gates * hidden, hidden], seed + 2, -0.5, 0.5);
  // quantkit packs one weight per node: the other is fed, so it stays float.
  const [weight, fed] = packed === 'W' ? [{ w }, { r }] : [{ r }, { w }];
  return {
    name: `${opType} ${attributes['direction'] ?? 'forward'}, ${packed} packed`,
    packedOps: [opType],
    nodes: [
      {
        opType,
        name: 'layer',
        inputs: ['x', 'w', 'r', 'b'],
        outputs: ['y', 'y_h'],
        attributes: { hidden_size: hidden, ...attributes },
      },
    ],
    feeds: { x: randomFloat([sequence, batch, input], seed, -1, 1), ...fed },
    weights: weight,
    constants: { b: randomFloat([directions, 2 * gates * hidden], seed + 3, -0.3, 0.3) },
    outputs: ['y', 'y_h'],
    tolerance: { abs: 2e-5, rel: 1e-4 },
  };
}

const floatCases: readonly FloatCase[] = [
  {
    name: 'Gather rows of an embedding table [40, 24]',
    packedOps: ['Gather'],
    nodes: [{ opType: 'Gather', name: 'layer', inputs: ['table', 'ids'], outputs: ['y'] }],
    feeds: { ids: int64Tensor([3, 0, 39, 7, 3, -1], [2, 3]) },
    weights: { table: randomFloat([40, 24], 1, -0.5, 0.5) },
    outputs: ['y'],
  },
  {
    name: 'Gather columns (axis 1) of [12, 30]',
    packedOps: ['Gather'],
    nodes: [
      { opType: 'Gather', name: 'layer', inputs: ['table', 'ids'], outputs: ['y'], attributes: { axis: 1 } },
    ],
    feeds: { ids: int64Tensor([29, 1, 2]) },
    weights: { table: randomFloat([12, 30], 2, -0.5, 0.5) },
    outputs: ['y'],
  },
  {
    name: 'ConvTranspose stride 2, pads, output_padding, bias',
    packedOps: ['ConvTranspose'],
    nodes: [
      {
        opType: 'ConvTranspose',
        name: 'layer',
        inputs: ['x', 'w', 'b'],
        outputs: ['y'],
        attributes: { strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] },
      },
    ],
    feeds: { x: randomFloat([1, 6, 5, 5], 3, -1, 1) },
    weights: { w: randomFloat([6, 8, 3, 3], 4, -0.5, 0.5) },
    constants: { b: randomFloat([8], 5, -0.2, 0.2) },
    outputs: ['y'],
  },
  {
    name: 'ConvTranspose group 2, dilations 2',
    packedOps: ['ConvTranspose'],
    nodes: [
      {
        opType: 'ConvTranspose',
        name: 'layer',
        inputs: ['x', 'w'],
        outputs: ['y'],
        attributes: { group: 2, dilations: [2, 2] },
      },
    ],
    feeds: { x: randomFloat([2, 4, 4, 4], 6, -1, 1) },
    weights: { w: randomFloat([4, 3, 3, 3], 7, -0.5, 0.5) },
    outputs: ['y'],
  },
  recurrentCase('LSTM', 'W', {}, 10),
  recurrentCase('LSTM', 'R', { direction: 'bidirectional' }, 20),
  recurrentCase('GRU', 'W', { linear_before_reset: 1 }, 30),
  recurrentCase('GRU', 'R', { direction: 'reverse' }, 40),
  recurrentCase('RNN', 'W', { direction: 'bidirectional' }, 50),
  recurrentCase('RNN', 'R', {}, 60),
  {
    // PyTorch's export: W and R sliced out of weight_ih / weight_hh and reordered (Slice -> Concat ->
    // Unsqueeze); quantkit packs the constant at the Slice that reads it, so the Slices become ai.quantkit ops.
    name: 'LSTM whose W and R are Slices of constants, reordered by Concat and Unsqueeze',
    packedOps: ['Slice'],
    nodes: [
      ...(['ih', 'hh'] as const).flatMap((which): NodeInit[] => [
        {
          opType: 'Slice',
          name: `${which}_io`,
          inputs: [`weight_${which}`, 'zero', 'half', 'axis0'],
          outputs: [`${which}_io`],
        },
        {
          opType: 'Slice',
          name: `${which}_fc`,
          inputs: [`weight_${which}`, 'half', 'all', 'axis0'],
          outputs: [`${which}_fc`],
        },
        {
          opType: 'Concat',
          name: `${which}_gates`,
          inputs: [`${which}_io`, `${which}_fc`],
          outputs: [`${which}_gates`],
          attributes: { axis: 0 },
        },
        {
          opType: 'Unsqueeze',
          name: `${which}_3d`,
          inputs: [`${which}_gates`, 'axis0'],
          outputs: [`${which}_3d`],
        },
      ]),
      {
        opType: 'LSTM',
        name: 'layer',
        inputs: ['x', 'ih_3d', 'hh_3d'],
        outputs: ['y'],
        attributes: { hidden_size: 8 },
      },
    ],
    feeds: { x: randomFloat([5, 2, 20], 70, -1, 1) },
    weights: {
      weight_ih: randomFloat([32, 20], 71, -0.5, 0.5),
      weight_hh: randomFloat([32, 8], 72, -0.5, 0.5),
    },
    constants: {
      zero: int64Tensor([0]),
      half: int64Tensor([16]),
      all: int64Tensor([32]),
      axis0: int64Tensor([0]),
    },
    outputs: ['y'],
    tolerance: { abs: 2e-5, rel: 1e-4 },
  },
  {
    // Opset 11: the packed Unsqueeze keeps its axes attribute, which the float kernel reads only before opset 13.
    name: 'GRU whose W and R are Unsqueezed constants (opset 11, axes attribute)',
    opset: 11,
    packedOps: ['Unsqueeze'],
    nodes: [
      { opType: 'Unsqueeze', name: 'w_3d', inputs: ['w_2d'], outputs: ['w'], attributes: { axes: [0] } },
      { opType: 'Unsqueeze', name: 'r_3d', inputs: ['r_2d'], outputs: ['r'], attributes: { axes: [0] } },
      {
        opType: 'GRU',
        name: 'layer',
        inputs: ['x', 'w', 'r'],
        outputs: ['y'],
        attributes: { hidden_size: 8 },
      },
    ],
    feeds: { x: randomFloat([5, 2, 20], 80, -1, 1) },
    weights: { w_2d: randomFloat([24, 20], 81, -0.5, 0.5), r_2d: randomFloat([24, 8], 82, -0.5, 0.5) },
    outputs: ['y'],
    tolerance: { abs: 2e-5, rel: 1e-4 },
  },
];

interface QuantizerCase {
  readonly quantizer: string;
  readonly bits: number;
  readonly granularity: Granularity;
}

const quantizerCases: readonly QuantizerCase[] = [
  { quantizer: 'binary', bits: 1, granularity: 'channel' },
  { quantizer: 'binary', bits: 1, granularity: 'tensor' },
  { quantizer: 'log', bits: 3, granularity: 'channel' },
  { quantizer: 'log', bits: 4, granularity: 'tensor' },
  { quantizer: 'log', bits: 8, granularity: 'channel' },
  { quantizer: 'log-nnie', bits: 8, granularity: 'tensor' },
];

function floatModel(spec: FloatCase): Model {
  return createModel({
    opset: spec.opset ?? 17,
    nodes: [...spec.nodes],
    inputs: Object.entries(spec.feeds).map(([name, tensor]) => [name, tensor.dtype, tensor.shape] as const),
    outputs: spec.outputs.map((name) => [name, 'float32'] as const),
    initializers: { ...spec.weights, ...spec.constants },
  });
}

async function quantizeBoth(model: Model, settings: QuantizerCase) {
  const bytes = encodeModel(model);
  const options = {
    mode: 'weight-only',
    quantizer: settings.quantizer,
    bits: settings.bits,
    granularity: settings.granularity,
    symmetric: true,
    keepHigherPrecision: false,
  } as const;
  const [packed, stock] = await Promise.all([
    quantizeModel(bytes, { ...options, format: 'packed' }),
    quantizeModel(bytes, options),
  ]);
  return { packed, stock };
}

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await ortExecutor.createSession(bytes, { threads: 1 });
  try {
    return await session.run(feeds);
  } finally {
    await session.dispose();
  }
}

/** The largest |a - b| over two outputs, to show a comparison is not float against float. */
function largestDifference(a: Tensor, b: Tensor): number {
  let largest = 0;
  for (let i = 0; i < a.data.length; i++)
    largest = Math.max(largest, Math.abs(Number(a.data[i]) - Number(b.data[i])));
  return largest;
}

describe('packed-weight kernels against onnxruntime-node on the stock form of the same quantization', () => {
  for (const spec of floatCases) {
    for (const settings of quantizerCases) {
      it(`${spec.name}, ${settings.quantizer} ${settings.bits}-bit per ${settings.granularity}`, async () => {
        const model = floatModel(spec);
        const { packed, stock } = await quantizeBoth(model, settings);
        const packedNodes = packed.model.graph.nodes.filter((node) => node.domain === 'ai.quantkit');
        expect(new Set(packedNodes.map((node) => node.opType))).toEqual(new Set(spec.packedOps));
        const session = await createRuntime(createRegistry(builtinRuntimePlugins)).load(packed.model);
        const actual = await session.run(spec.feeds);
        const kernels = session.assignments().map((assignment) => assignment.kernel);
        for (const opType of spec.packedOps) expect(kernels).toContain(`js/ai.quantkit.${opType}`);
        const expected = await runOrt(stock.bytes, spec.feeds);
        const unquantized = await runOrt(encodeModel(model), spec.feeds);
        for (const name of spec.outputs) {
          expect(tensorMismatch(actual[name]!, expected[name]!, spec.tolerance), name).toBeUndefined();
        }
        // The quantization changed the outputs: the agreement is about the quantized weights.
        expect(
          largestDifference(unquantized[spec.outputs[0]!]!, expected[spec.outputs[0]!]!),
        ).toBeGreaterThan(1e-3);
      });
    }
  }
});
