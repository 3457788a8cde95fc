// AdaRound as a quantization transform: for each Conv, Gemm and MatMul whose constant weight the linear quantizer
// coded, take a random subset of the layer's float inputs on the calibration samples (see ColumnSampler), optimise
// the rounding of its codes against the float layer's output (see optimizeRounding), and replace the codes; the
// scales and zero points stay, so biases computed from them stay valid. Layers go in passes whose sampled inputs
// fit a memory budget, so a large model costs a few more float runs rather than unbounded memory.
import { type ExecutorPlugin, QuantError, type Tensor, createTensor, forEachParamRun } from '@quantkit/core';
import { type RoundingProblem, optimizeRounding } from './adaround.js';
import type { ProgressEvent } from './calibrate.js';
import type { ComputedQuantization, WeightQuantization } from './compute-quantization.js';
import type { AdaRoundRecipe } from './finetune-options.js';
import { ColumnSampler, type WeightLayout, weightLayout } from './layer-columns.js';
import type { QuantizationContext, QuantizationTransform } from './model-transforms.js';
import type { CalibrationSample, CalibrationSource } from './options.js';
import type { ConstantUse } from './plan.js';
import { visitFloatValues } from './visit-float-values.js';

/** Sampled inputs held at once across the layers of one pass (256 MB of float32). */
const PASS_BUDGET_BYTES = 256 * 1024 * 1024;
const FINETUNED_OPS = new Set(['Conv', 'Gemm', 'MatMul']);

/** One layer AdaRound optimised (QuantizeSummary.finetune.layers). */
export interface FinetunedLayer {
  readonly node: string;
  readonly opType: string;
  readonly weight: string;
  /** Weight elements whose rounding was optimised. */
  readonly elements: number;
  /** Input vectors the error was measured on. */
  readonly columns: number;
  /** Mean squared output error per output value on those vectors, with nearest rounding and with AdaRound's. */
  readonly errorBefore: number;
  readonly errorAfter: number;
  /** Codes that differ from nearest rounding. */
  readonly changed: number;
  readonly milliseconds: number;
}

/** What finetuning did (QuantizeSummary.finetune). */
export interface FinetuneResult {
  readonly method: 'adaround';
  readonly iterations: number;
  readonly samples: number;
  readonly layers: readonly FinetunedLayer[];
  /** Weight layers left with nearest rounding, and why. */
  readonly skipped: readonly { readonly node: string; readonly reason: string }[];
}

/** An AdaRound transform; `result` holds what its last run did. */
export interface AdaRoundTransform extends QuantizationTransform {
  readonly result: FinetuneResult | undefined;
}

export interface AdaRoundTransformSettings {
  readonly executor: ExecutorPlugin | undefined;
  readonly calibrationData: CalibrationSource | undefined;
  readonly recipe: AdaRoundRecipe;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
  /**
   * Layers optimised by earlier runs with the same calibration data (see createFinetuneCache): the measured runs
   * (latency guard, fidelity floor) repeat the pipeline, and a layer with the same float model, weight and
   * parameters gets the same codes, so it is optimised once.
   */
  readonly cache?: FinetuneCache | undefined;
}

/** Optimised layers by what determines them (float model, settings, weight, parameters). */
export type FinetuneCache = Map<string, { readonly codes: Int32Array; readonly layer: FinetunedLayer }>;

/**
 * A cache for the AdaRound runs of one quantizeModel call (AdaRoundTransformSettings.cache).
 * @example const cache = createFinetuneCache(); // pass to every createAdaRoundTransform of the call
 */
export function createFinetuneCache(): FinetuneCache {
  return new Map();
}

/** A checksum of numbers: position-weighted, so a reordering or a changed value changes it. */
function checksum(values: ArrayLike<number | bigint>, seed = 0): number {
  let hash = seed;
  for (let i = 0; i < values.length; i++) hash = (hash * 31 + Number(values[i]) * ((i % 97) + 1)) % 1e15;
  return hash;
}

/** What the layers' float inputs depend on: every float initializer of the model (the biases bias correction edits). */
function modelChecksum(model: QuantizationContext['model']): number {
  let hash = 0;
  for (const [name, tensor] of model.graph.initializers) {
    if (tensor.dtype === 'float32') hash = checksum(tensor.data as Float32Array, hash + name.length);
  }
  return hash;
}

/** The first `limit` samples of a source that can be read again (array or function). */
async function takeSamples(
  source: CalibrationSource | undefined,
  limit: number,
): Promise<CalibrationSample[]> {
  const samples: CalibrationSample[] = [];
  if (source === undefined) return samples;
  const iterable = typeof source === 'function' ? source() : source;
  for await (const sample of iterable as AsyncIterable<CalibrationSample>) {
    samples.push(sample);
    if (samples.length >= limit) break;
  }
  return samples;
}

