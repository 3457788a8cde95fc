import {
  type LinearQuantParams,
  type QuantizerPlugin,
  type QuantizedTensor,
  QuantError,
  type ValueRange,
  createTensor,
  dtypeInfo,
  quantizeLinear,
} from '@quantkit/core';
import { minWeightScales } from './bias-scale.js';
import type { Graph } from '@quantkit/onnx';
import type { QdqEmitter } from './emitter.js';
import type { ConstantUse, QuantPlan } from './plan.js';

/** Picks the weight quantizer for a use of a constant. */
export type QuantizerFor = (use: ConstantUse) => QuantizerPlugin;
import type { Recipe } from './options.js';

export interface StaticInputs {
  readonly plan: QuantPlan;
  readonly recipe: Recipe;
  /** The quantizer for each weight: the run's, or the one a node override names. */
  readonly quantizerFor: QuantizerFor;
  /** Quantizer for activations and constant operands; must implement paramsForRange. */
  readonly activationQuantizer: QuantizerPlugin & Required<Pick<QuantizerPlugin, 'paramsForRange'>>;
  /** Calibrated range of every activation that is not in plan.sharedParams. */
  readonly ranges: ReadonlyMap<string, ValueRange>;
  /** Whether an activation is quantized symmetrically. */
  readonly symmetric: (name: string) => boolean;
}

export function weightOptions(recipe: Recipe, use: ConstantUse) {
  const symmetric = use.override?.symmetric ?? recipe.symmetric;
  return {
    bits: use.override?.bits ?? recipe.bits,
    symmetric,
    // Symmetric signed weights use [-127, 127] like onnxruntime, so the range is balanced around zero.
    restrictedRange: symmetric,
    // x86 without VNNI: 7-bit weights keep VPMADDUBSW's pairwise int16 sums from saturating.
    reduceRange: recipe.reduceRange && (use.override?.bits ?? recipe.bits) === 8,
    granularity: use.axis === undefined ? ('tensor' as const) : ('channel' as const),
    ...(use.axis === undefined ? {} : { axis: use.axis }),
  };
}

/**
 * Uses of one constant share its stored codes only when they would quantize it identically: same quantizer and
 * options (a per-node override on a tied weight gets its own copy).
 */
export function sharedWeightKey(use: ConstantUse, quantizer: string, options: object): string {
  return JSON.stringify([use.kind, use.name, use.axis, quantizer, options]);
}

/** Activation params for every planned activation, following shared-params chains to their source. */
export function activationParams(inputs: StaticInputs): Map<string, LinearQuantParams> {
  const { plan, activationQuantizer, ranges, symmetric } = inputs;
  const params = new Map<string, LinearQuantParams>();
  const resolve = (name: string): LinearQuantParams => {
    const known = params.get(name);
    if (known !== undefined) return known;
    const source = plan.sharedParams.get(name);
    let result: LinearQuantParams;
    if (source !== undefined) {
      result = resolve(source);
    } else {
      const range = ranges.get(name);
      if (range === undefined) throw new QuantError('INTERNAL', `no calibrated range for "${name}"`);
      result = activationQuantizer.paramsForRange(range, {
        bits: inputs.recipe.activationBits,
        symmetric: symmetric(name),
        granularity: 'tensor',
      });
    }
    params.set(name, result);
    return result;
  };
  for (const name of plan.activations) resolve(name);
  return params;
}

/**
 * Per shared weight (by key): the smallest scale each of its groups may take so that every int32 bias read beside
 * it fits. A bias is never left float beside a quantized input and weight: onnxruntime's load-time BiasQuantization
 * pass would rewrite it with Round and a per-axis DequantizeLinear whatever the model's opset.
 */
function biasScaleFloors(
  plan: QuantPlan,
  params: ReadonlyMap<string, LinearQuantParams>,
  keyOf: (use: ConstantUse) => string,
): Map<string, Float32Array> {
  const floors = new Map<string, Float32Array>();
  for (const bias of plan.biases) {
    const input = params.get(bias.input);
    if (input === undefined) continue;
    const groups = bias.weight.axis === undefined ? 1 : bias.weight.tensor.shape[bias.weight.axis]!;
    const floor = minWeightScales(bias.tensor.data, input.scale[0]!, groups);
    const key = keyOf(bias.weight);
    const known = floors.get(key);
    if (known !== undefined) for (let g = 0; g < groups; g++) floor[g] = Math.max(floor[g]!, known[g]!);
    floors.set(key, floor);
  }
  return floors;
}

