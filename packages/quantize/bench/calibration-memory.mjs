// Benchmark: peak memory and speed of static calibration as the number of samples grows. Calibration keeps only
// observer state, so peak RSS should not grow with the sample count. Each run is a fresh Node process; the
// baseline is the 16-sample run of the same observer in the same table.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const [scenario, ...args] = process.argv.slice(2);

/** A conv net of a few MB with activations of 16x64x64 floats per layer. */
async function buildModel(path) {
  const { createTensor } = await import('@quantkit/core');
  const { createModel, encodeModel } = await import('@quantkit/onnx');
  let seed = 3;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const tensor = (shape, scale) =>
    createTensor('float32', shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random() * scale));
  const ints = (value) => ({ type: 'ints', value });
  const initializers = { w0: tensor([32, 3, 3, 3], 0.3), b0: tensor([32], 0.1) };
  const nodes = [
    { name: 'conv0', opType: 'Conv', domain: '', inputs: ['x', 'w0', 'b0'], outputs: ['c0'], attributes: new Map([['pads', ints([1, 1, 1, 1])]]) },
    { name: 'relu0', opType: 'Relu', domain: '', inputs: ['c0'], outputs: ['r0'], attributes: new Map() },
  ];
  let previous = 'r0';
  for (let i = 1; i <= 8; i++) {
    initializers[`w${i}`] = tensor([64, i === 1 ? 32 : 64, 3, 3], 0.05);
    initializers[`b${i}`] = tensor([64], 0.1);
    nodes.push(
      { name: `conv${i}`, opType: 'Conv', domain: '', inputs: [previous, `w${i}`, `b${i}`], outputs: [`c${i}`], attributes: new Map([['pads', ints([1, 1, 1, 1])]]) },
      { name: `relu${i}`, opType: 'Relu', domain: '', inputs: [`c${i}`], outputs: [`r${i}`], attributes: new Map() },
    );
    previous = `r${i}`;
  }
  nodes.push({ name: 'pool', opType: 'GlobalAveragePool', domain: '', inputs: [previous], outputs: ['y'], attributes: new Map() });
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 3, 64, 64] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 64, 1, 1] }],
    initializers,
    nodes,
  });
  writeFileSync(path, encodeModel(model));
}

async function writeSamples(dir, count) {
  const { encodeNpy } = await import('@quantkit/calibration');
  mkdirSync(dir, { recursive: true });
  let seed = count;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  for (let i = 0; i < count; i++) {
    const data = Float32Array.from({ length: 3 * 64 * 64 }, random);
    writeFileSync(join(dir, `sample_${String(i).padStart(4, '0')}.npy`), encodeNpy({ dtype: 'float32', shape: [1, 3, 64, 64], data }));
  }
}

if (scenario === 'run') {
  const [model, calib, out, method, workers] = args;
  const { quantizeFile } = await import('@quantkit/quantize/node');
  const { createOrtNodeExecutor } = await import('@quantkit/executor-ort');
  const start = performance.now();
  const result = await quantizeFile(model, out, {
    mode: 'static',
    executor: createOrtNodeExecutor(),
    calibrationDir: calib,
    calibrationMethod: method,
    ...(workers === 'auto' ? {} : { calibrationWorkers: Number(workers) }),
    force: true,
  });
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    JSON.stringify({ seconds, samples: result.summary.calibrationSamples, peakRssMb: process.resourceUsage().maxRSS / 1024 }),
  );
} else {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-calib-bench-'));
  try {
    const model = join(dir, 'model.onnx');
    await buildModel(model);
    const counts = (process.env.COUNTS ?? '16,64,256').split(',').map(Number);
    for (const count of counts) await writeSamples(join(dir, `calib${count}`), count);
    const { builtinPlugins } = await import('@quantkit/quantize');
    const methods = process.env.METHODS ? process.env.METHODS.split(',') : builtinPlugins.filter((plugin) => plugin.kind === 'observer').map((plugin) => plugin.name);
    console.log('\nStatic calibration of a 9-layer conv net (1x3x64x64 input, 64-channel 64x64 activations), median of 3 fresh processes per row\n');
    console.log('| observer | threads | samples | time (s) | samples/s | peak RSS (MB) | peak vs first row |');
    console.log('|---|---:|---:|---:|---:|---:|---:|');
    for (const method of methods) {
      for (const workers of method === 'minmax' ? ['1', 'auto'] : ['1']) {
        let baseline;
        for (const count of counts) {
          // Peak RSS moves with garbage-collection timing; the median of three fresh processes steadies it.
          const runs = [0, 1, 2].map(() =>
            JSON.parse(
              execFileSync(
                process.execPath,
                [self, 'run', model, join(dir, `calib${count}`), join(dir, 'out.onnx'), method, workers],
                { encoding: 'utf8' },
              ),
            ),
          );
          const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[1];
          const run = { seconds: median('seconds'), samples: runs[0].samples, peakRssMb: median('peakRssMb') };
          baseline ??= run.peakRssMb;
          console.log(
            `| ${method} | ${workers} | ${count} | ${run.seconds.toFixed(2)} | ${(run.samples / run.seconds).toFixed(1)} | ` +
              `${run.peakRssMb.toFixed(0)} | ${((run.peakRssMb / baseline - 1) * 100).toFixed(1)}% |`,
          );
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
