import { type Plugin, type Tensor, createRegistry } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type AttributeInit, type Model, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { builtinRuntimePlugins } from '../builtins.js';
import { exactReferenceCase } from './exact-reference.js';
import { halfToFloat32, isHalfDType } from '../js/half-float.js';
import type { KernelAssignment } from '../planned-graph.js';
import { createRuntime } from '../runtime.js';

/** onnxruntime-node with its graph optimizations off: the reference runs each op's own kernel. */
const ortExecutor = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });

/** One node to run in onnxruntime-node and in the runtime. */
export interface NodeCase {
  readonly opType: string;
  readonly domain?: string;
  /** Default-domain opset (17 when omitted). */
  readonly opset?: number;
  readonly attributes?: Record<string, AttributeInit>;
  /** Input tensors in slot order; undefined for an omitted optional input. */
  readonly inputs: readonly (Tensor | undefined)[];
  /** Slots given as initializers rather than fed (weights, shapes, axes). */
  readonly constantSlots?: readonly number[];
  /** Number of outputs (1 when omitted). */
  readonly outputs?: number;
}

export interface Tolerance {
  /** Allowed |runtime - onnxruntime| is abs + rel * |onnxruntime| for float outputs; integers must match. */
  readonly abs?: number;
  readonly rel?: number;
  /**
   * float16 and bfloat16 outputs also agree within this many units in the last place of their type (default 0):
   * one rounding to 16 bits turns a float32 difference far below abs into a whole ulp.
   */
  readonly ulps?: number;
}

/** A single-node model of the case, its inputs fed under the names `in<slot>`. */
export function nodeCaseModel(spec: NodeCase): { model: Model; feeds: Record<string, Tensor> } {
  const constants = new Set(spec.constantSlots ?? []);
  const feeds: Record<string, Tensor> = {};
  const initializers: Record<string, Tensor> = {};
  const inputNames = spec.inputs.map((tensor, slot) => {
    if (tensor === undefined) return '';
    const name = `in${slot}`;
    if (constants.has(slot)) initializers[name] = tensor;
    else feeds[name] = tensor;
    return name;
  });
  const outputNames = Array.from({ length: spec.outputs ?? 1 }, (_, index) => `out${index}`);
  const domain = spec.domain ?? '';
  const model = createModel({
    opset: spec.opset ?? 17,
    ...(domain !== '' && { extraOpsets: [{ domain, version: 1 }] }),
    nodes: [
      {
        opType: spec.opType,
        domain,
        inputs: inputNames,
        outputs: outputNames,
        ...(spec.attributes !== undefined && { attributes: spec.attributes }),
      },
    ],
    inputs: Object.entries(feeds).map(([name, tensor]) => [name, tensor.dtype, tensor.shape] as const),
    outputs: outputNames.map((name) => [name] as const),
    initializers,
  });
  return { model, feeds };
}

/**
 * Runs one node in onnxruntime-node (optimizations off, one thread) and in the runtime with `plugins`, and returns
 * both outputs for comparison. A uint8 x int8 integer op runs in onnxruntime in its exact uint8 x uint8 form (see
 * exactReferenceCase): its u8 x s8 kernels saturate on AVX2 CPUs without VNNI.
 */
export async function runBoth(
  spec: NodeCase,
  plugins: readonly Plugin[] = builtinRuntimePlugins,
): Promise<{ expected: Tensor[]; actual: Tensor[]; assignments: KernelAssignment[] }> {
  const { model, feeds } = nodeCaseModel(spec);
  const reference = nodeCaseModel(exactReferenceCase(spec));
  const session = await ortExecutor.createSession(encodeModel(reference.model), { threads: 1 });
  let expected: Tensor[];
  try {
    const results = await session.run(reference.feeds);
    expected = session.outputNames.map((name) => results[name]!);
  } finally {
    await session.dispose();
  }
  const runtime = createRuntime(createRegistry(plugins));
  const loaded = await runtime.load(model);
  const outputs = await loaded.run(feeds);
  return {
    expected,
    actual: loaded.outputNames.map((name) => outputs[name]!),
    assignments: loaded.assignments(),
  };
}

/**
 * The first difference between two tensors beyond the tolerance, described; undefined when they agree. NaN agrees
 * with NaN, and infinities with themselves.
 */
export function tensorMismatch(
  actual: Tensor,
  expected: Tensor,
  tolerance: Tolerance = {},
): string | undefined {
  if (actual.dtype !== expected.dtype) return `dtype ${actual.dtype}, expected ${expected.dtype}`;
  if (actual.shape.join() !== expected.shape.join()) {
    return `shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  const abs = tolerance.abs ?? 1e-5;
  const rel = tolerance.rel ?? 1e-5;
  const half = isHalfDType(actual.dtype) ? actual.dtype : undefined;
  const float = actual.dtype === 'float32' || actual.dtype === 'float64' || half !== undefined;
  const actualValues = half === undefined ? actual.data : halfToFloat32(actual.data as Uint16Array, half);
  const expectedValues =
    half === undefined ? expected.data : halfToFloat32(expected.data as Uint16Array, half);
  for (let i = 0; i < expected.data.length; i++) {
    const a = Number(actualValues[i]);
    const e = Number(expectedValues[i]);
    if (
      half !== undefined &&
      Number.isFinite(a) &&
      Number.isFinite(e) &&
      ulpDistance(actual.data[i] as number, expected.data[i] as number) <= (tolerance.ulps ?? 0)
    )
      continue;
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    if (float && Math.abs(a - e) <= abs + rel * Math.abs(e)) continue;
    if (!float && a === e) continue;
    return `element ${i} is ${a}, expected ${e}`;
  }
  return undefined;
}

/** How many 16-bit float values lie between two bit patterns of one sign-magnitude type (+0 and -0 are one). */
function ulpDistance(a: number, b: number): number {
  const ordered = (bits: number) => (bits & 0x8000 ? -(bits & 0x7fff) : bits);
  return Math.abs(ordered(a) - ordered(b));
}
