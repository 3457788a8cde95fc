import {
  type ExecutorPlugin,
  type ExecutorSession,
  type MessagePart,
  QuantError,
  type Tensor,
} from '@quantkit/core';
import { type Graph, type Model, encodeModel, exposeOutputs, subgraphsOf } from '@quantkit/onnx';
import { type LatencyComparison, measureLatency } from './measure-latency.js';
import { compareTensors } from './metrics.js';
import type { CalibrationSample } from './options.js';

/** Where the sample a verification ran on came from. */
export type VerificationSample = 'calibration' | 'given' | 'random';

/** What running the written model once showed. */
export type Verification =
  | {
      readonly verified: true;
      /** The executor plugin's name (e.g. 'ort-node'), which loaded the model at its default optimization level. */
      readonly runtime: string;
      readonly sample: VerificationSample;
      /** Each float output's SQNR in dB against the float model on that sample (Infinity when identical). */
      readonly outputs: readonly { readonly name: string; readonly sqnr: number }[];
      /** With measureLatency: the two models timed in turns on that sample. */
      readonly latency?: LatencyComparison;
    }
  | {
      readonly verified: false;
      /** Why nothing was run (the float model itself does not load or run on the sample). */
      readonly reason: string;
      /** The reason as message parts, when it names options (a CLI words them as its flags). */
      readonly reasonParts?: readonly MessagePart[];
    };

/** Operator domains stock onnxruntime runs; a model importing others (ai.quantkit packed ops) is not run. */
const RUNTIME_DOMAINS = new Set(['', 'ai.onnx', 'ai.onnx.ml', 'com.microsoft']);

/** The operator domains the nodes of a graph and of its bodies use (models often import domains they never use). */
function usedDomains(graph: Graph, into = new Set<string>()): Set<string> {
  for (const node of graph.nodes) {
    into.add(node.domain);
    for (const body of subgraphsOf(node)) usedDomains(body, into);
  }
  return into;
}

/** A test for NaN or infinity at an index; raw float16/bfloat16 bits are read by their exponent field. */
function nonFinite(tensor: Tensor): (index: number) => boolean {
  const data = tensor.data;
  if (tensor.dtype === 'float16') return (i) => ((data as Uint16Array)[i]! & 0x7c00) === 0x7c00;
  if (tensor.dtype === 'bfloat16') return (i) => ((data as Uint16Array)[i]! & 0x7f80) === 0x7f80;
  if (tensor.dtype === 'float32' || tensor.dtype === 'float64') {
    return (i) => !Number.isFinite((data as Float32Array)[i]!);
  }
  return () => false;
}

/**
 * The first index where `test` is not finite while `reference` is; -1 when none. Without a reference of the same
 * size, any non-finite value counts unless the reference holds one too.
 */
function firstNewNonFinite(test: Tensor, reference: Tensor | undefined): number {
  const bad = nonFinite(test);
  const sameSize = reference !== undefined && reference.data.length === test.data.length;
  const wasBad = reference === undefined ? () => false : nonFinite(reference);
  if (reference !== undefined && !sameSize) {
    for (let i = 0; i < reference.data.length; i++) if (wasBad(i)) return -1;
  }
  for (let i = 0; i < test.data.length; i++) if (bad(i) && !(sameSize && wasBad(i))) return i;
  return -1;
}