interface Layer {
  readonly entry: WeightQuantization;
  readonly uses: ConstantUse[];
  readonly input: string;
  readonly layout: WeightLayout;
}

/** The rounding problem of one layer in matrix form, scales and zero points expanded per element. */
function roundingProblem(layer: Layer, inputs: Float32Array, columns: number): RoundingProblem {
  const { tensor, quantized } = layer.entry;
  const { params } = quantized;
  const { order, rows, inner, groups } = layer.layout;
  const elementScale = new Float32Array(tensor.data.length);
  const elementZero = new Int32Array(tensor.data.length);
  forEachParamRun(tensor.shape, params, (start, end, index, stride) => {
    for (let i = start; i < end; i += stride) {
      elementScale[i] = params.scale[index]!;
      elementZero[i] = params.zeroPoint[index]!;
    }
  });
  const pick = <T extends Float32Array | Int32Array>(from: T, into: T): T => {
    for (let i = 0; i < order.length; i++) into[i] = from[order[i]!]!;
    return into;
  };
  return {
    rows,
    inner,
    groups,
    columns,
    weight: pick(tensor.data, new Float32Array(order.length)),
    scale: pick(elementScale, new Float32Array(order.length)),
    zeroPoint: pick(elementZero, new Int32Array(order.length)),
    qmin: params.qmin,
    qmax: params.qmax,
    inputs,
  };
}

/** The layers AdaRound can optimise, one per stored weight (uses sharing codes share the result), and the rest. */
function findLayers(computed: ComputedQuantization): {
  layers: Layer[];
  skipped: { node: string; reason: string }[];
} {
  const byEntry = new Map<WeightQuantization, Layer>();
  const skipped: { node: string; reason: string }[] = [];
  for (const [use, entry] of computed.weights) {
    if (use.kind !== 'weight' || use.slot !== 1 || !FINETUNED_OPS.has(use.node.opType)) continue;
    const known = byEntry.get(entry);
    if (known !== undefined) {
      known.uses.push(use);
      continue;
    }
    const input = use.node.inputs[0];
    const layout = weightLayout(use.node, use.tensor, entry.tensor);
    const reason =
      entry.quantizer !== 'linear'
        ? `quantizer "${entry.quantizer}" is not linear`
        : entry.packed !== undefined
          ? 'packed weight'
          : layout === undefined
            ? 'weight layout not handled'
            : input === undefined || input === ''
              ? 'no input'
              : undefined;
    if (reason !== undefined || layout === undefined || input === undefined) {
      skipped.push({ node: use.node.name, reason: reason ?? 'not handled' });
      continue;
    }
    byEntry.set(entry, { entry, uses: [use], input, layout });
  }
  return { layers: [...byEntry.values()], skipped };
}

/** Splits layers into passes whose samplers fit the budget (a layer larger than it gets a pass of its own). */
function passesOf(layers: readonly Layer[], columns: number): Layer[][] {
  const passes: Layer[][] = [];
  let current: Layer[] = [];
  let bytes = 0;
  for (const layer of layers) {
    const size = columns * layer.layout.groups * layer.layout.inner * 4;
    if (current.length > 0 && bytes + size > PASS_BUDGET_BYTES) {
      passes.push(current);
      current = [];
      bytes = 0;
    }
    current.push(layer);
    bytes += size;
  }
  if (current.length > 0) passes.push(current);
  return passes;
}

/** The entry with its codes replaced by `codes` (matrix order, mapped back through the layout). */
function withCodes(layer: Layer, codes: Int32Array): { entry: WeightQuantization; changed: number } {
  const { entry, layout } = layer;
  const original = entry.quantized.codes;
  const data = original.data.slice() as typeof original.data;
  let changed = 0;
  for (let i = 0; i < codes.length; i++) {
    const index = layout.order[i]!;
    if (data[index] !== codes[i]) changed++;
    (data as { [index: number]: number })[index] = codes[i]!;
  }
  const updated = createTensor(original.dtype, original.shape, data) as Tensor<typeof original.dtype>;
  return { entry: { ...entry, quantized: { ...entry.quantized, codes: updated } }, changed };
}

/**
 * Creates the AdaRound quantization transform (options.finetune 'adaround').
 *
 * @example
 * const adaround = createAdaRoundTransform({ executor, calibrationData: samples, recipe: resolveFinetune(options)! });
 * await quantizeModel(bytes, { mode: 'weight-only', bits: 4, quantizationTransforms: [adaround] });
 * @throws QuantError INVALID_ARGUMENT (when applied) without an executor; CALIBRATION_DATA without samples.
 */
