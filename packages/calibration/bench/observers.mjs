// Micro benchmark: observe() throughput of every built-in observer on 1M-element float32 batches, against a named
// baseline in the same run (a plain loop computing min and max). Run `pnpm build` first; `pnpm bench` runs this.

import { createSeededRandom } from '@quantkit/core';
import {
  entropyObserver,
  minMaxObserver,
  movingAverageObserver,
  mseObserver,
  percentileObserver,
} from '../dist/index.js';

const ELEMENTS = 1 << 20;
const BATCHES = 8;
const ROUNDS = 5;

// Laplace(0, 1) values from a seeded generator (mulberry32), a few batches with growing scale so histograms re-bin.
function laplaceBatch(seed, scale) {
  const random = createSeededRandom(seed);
  const out = new Float32Array(ELEMENTS);
  for (let i = 0; i < ELEMENTS; i++) {
    const u = random() - 0.5;
    out[i] = -scale * Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  return out;
}
const batches = Array.from({ length: BATCHES }, (_, b) => laplaceBatch(b + 1, 1 + b / 2));
const shape = [ELEMENTS];
const channelShape = [ELEMENTS / 64, 64];

let sink = 0;
// The baseline: what any observer must at least do, one pass computing the extremes into local variables.
function plainMinMax(values) {
  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}
const baseline = {
  name: 'baseline: plain min/max loop',
  create: () => {
    let low = Infinity;
    let high = -Infinity;
    return {
      observe(values) {
        const [batchLow, batchHigh] = plainMinMax(values);
        low = Math.min(low, batchLow);
        high = Math.max(high, batchHigh);
      },
      range() {
        return { max: [high - low] };
      },
    };
  },
};

const cases = [
  baseline,
  { name: 'minmax', create: () => minMaxObserver.create() },
  { name: 'minmax per channel (64)', create: () => minMaxObserver.create({ granularity: 'channel', axis: 1 }), shape: channelShape },
  { name: 'moving-average', create: () => movingAverageObserver.create() },
  {
    name: 'moving-average per channel (64)',
    create: () => movingAverageObserver.create({ granularity: 'channel', axis: 1 }),
    shape: channelShape,
  },
  { name: 'percentile (signed histogram)', create: () => percentileObserver.create() },
  { name: 'percentile symmetric (|x| histogram)', create: () => percentileObserver.create({ symmetric: true }) },
  { name: 'entropy', create: () => entropyObserver.create({ symmetric: true }) },
  { name: 'mse', create: () => mseObserver.create() },
  { name: 'mse symmetric', create: () => mseObserver.create({ symmetric: true }) },
];

function measure(testCase) {
  let best = Infinity;
  let rangeMs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const observer = testCase.create();
    const start = performance.now();
    for (const batch of batches) observer.observe(batch, testCase.shape ?? shape);
    best = Math.min(best, performance.now() - start);
    const rangeStart = performance.now();
    const range = observer.range();
    rangeMs = Math.min(rangeMs, performance.now() - rangeStart);
    sink += range?.max?.[0] ?? 0;
  }
  return { perBatchMs: best / BATCHES, elementsPerSecond: (BATCHES * ELEMENTS) / (best / 1000), rangeMs };
}

const results = cases.map((testCase) => ({ name: testCase.name, ...measure(testCase) }));
const reference = results[0].elementsPerSecond;
const rows = results.map((r) => [
  r.name,
  (r.elementsPerSecond / 1e6).toFixed(0),
  r.perBatchMs.toFixed(2),
  (r.elementsPerSecond / reference).toFixed(2),
  r.rangeMs.toFixed(2),
]);
const header = ['observer', 'M elements/s', 'ms per 1M batch', 'x baseline', 'range() ms'];
const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
const line = (cells) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
console.log(`observe() on ${BATCHES} float32 batches of ${ELEMENTS} elements, best of ${ROUNDS} (node ${process.version})`);
console.log(line(header));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const row of rows) console.log(line(row));
if (Number.isNaN(sink)) console.log('');