function describeValue(tensor: Tensor, index: number): string {
  const value =
    tensor.dtype === 'float32' || tensor.dtype === 'float64' ? (tensor.data as Float32Array)[index]! : NaN;
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+inf' : value < 0 ? '-inf' : 'a non-finite value';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a model on one sample and returns every output, closing the session. */
async function runAll(executor: ExecutorPlugin, bytes: Uint8Array, sample: CalibrationSample) {
  const session = await executor.createSession(bytes);
  try {
    return await session.run(sample);
  } finally {
    await session.dispose();
  }
}

/**
 * Finds the node whose output first goes non-finite in the quantized model where the same-named value of the float
 * model stays finite, by running both with every main-graph node output exposed. Undefined when the values that
 * can be exposed stay finite (the first bad value is then inside a subgraph or fused away).
 */
async function locateNonFinite(
  executor: ExecutorPlugin,
  float: Model,
  quantized: Model,
  sample: CalibrationSample,
): Promise<{ node: string; opType: string; tensor: string; value: string } | undefined> {
  const floatNames = new Set(float.graph.nodes.flatMap((node) => node.outputs).filter((name) => name !== ''));
  const order = quantized.graph.nodes.flatMap((node) =>
    node.outputs.filter((name) => name !== '').map((name) => ({ node, name })),
  );
  const names = order.map((entry) => entry.name);
  let floatValues: Record<string, Tensor>;
  let quantizedValues: Record<string, Tensor>;
  try {
    floatValues = await runAll(
      executor,
      encodeModel(
        exposeOutputs(
          float,
          names.filter((name) => floatNames.has(name)),
        ),
      ),
      sample,
    );
    quantizedValues = await runAll(executor, encodeModel(exposeOutputs(quantized, names)), sample);
  } catch {
    return undefined;
  }
  for (const { node, name } of order) {
    const value = quantizedValues[name];
    if (value === undefined) continue;
    const index = firstNewNonFinite(value, floatValues[name]);
    if (index >= 0)
      return { node: node.name, opType: node.opType, tensor: name, value: describeValue(value, index) };
  }
  return undefined;
}

export interface VerifyInputs {
  readonly executor: ExecutorPlugin;
  /** The float model as given (decoded only to locate a non-finite value), and its encoding. */
  readonly float: () => Model;
  readonly floatBytes: Uint8Array;
  /** The quantized model about to be written, and its encoding. */
  readonly quantized: Model;
  readonly quantizedBytes: Uint8Array;
  /** Samples to try, best first: verification runs on the first one the float model runs on. */
  readonly samples: readonly CalibrationSample[];
  readonly sampleOrigin: VerificationSample;
  /** Also time both models in turns on the sample the check ran on (see measureLatency). */
  readonly measureLatency?: boolean;
  /** What the error tells the user to do when an output goes non-finite (default: keep nodes float). */
  readonly advice?: readonly MessagePart[];
}

/**
 * Loads the quantized model in the executor (onnxruntime at optimization level all, in the CLI) and runs it and the
 * float model once on a sample, so a model the runtime refuses or that turns finite outputs into NaN or infinity
 * is never written.
 *
 * @example const check = await verifyQuantized({ executor, float, floatBytes, quantized, quantizedBytes, sample, sampleOrigin: 'random' });
 * @throws QuantError INTERNAL when the runtime refuses or cannot run the quantized model although it runs the float
 *   one; UNSUPPORTED when an output holds NaN or infinity where the float model's does not, naming the first
 *   tensor that went non-finite and its node.
 */
export async function verifyQuantized(inputs: VerifyInputs): Promise<Verification> {
  const { executor, sampleOrigin } = inputs;
  const foreign = [...usedDomains(inputs.quantized.graph)].filter((domain) => !RUNTIME_DOMAINS.has(domain));
  if (foreign.length > 0) {
    return {
      verified: false,
      reason: `the model uses operator domain ${foreign.map((d) => `"${d}"`).join(', ')}, which onnxruntime does not run`,
    };
  }
  const on = `on a ${sampleOrigin === 'given' ? 'given' : sampleOrigin} sample`;
  let floatOutputs: Record<string, Tensor> | undefined;
  let sample: CalibrationSample | undefined;
  let floatError: unknown;
  for (const candidate of inputs.samples) {
    try {
      floatOutputs = await runAll(executor, inputs.floatBytes, candidate);
      sample = candidate;
      break;
    } catch (error) {
      floatError ??= error;
    }
  }
  if (floatOutputs === undefined || sample === undefined) {
    return {
      verified: false,
      reason: `the float model does not run ${on} in ${executor.name}: ${errorText(floatError)}`,
    };
  }
  let session: ExecutorSession;
  try {
    session = await executor.createSession(inputs.quantizedBytes);
  } catch (error) {
    throw new QuantError(
      'INTERNAL',
      `${executor.name} refuses the quantized model quantkit made, although it loads the float one (a quantkit bug; ` +
        `please report it with the model): ${errorText(error)}`,
      { cause: error },
    );
  }
  let quantizedOutputs: Record<string, Tensor>;
  try {
    quantizedOutputs = await session.run(sample);
  } catch (error) {
    throw new QuantError(
      'INTERNAL',
      `${executor.name} loads the quantized model but fails to run it ${on}, although the float model runs ` +
        `(a quantkit bug; please report it with the model): ${errorText(error)}`,
      { cause: error },
    );
  } finally {
    await session.dispose();
  }

  const outputs: { name: string; sqnr: number }[] = [];
  for (const [name, reference] of Object.entries(floatOutputs)) {
    const test = quantizedOutputs[name];
    if (test === undefined) continue;
    if (firstNewNonFinite(test, reference) >= 0) {
      const origin = await locateNonFinite(executor, inputs.float(), inputs.quantized, sample);
      const where =
        origin === undefined
          ? ''
          : `; the first value to go non-finite is "${origin.tensor}" (${origin.value}), the output of ` +
            `${origin.opType} node "${origin.node}"`;
      throw new QuantError(
        'UNSUPPORTED',
        [
          `the quantized model gives NaN or infinity in output "${name}" ${on} where the float model's values are ` +
            `finite${where}; `,
          ...(inputs.advice ?? ['keep the nodes that feed it float (', { option: 'exclude' }, ')']),
        ],
        { details: { output: name, ...(origin !== undefined && { origin }) } },
      );
    }
    const floatLike = reference.dtype === 'float32' || reference.dtype === 'float64';
    if (floatLike && test.dtype === reference.dtype && test.data.length === reference.data.length) {
      outputs.push({ name, sqnr: compareTensors(reference, test, `output "${name}"`).sqnr });
    }
  }
  const latency =
    inputs.measureLatency === true
      ? await measureLatency(executor, inputs.floatBytes, inputs.quantizedBytes, sample)
      : undefined;
  return {
    verified: true,
    runtime: executor.name,
    sample: sampleOrigin,
    outputs,
    ...(latency !== undefined && { latency }),
  };
}
