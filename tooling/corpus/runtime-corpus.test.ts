// quantkit's own runtime (@quantkit/runtime, built-in kernels) on the corpus models in the forms onnxruntime cannot
// judge alone: the fp16 models (the runtime computes each float16 node in float32 and rounds its outputs to
// float16) and the packed weight-only models (`--format packed`: ai.quantkit ops, which onnxruntime does not run).
//
// fp16: onnxruntime's CPU provider has no float16 kernel for most ops; it puts Casts around them and then drops each
// Cast pair float32 -> float16 -> float32 between two such nodes, even with graph optimizations disabled, so
// whole chains run in float32 with no rounding between nodes. The reference here is onnxruntime made to round every
// value as the model says: an Identity (which has a float16 kernel) after every node's output keeps each Cast pair
// apart. Single nodes agree to the bit or to one float16 ulp (the runtime's conformance cases); over a whole network
// those ulps are amplified by dozens of layers and recurrent state, and the outputs agree to 39-80 dB, the same
// spread as onnxruntime's own float16 results against the float model. A wrong kernel would land near 0 dB.
//
// packed: the reference is onnxruntime on the stock form of the same quantization (DequantizeLinear or Gather in
// front of the float op); both compute in float32 from the same dequantized weights, so they agree to 87 dB and
// more (float32 summation order only).
import { type Tensor, createRegistry } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Graph, createNode, decodeModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import { builtinRuntimePlugins, createRuntime } from '@quantkit/runtime';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { loadCorpus } from './corpus.mjs';
import { MODES, floatBaseline, quantizeCell } from './run-corpus.mjs';

const FP16_FLOOR = 30;
const PACKED_FLOOR = 80;

const ortReference = createOrtExecutor(ort, { graphOptimizationLevel: 'disabled' });
const runtime = createRuntime(createRegistry([...builtinRuntimePlugins]));

/** An Identity after every node output (subgraphs included), so onnxruntime rounds each float16 value. */
function roundEveryValue(graph: Graph): void {
  for (const node of [...graph.nodes]) {
    for (const attribute of node.attributes.values()) {
      if (attribute.type === 'graph') roundEveryValue(attribute.value as Graph);
    }
    if (node.opType === 'Constant') continue;
    for (const output of [...node.outputs]) {
      if (output === '') continue;
      graph.replaceOutput(node, output, `${output}_unrounded`);
      graph.insertNodeAfter(
        createNode({ opType: 'Identity', inputs: [`${output}_unrounded`], outputs: [output] }),
        node,
      );
    }
  }
}

/**
 * SQNR (dB) of `test` against `reference` over their finite values; Infinity when they are equal. The signal counts
 * at least 1e-6 RMS, so an output of zeros (a saturated sigmoid) is not judged by its float32 dust.
 */
function sqnr(reference: Tensor, test: Tensor): number {
  const a = reference.data as Float32Array;
  const b = test.data as Float32Array;
  let signal = a.length * 1e-12;
  let noise = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) continue;
    signal += a[i]! * a[i]!;
    noise += (a[i]! - b[i]!) ** 2;
  }
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

/** Runs `bytes` on onnxruntime and the runtime on `testBytes` over the baseline's samples; per output, the SQNR. */
async function compare(
  referenceBytes: Uint8Array,
  testBytes: Uint8Array,
  samples: readonly Record<string, Tensor>[],
): Promise<Record<string, number>> {
  const session = await ortReference.createSession(referenceBytes, { threads: 1 });
  const loaded = await runtime.load(testBytes);
  const worst: Record<string, number> = {};
  try {
    for (const sample of samples) {
      const expected = await session.run(sample);
      const actual = await loaded.run(sample);
      for (const name of session.outputNames) {
        // Non-finite values must sit in the same places.
        const nonFinite = (tensor: Tensor) =>
          Array.from(tensor.data as Float32Array, (value, i) => (Number.isFinite(value) ? -1 : i)).filter(
            (i) => i >= 0,
          );
        expect(nonFinite(actual[name]!), name).toEqual(nonFinite(expected[name]!));
        worst[name] = Math.min(worst[name] ?? Number.POSITIVE_INFINITY, sqnr(expected[name]!, actual[name]!));
      }
    }
  } finally {
    await session.dispose();
  }
  return worst;
}

describe.each(loadCorpus().filter((entry) => entry.present))('$id on @quantkit/runtime', (entry) => {
  let baseline: Awaited<ReturnType<typeof floatBaseline>> | undefined;
  const float = async () => {
    baseline ??= await floatBaseline(entry);
    return baseline;
  };

  it('fp16: as onnxruntime rounding every value to float16', async () => {
    const cell = await quantizeCell(entry, 'fp16', await float());
    expect(cell.status, cell.message).toBe('written');
    const reference = decodeModel(cell.result.bytes);
    roundEveryValue(reference.graph);
    const worst = await compare(encodeModel(reference), cell.result.bytes, (await float()).samples);
    for (const [name, value] of Object.entries(worst)) {
      expect(value, `${name}: ${JSON.stringify(worst)}`).toBeGreaterThanOrEqual(FP16_FLOOR);
    }
  });

  it.each([
    'binary',
    'log',
  ] as const)('weight-only %s, format packed: as onnxruntime on the stock form', async (mode) => {
    const { bytes, samples } = await float();
    const { options } = MODES[mode];
    const packed = quantizeModel(bytes, { ...options, format: 'packed' });
    const stock = await quantizeModel(bytes, options);
    const worst = await compare(stock.bytes, (await packed).bytes, samples);
    for (const [name, value] of Object.entries(worst)) {
      expect(value, `${name}: ${JSON.stringify(worst)}`).toBeGreaterThanOrEqual(PACKED_FLOOR);
    }
  });
});