function quantizeBias(
  values: Float32Array,
  inputScale: number,
  weight: LinearQuantParams,
): QuantizedTensor | undefined {
  const scale = Float32Array.from(weight.scale, (s) => Math.fround(inputScale * s));
  const int32 = dtypeInfo('int32');
  const params: LinearQuantParams = {
    scale,
    zeroPoint: new Int32Array(scale.length),
    granularity: weight.granularity === 'tensor' ? 'tensor' : 'channel',
    axis: weight.granularity === 'tensor' ? undefined : 0,
    bits: 32,
    dtype: 'int32',
    qmin: int32.min,
    qmax: int32.max,
  };
  const shape = [values.length];
  // A bias too large for int32 at this scale would saturate: keep it float rather than change the result.
  for (let i = 0; i < values.length; i++) {
    const s = scale[weight.granularity === 'tensor' ? 0 : i]!;
    if (Math.abs(values[i]! / s) > int32.max) return undefined;
  }
  const codes = quantizeLinear(values, shape, params);
  return { codes: createTensor('int32', shape, codes.data as Int32Array), params };
}

/**
 * Static QDQ: int8 weights and int32 biases behind DequantizeLinear, a QuantizeLinear/DequantizeLinear pair on
 * every planned activation, and fused Relu/Clip removed (their clamp is the saturation of the producer's Q).
 * Returns the parameters of every quantized activation.
 */
export function emitStatic(emitter: QdqEmitter, inputs: StaticInputs): Map<string, LinearQuantParams> {
  const { graph } = emitter;
  const { plan, recipe, quantizerFor, activationQuantizer } = inputs;
  const params = activationParams(inputs);

  const keyOf = (use: ConstantUse) =>
    sharedWeightKey(use, use.kind === 'weight' ? quantizerFor(use).name : 'activation', weightOptions(recipe, use));
  const minScales = biasScaleFloors(plan, params, keyOf);

  const weightParams = new Map<ConstantUse, LinearQuantParams>();
  for (const use of plan.constants) {
    const original = use.name;
    const key = keyOf(use);
    const dequantized = emitter.sharedDequantizedConstant(key, original, () =>
      use.kind === 'weight'
        ? emitter.quantizeWeight(
            quantizerFor(use),
            use.node,
            original,
            use.tensor,
            weightOptions(recipe, use),
            minScales.get(key),
          )
        : activationQuantizer.quantizeWeight(use.tensor, {
            bits: recipe.activationBits,
            symmetric: recipe.activationSymmetric,
            granularity: 'tensor',
          }),
    );
    weightParams.set(use, emitter.paramsOf(dequantized));
    graph.replaceInput(use.node, original, dequantized);
  }

  for (const bias of plan.biases) {
    const inputParams = params.get(bias.input);
    const weight = weightParams.get(bias.weight);
    if (inputParams === undefined || weight === undefined) continue;
    const quantized = quantizeBias(bias.tensor.data, inputParams.scale[0]!, weight);
    if (quantized === undefined) continue;
    const original = bias.node.inputs[bias.slot]!;
    graph.replaceInput(bias.node, original, emitter.dequantizedConstant(original, quantized));
  }

  for (const { activation, producer } of plan.fusedActivations) {
    const output = activation.outputs[0]!;
    graph.removeNode(activation);
    graph.replaceOutput(producer, producer.outputs[0]!, output);
  }

  for (const name of plan.activations) {
    emitter.quantizeActivation(name, params.get(name)!, plan.floatReaders?.get(name));
  }
  assertIntegerBiases(graph);
  return params;
}

/**
 * onnxruntime rewrites a float 1-D constant bias of a Conv or Gemm whose data and weight both come from
 * DequantizeLinear (Round, Div and a per-axis DequantizeLinear, whatever the opset: opset 9-12 models then fail to
 * load, and a bias too large for int32 silently becomes 0). quantkit writes every such bias as int32 itself; this
 * checks that none was missed.
 */
function assertIntegerBiases(graph: Graph): void {
  const isDequantized = (name: string | undefined) =>
    name !== undefined && name !== '' && graph.producer(name)?.opType === 'DequantizeLinear';
  for (const node of graph.nodes) {
    if (node.opType !== 'Conv' && node.opType !== 'Gemm') continue;
    const bias = node.inputs[2];
    if (bias === undefined || bias === '' || !isDequantized(node.inputs[0]) || !isDequantized(node.inputs[1])) continue;
    const constant = graph.getConstant(bias);
    if (constant !== undefined && constant.shape.length === 1 && constant.dtype !== 'int32') {
      throw new QuantError(
        'INTERNAL',
        `${node.opType} "${node.name}" would keep float bias "${bias}" beside quantized data and weight`,
      );
    }
  }
}
