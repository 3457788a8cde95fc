import type { Registry } from '@quantkit/core';
import type { Model, Node } from '@quantkit/onnx';
import { calibrate } from './calibrate.js';
import { inferDTypes } from './infer-dtypes.js';
import type { QuantizeOptions } from './options.js';
import type { QuantPlan } from './plan.js';

/** The largest finite float16. */
export const FLOAT16_MAX = 65504;

/**
 * Values up to this magnitude on the calibration data may run in fp16: three quarters of FLOAT16_MAX, leaving room
 * for inputs louder than the calibration set (int16-scale audio, at most 32767, still fits).
 */
export const FLOAT16_SAFE_MAX = FLOAT16_MAX * 0.75;

export interface FloatRangeCheck {
  readonly plan: QuantPlan;
  readonly samples: number;
  readonly threads: number;
}

function formatMagnitude(value: number): string {
  return value >= 1e5 ? value.toExponential(1) : value.toFixed(0);
}

/**
 * Runs the float model on the calibration data, watching every float value a converted node reads or writes, and
 * keeps in fp32 each node with a value beyond FLOAT16_SAFE_MAX (an STFT convolution over int16-scale audio reaches
 * 1e6; in fp16 it would be infinity, or saturate). Inputs count too: an fp32 node's large output cast to fp16 for
 * the next node overflows just the same. The returned plan says so in those nodes' reasons.
 */
export async function keepOverflowingNodesFp32(
  model: Model,
  plan: QuantPlan,
  registry: Registry,
  options: QuantizeOptions & Required<Pick<QuantizeOptions, 'executor' | 'calibrationData'>>,
): Promise<FloatRangeCheck> {
  const { graph } = model;
  const dtypes = inferDTypes(graph);
  const converted = new Set(
    plan.decisions.filter((decision) => decision.quantized).map((decision) => decision.name),
  );
  const watched = new Set<string>();
  const nodes: Node[] = [];
  for (const node of graph.nodes) {
    if (!converted.has(node.name)) continue;
    nodes.push(node);
    for (const value of [...node.inputs, ...node.outputs]) {
      if (value !== '' && dtypes.get(value) === 'float32' && graph.getConstant(value) === undefined)
        watched.add(value);
    }
  }
  if (watched.size === 0) return { plan, samples: 0, threads: 0 };
  const observer = registry.get('observer', 'minmax');
  const calibration = await (options.calibrationRunner ?? calibrate)(
    model,
    [...watched].map((name) => ({ name, observer, options: { granularity: 'tensor', symmetric: false } })),
    {
      executor: options.executor,
      samples: options.calibrationData,
      limit: options.calibrationLimit,
      maxTensorsPerPass: options.maxTensorsPerPass,
      total: options.calibrationTotal,
      onProgress: options.onProgress,
    },
  );
  const peaks = new Map<string, number>();
  for (const [name, range] of calibration.ranges) {
    peaks.set(name, Math.max(Math.abs(range.min[0] ?? 0), Math.abs(range.max[0] ?? 0)));
  }
  const overflow = new Map<string, string>();
  for (const node of nodes) {
    const value = [...node.outputs, ...node.inputs].find((name) => (peaks.get(name) ?? 0) > FLOAT16_SAFE_MAX);
    if (value === undefined) continue;
    const role = node.outputs.includes(value) ? 'output' : 'input';
    overflow.set(
      node.name,
      `kept fp32: its ${role} "${value}" reaches ${formatMagnitude(peaks.get(value)!)} on the calibration data, ` +
        `too close to fp16's largest value ${FLOAT16_MAX}`,
    );
  }
  return {
    plan: {
      ...plan,
      decisions: plan.decisions.map((decision) => {
        const reason = overflow.get(decision.name);
        return reason === undefined ? decision : { ...decision, quantized: false, reason };
      }),
    },
    samples: calibration.samples,
    threads: calibration.threads,
  };
}
