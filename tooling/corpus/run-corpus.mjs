// Quantizes one corpus model in one mode and measures what a user would check: quantkit exits cleanly or with a
// named error, the output loads in onnxruntime-node (optimization level all) and onnxruntime-web (wasm), its
// outputs are finite where the float model's are, and how close and how small it is.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeModel } from '@quantkit/onnx';
import { QuantError } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createOrtWebExecutor } from '@quantkit/executor-ort/web';
import { createMetricsAccumulator, measureLatency, planModel, quantizeModel } from '@quantkit/quantize';
import { createRuntimeExecutor } from '@quantkit/runtime';
import * as ortNode from 'onnxruntime-node';
import { synthesizeInputs } from './corpus.mjs';

/**
 * The modes every corpus model goes through, as quantizeModel options, with the SQNR floor (dB) each must meet on
 * realistic inputs. A floor of undefined means the mode makes no accuracy promise (1-bit and power-of-two codes on
 * networks trained for float), only that its output loads, runs and stays finite.
 */
export const MODES = {
  'static-qdq': { options: { mode: 'static' }, calibrate: true, floor: 25 },
  'static-qoperator': { options: { mode: 'static', format: 'qoperator' }, calibrate: true, floor: 25 },
  dynamic: { options: { mode: 'dynamic' }, floor: 35 },
  'weight-only-int8': { options: { mode: 'weight-only' }, floor: 35 },
  // The same codes as weight-only-int8 in the form onnxruntime folds to fp32 at load: its limits apply.
  'weight-only-fold': {
    options: { mode: 'weight-only', weightOnlyForm: 'fold' },
    floor: 35,
    sameValuesAs: 'weight-only-int8',
  },
  'block-q4': { options: { mode: 'weight-only', granularity: 'block', bits: 4 }, floor: undefined },
  fp16: { options: { mode: 'float' }, calibrate: true, floor: 60 },
  binary: { options: { mode: 'weight-only', quantizer: 'binary' }, floor: undefined },
  log: { options: { mode: 'weight-only', quantizer: 'log', bits: 4 }, floor: undefined },
};

/**
 * Modes only the benchmark runs: what the guarded ones write depends on this machine's timings (the latency guard),
 * so the corpus test cannot pin their bytes.
 */
export const BENCH_MODES = {
  // Deterministic, but a second calibration per model: the test suite keeps to the default observer.
  'static-auto': { options: { mode: 'static', calibrationMethod: 'auto' }, calibrate: true, floor: 25 },
  'static-guarded': { options: { mode: 'static', latencyGuard: true }, calibrate: true, floor: 25 },
  // The calibration samples only give the guard a sample every model runs on (random data does not fit silero's
  // state inputs); dynamic mode computes nothing from them.
  'dynamic-guarded': { options: { mode: 'dynamic', latencyGuard: true }, calibrate: true, floor: 35 },
};

/** Calibration samples per model (seeds 1..N of the entry's input recipe) and held-out evaluation samples. */
export const CALIBRATION_SEEDS = [1, 2, 3, 4];
export const EVALUATION_SEEDS = [101, 102];

const nodeExecutor = createOrtExecutor(ortNode, { name: 'ort-node', graphOptimizationLevel: 'all' });
const webExecutor = createOrtWebExecutor({
  configure: (ort) => {
    ort.env.wasm.numThreads = 1;
  },
});

const runtimeExecutor = createRuntimeExecutor();
export const executors = { node: nodeExecutor, web: webExecutor, runtime: runtimeExecutor };

async function withSession(executor, bytes, use) {
  const session = await executor.createSession(bytes);
  try {
    return await use(session);
  } finally {
    await session.dispose();
  }
}

function isFloat(tensor) {
  return tensor.dtype === 'float32' || tensor.dtype === 'float64';
}

function nonFiniteCount(tensor, reference) {
  if (!isFloat(tensor)) return 0;
  let count = 0;
  for (let i = 0; i < tensor.data.length; i++) {
    if (!Number.isFinite(tensor.data[i]) && (reference === undefined || Number.isFinite(reference.data[i])))
      count++;
  }
  return count;
}