export function createAdaRoundTransform(settings: AdaRoundTransformSettings): AdaRoundTransform {
  const { recipe, onProgress } = settings;
  let result: FinetuneResult | undefined;
  return {
    name: 'adaround',
    get result() {
      return result;
    },
    async apply(computed: ComputedQuantization, context: QuantizationContext) {
      if (settings.executor === undefined) {
        throw new QuantError('INVALID_ARGUMENT', [
          { option: 'finetune', value: 'adaround' },
          " runs the float model for each layer's inputs and needs an executor",
        ]);
      }
      const samples = await takeSamples(settings.calibrationData, recipe.samples);
      if (samples.length === 0) {
        throw new QuantError('CALIBRATION_DATA', [
          { option: 'finetune', value: 'adaround' },
          ' needs calibration samples (calibrationData / --calib DIR) to learn the rounding from; none were left (an ' +
            'iterable that calibration already read is used up: pass an array or a function returning a fresh one)',
        ]);
      }
      const found = findLayers(computed);
      const { skipped } = found;
      const finetuned: FinetunedLayer[] = [];
      let changes = 0;
      const base = JSON.stringify([recipe, samples.length, modelChecksum(context.model)]);
      const keyOf = (layer: Layer) => {
        const { params, codes } = layer.entry.quantized;
        return JSON.stringify([
          base,
          layer.uses[0]!.node.name,
          layer.entry.key,
          checksum(layer.entry.tensor.data),
          checksum(params.scale),
          checksum(params.zeroPoint),
          checksum(codes.data as ArrayLike<number>),
        ]);
      };
      const apply = (layer: Layer, codes: Int32Array) => {
        const { entry, changed } = withCodes(layer, codes);
        for (const use of layer.uses) computed.weights.set(use, entry);
        changes += changed > 0 ? 1 : 0;
        return changed;
      };
      const layers = found.layers.filter((layer) => {
        const known = settings.cache?.get(keyOf(layer));
        if (known === undefined) return true;
        apply(layer, known.codes);
        finetuned.push(known.layer);
        return false;
      });
      const total = layers.length * recipe.iterations;
      const every = Math.max(1, Math.floor(recipe.iterations / 100));
      const cached = finetuned.length;
      for (const pass of passesOf(layers, recipe.columns)) {
        // Each sampler is dropped once its layer is optimised, so a pass holds less as it goes.
        const samplers: (ColumnSampler | undefined)[] = pass.map(
          (layer, index) =>
            new ColumnSampler(
              layer.uses[0]!.node,
              layer.entry.tensor.shape,
              layer.layout,
              recipe.columns,
              recipe.seed + index,
            ),
        );
        const usable = new Set(pass);
        await visitFloatValues(
          settings.executor,
          context.model,
          [...new Set(pass.map((layer) => layer.input))],
          samples,
          (values) => {
            pass.forEach((layer, index) => {
              const value = values[layer.input];
              if (value === undefined || !samplers[index]!.add(value)) usable.delete(layer);
            });
          },
        );
        for (const [index, layer] of pass.entries()) {
          const node = layer.uses[0]!.node;
          const { inputs, count } = samplers[index]!.columns();
          samplers[index] = undefined;
          if (!usable.has(layer) || count === 0) {
            skipped.push({ node: node.name, reason: 'input shape not handled' });
            continue;
          }
          const started = Date.now();
          const problem = roundingProblem(layer, inputs, count);
          const nearest = Int32Array.from(layer.layout.order, (element) =>
            Number(layer.entry.quantized.codes.data[element]),
          );
          const done = (finetuned.length - cached) * recipe.iterations;
          const detail = `layer ${finetuned.length - cached + 1}/${layers.length} ${node.name}`;
          const optimized = optimizeRounding(problem, nearest, recipe, (step) => {
            if (step % every === 0 || step === recipe.iterations)
              onProgress?.({ phase: 'finetune', done: done + step, total, detail });
          });
          const changed = apply(layer, optimized.codes);
          const record: FinetunedLayer = {
            node: node.name,
            opType: node.opType,
            weight: layer.uses[0]!.name,
            elements: optimized.codes.length,
            columns: count,
            errorBefore: optimized.errorBefore,
            errorAfter: optimized.errorAfter,
            changed,
            milliseconds: Date.now() - started,
          };
          finetuned.push(record);
          settings.cache?.set(keyOf(layer), { codes: optimized.codes, layer: record });
        }
      }
      result = {
        method: 'adaround',
        iterations: recipe.iterations,
        samples: samples.length,
        layers: finetuned,
        skipped,
      };
      return changes;
    },
  };
}
