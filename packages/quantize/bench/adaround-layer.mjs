// Benchmark: AdaRound's cost per layer (optimizeRounding) on layer shapes real models have, 4-bit symmetric
// per-channel weights and 2048 sampled input columns. Baseline in the same run: round-to-nearest of the same weight
// and one evaluation of its reconstruction error (what finetuning costs nothing beyond). Prints ms per step, the
// extrapolated time for the default 500 steps, and the reconstruction error before and after.
// Run: pnpm --filter @quantkit/quantize build && node packages/quantize/bench/adaround-layer.mjs [steps]
import { performance } from 'node:perf_hooks';
import { DEFAULT_ADAROUND_SETTINGS, optimizeRounding } from '@quantkit/quantize';

const steps = Number(process.argv[2] ?? 50);
const columns = 2048;

let seed = 11;
const random = () => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
const normal = () => random() + random() + random() - 1.5;

function problem(rows, inner, groups) {
  const weight = Float32Array.from({ length: rows * inner }, () => normal() * 0.1);
  const scale = new Float32Array(rows * inner);
  for (let r = 0; r < rows; r++) {
    let largest = 0;
    for (let k = 0; k < inner; k++) largest = Math.max(largest, Math.abs(weight[r * inner + k]));
    scale.fill(Math.fround(largest / 7), r * inner, (r + 1) * inner);
  }
  // Post-Relu-like inputs sharing a common component per column.
  const inputs = new Float32Array(groups * inner * columns);
  for (let n = 0; n < columns; n++) {
    const common = random();
    for (let row = 0; row < groups * inner; row++) inputs[row * columns + n] = Math.max(0, common + normal());
  }
  return {
    rows,
    inner,
    groups,
    columns,
    weight,
    scale,
    zeroPoint: new Int32Array(rows * inner),
    qmin: -7,
    qmax: 7,
    inputs,
  };
}

const layers = [
  ['Conv 3x3 64->64', 64, 576, 1],
  ['Conv 3x3 256->256', 256, 2304, 1],
  ['depthwise 3x3 x256', 256, 9, 256],
  ['Gemm 768->768', 768, 768, 1],
];

console.log(
  `AdaRound per layer, ${steps} steps measured, ${columns} columns, batch ${DEFAULT_ADAROUND_SETTINGS.batchColumns}`,
);
console.log('layer                 | RTN+error ms | ms/step | 500 steps s | error RTN -> AdaRound');
for (const [name, rows, inner, groups] of layers) {
  const layer = problem(rows, inner, groups);
  const started = performance.now();
  const nearest = Int32Array.from(layer.weight, (value, i) =>
    Math.max(-7, Math.min(7, Math.round(value / layer.scale[i]))),
  );
  const baseline = optimizeRounding(layer, nearest, { ...DEFAULT_ADAROUND_SETTINGS, iterations: 0 });
  const baselineMs = performance.now() - started;
  const begin = performance.now();
  const result = optimizeRounding(layer, nearest, { ...DEFAULT_ADAROUND_SETTINGS, iterations: steps });
  const perStep = (performance.now() - begin - baselineMs) / steps;
  console.log(
    `${name.padEnd(21)} | ${baselineMs.toFixed(0).padStart(12)} | ${perStep.toFixed(2).padStart(7)} | ` +
      `${((perStep * 500) / 1000).toFixed(1).padStart(11)} | ${baseline.errorBefore.toExponential(2)} -> ${result.errorAfter.toExponential(2)}`,
  );
}