/** Median wall time of `runs` runs of a session on one sample, after one warm-up run. */
/**
 * The op types onnxruntime-node runs after its level-all optimizations (the model it writes to
 * optimizedModelFilePath), counted, with quantization ops only: QLinear*, *Integer*, Q/DQ and com.microsoft's
 * quantized kernels. What survives as QuantizeLinear/DequantizeLinear is where Q/DQ pairs were not fused.
 */
export async function fusedOps(bytes) {
  const folder = mkdtempSync(join(tmpdir(), 'quantkit-fused-'));
  try {
    const path = join(folder, 'optimized.onnx');
    const session = await ortNode.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      optimizedModelFilePath: path,
    });
    await session.release();
    const counts = {};
    for (const node of decodeModel(readFileSync(path)).graph.nodes) {
      if (
        !/QLinear|Integer|QuantizeLinear|DequantizeLinear|QGemm|QAttention|NBits|QuantizeMatMul/.test(
          node.opType,
        )
      )
        continue;
      counts[node.opType] = (counts[node.opType] ?? 0) + 1;
    }
    return counts;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Runs `bytes` with an executor on the evaluation samples: an SQNR accumulator per float output against the float
 * model's, and the count of values that went NaN or infinite where the float model's did not.
 */
async function compareOutputs(executor, bytes, baseline) {
  const metrics = new Map();
  let nonFinite = 0;
  await withSession(executor, bytes, async (session) => {
    for (const [index, sample] of baseline.samples.entries()) {
      const outputs = await session.run(sample);
      for (const [name, reference] of Object.entries(baseline.outputs[index])) {
        const test = outputs[name];
        if (!isFloat(reference) || test === undefined) continue;
        nonFinite += nonFiniteCount(test, reference);
        if (!metrics.has(name)) metrics.set(name, createMetricsAccumulator());
        if (nonFiniteCount(test, reference) === 0) metrics.get(name).add(reference, test, name);
      }
    }
  });
  return { metrics, nonFinite };
}

/** The float model's outputs on every evaluation sample, computed once per model. */
export async function floatBaseline(entry) {
  const bytes = readFileSync(entry.file);
  const samples = EVALUATION_SEEDS.map((seed) => synthesizeInputs(entry, seed));
  return withSession(nodeExecutor, bytes, async (session) => {
    const outputs = [];
    for (const sample of samples) outputs.push(await session.run(sample));
    return { bytes, samples, outputs };
  });
}

/**
 * Quantizes one model in one mode (calibrating on the entry's calibration seeds where the mode needs data).
 * quantkit's own refusals come back as `{ status: 'refused', code, message }`; anything else is rethrown.
 * @returns {Promise<{ status: 'written', result: object, sha256: string } | { status: 'refused', code: string, message: string }>}
 */
export async function quantizeCell(entry, modeName, baseline) {
  const mode = MODES[modeName] ?? BENCH_MODES[modeName];
  const calibrationData = mode.calibrate
    ? CALIBRATION_SEEDS.map((seed) => synthesizeInputs(entry, seed))
    : undefined;
  try {
    const start = performance.now();
    const result = await quantizeModel(baseline.bytes, {
      ...mode.options,
      executor: nodeExecutor,
      ...(calibrationData !== undefined && { calibrationData }),
    });
    const seconds = (performance.now() - start) / 1000;
    const sha256 = createHash('sha256').update(result.bytes).digest('hex');
    return { status: 'written', result, sha256, seconds };
  } catch (error) {
    if (QuantError.is(error)) return { status: 'refused', code: error.code, message: error.message };
    throw error;
  }
}

/**
 * Runs one model x mode cell. Never throws for quantkit's own refusals: a QuantError becomes
 * `{ status: 'refused', code, message }`; anything else (a crash, a model the runtime refuses) is rethrown.
 * With `latency`, also the quantized / float latency ratio (latencyRatio) and the float model's median (floatMs);
 * with `runtime`, the worst output's SQNR when quantkit's runtime runs the model (runtimeSqnr, or runtimeError).
 * @returns {Promise<object>} loadsNode, loadsWeb, finite, sizeRatio, sqnr (worst float output, dB), latencyRatio,
 *   sha256 of the written model
 */
export async function runCell(entry, modeName, baseline, { latency = false, runtime = false } = {}) {
  const quantized = await quantizeCell(entry, modeName, baseline);
  if (quantized.status === 'refused') return quantized;
  const { result, sha256, seconds } = quantized;
  const measured = await measureBytes(result.bytes, baseline, { latency, runtime });
  return { status: 'written', sha256, seconds, summary: result.summary, ...measured, bytes: result.bytes };
}

/**
 * Measures a quantized model's bytes against the float baseline the way every cell is measured, whoever wrote
 * them (quantkit in runCell, the reference quantizer in bench-models.mjs): size, loads in onnxruntime-node and
 * -web, finite outputs, worst output's SQNR on the evaluation samples and, with `latency`, latency against the
 * float model and the quantization ops onnxruntime keeps after its optimizations.
 * @returns {Promise<object>} sizeRatio, loadsNode, finite, outputs, sqnr, loadsWeb (webError), and with latency
 *   latencyRatio, floatMs, fusedOps
 */
export async function measureBytes(bytes, baseline, { latency = false, runtime = false } = {}) {
  const cell = { sizeRatio: bytes.length / baseline.bytes.length };
  const { metrics, nonFinite } = await compareOutputs(nodeExecutor, bytes, baseline);
  if (latency) {
    const measured = await measureLatency(nodeExecutor, baseline.bytes, bytes, baseline.samples[0]);
    cell.latencyRatio = measured.ratio;
    cell.floatMs = measured.floatMs;
    cell.fusedOps = await fusedOps(bytes);
  }
  cell.loadsNode = true;
  cell.finite = nonFinite === 0;
  const sqnrs = [...metrics].map(([name, accumulator]) => ({ name, sqnr: accumulator.result().sqnr }));
  cell.outputs = sqnrs;
  cell.sqnr = sqnrs.length === 0 ? undefined : Math.min(...sqnrs.map((entry) => entry.sqnr));
  if (runtime) {
    // quantkit's own runtime on the same bytes: how close it comes to the float model, beside onnxruntime.
    const measured = await compareOutputs(runtimeExecutor, bytes, baseline).catch((error) => ({ error }));
    if (measured.error !== undefined) {
      cell.runtimeError = measured.error.message;
    } else {
      cell.runtimeFinite = measured.nonFinite === 0;
      const worst = Math.min(
        ...[...measured.metrics.values()].map((accumulator) => accumulator.result().sqnr),
      );
      cell.runtimeSqnr = measured.metrics.size === 0 ? undefined : worst;
    }
  }
  cell.loadsWeb = await withSession(webExecutor, bytes, async (session) => {
    const outputs = await session.run(baseline.samples[0]);
    return Object.values(outputs).every((tensor) => nonFiniteCount(tensor) === 0 || !isFloat(tensor));
  }).then(
    () => true,
    (error) => {
      cell.webError = error.message;
      return false;
    },
  );
  return cell;
}

/**
 * A compact, name-free picture of a plan for regression checks: how many nodes of each op type were quantized and
 * how many kept float, each with its reason (quoted names replaced by "…"), body nodes counted apart.
 * @param {readonly { opType: string, quantized: boolean, reason: string, scope?: string }[]} nodes summary.nodes
 * @returns {{ quantized: Record<string, number>, float: Record<string, number> }}
 */
/**
 * The planner alone on one cell (planModel: no calibration, no emission): the snapshot of its main-graph decisions,
 * or `{ status: 'refused', code }` when quantkit refuses the options or the model.
 */
export async function planCell(entry, modeName) {
  try {
    const { plan } = await planModel(readFileSync(entry.file), MODES[modeName].options);
    return planSnapshot(plan.decisions);
  } catch (error) {
    if (QuantError.is(error)) return { status: 'refused', code: error.code };
    throw error;
  }
}

/** A plan snapshot without the entries of nodes inside If/Loop/Scan bodies (planned while their weights are written). */
export function mainGraphSnapshot(snapshot) {
  const main = (counts) =>
    Object.fromEntries(Object.entries(counts).filter(([key]) => !key.startsWith('body ')));
  return { quantized: main(snapshot.quantized), float: main(snapshot.float) };
}

export function planSnapshot(nodes) {
  const quantized = {};
  const float = {};
  for (const node of nodes) {
    const key = `${node.scope ? 'body ' : ''}${node.opType}: ${node.reason.replace(/"[^"]*"/g, '"…"')}`;
    const counts = node.quantized ? quantized : float;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  const sorted = (counts) =>
    Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  return { quantized: sorted(quantized), float: sorted(float) };
}
