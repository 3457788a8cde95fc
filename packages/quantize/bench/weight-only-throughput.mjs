// Benchmark: weight-only INT8 quantization throughput (MB of fp32 weights per second) and peak memory on a
// generated 50 MB model. Each scenario runs in a fresh Node process so its peak RSS is its own.
// Baselines measured in the same run: decoding + encoding the fp32 model unchanged (the I/O floor of any
// pipeline), and a naive per-tensor round-to-int8 loop over the same weights (the arithmetic floor).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const scenario = process.argv[2];

async function buildModel(path) {
  const { createTensor } = await import('@quantkit/core');
  const { createModel, encodeModel } = await import('@quantkit/onnx');
  let seed = 7;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  const width = 1024;
  const layers = 12;
  const initializers = {};
  const nodes = [];
  let previous = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = createTensor('float32', [width, width], Float32Array.from({ length: width * width }, () => random() * 0.05));
    nodes.push({ name: `mm${i}`, opType: 'MatMul', domain: '', inputs: [previous, `w${i}`], outputs: [`h${i}`], attributes: new Map() });
    previous = `h${i}`;
  }
  initializers.head = createTensor('float32', [width, 512], Float32Array.from({ length: width * 512 }, () => random() * 0.05));
  nodes.push({ name: 'head', opType: 'MatMul', domain: '', inputs: [previous, 'head'], outputs: ['y'], attributes: new Map() });
  const model = createModel({
    opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, width] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 512] }],
    initializers,
    nodes,
  });
  writeFileSync(path, encodeModel(model));
}

async function runScenario(name, path) {
  const bytes = new Uint8Array(readFileSync(path));
  const { decodeModel, encodeModel } = await import('@quantkit/onnx');
  const start = performance.now();
  if (name === 'baseline: decode + encode fp32') {
    encodeModel(decodeModel(bytes));
  } else if (name === 'baseline: plain per-tensor round loop') {
    const model = decodeModel(bytes);
    const begin = performance.now();
    for (const { data } of model.graph.initializers.values()) {
      let max = 0;
      for (let i = 0; i < data.length; i++) max = Math.max(max, Math.abs(data[i]));
      const scale = max / 127 || 1;
      const codes = new Int8Array(data.length);
      for (let i = 0; i < data.length; i++) codes[i] = Math.round(data[i] / scale);
    }
    return { ms: performance.now() - begin };
  } else if (name === 'quantkit: quantizeWeight per-channel') {
    const { linearQuantizer } = await import('@quantkit/quantizer-linear');
    const model = decodeModel(bytes);
    const begin = performance.now();
    for (const tensor of model.graph.initializers.values()) {
      linearQuantizer.quantizeWeight(tensor, { bits: 8, symmetric: true, restrictedRange: true, granularity: 'channel', axis: 1 });
    }
    return { ms: performance.now() - begin };
  } else {
    const { quantizeModel } = await import('@quantkit/quantize');
    const granularity = name.includes('per-tensor') ? 'tensor' : 'channel';
    await quantizeModel(bytes, { mode: 'weight-only', granularity });
  }
  return { ms: performance.now() - start };
}

if (scenario !== undefined) {
  const result = await runScenario(scenario, process.argv[3]);
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ ...result, peakRssMb }));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-bench-'));
  const path = join(dir, 'model.onnx');
  try {
    await buildModel(path);
    const { decodeModel } = await import('@quantkit/onnx');
    const weightMb = [...decodeModel(new Uint8Array(readFileSync(path))).graph.initializers.values()].reduce((sum, t) => sum + t.data.byteLength, 0) / 2 ** 20;
    const scenarios = [
      'baseline: decode + encode fp32',
      'quantkit: weight-only per-channel (end to end)',
      'quantkit: weight-only per-tensor (end to end)',
      'baseline: plain per-tensor round loop',
      'quantkit: quantizeWeight per-channel',
    ];
    const rows = [];
    for (const name of scenarios) {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(JSON.parse(execFileSync(process.execPath, [self, name, path], { encoding: 'utf8' })));
      const ms = Math.min(...runs.map((r) => r.ms));
      rows.push({ name, ms, mbPerSecond: weightMb / (ms / 1000), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)) });
    }
    const baseline = { end: rows[0], kernel: rows[3] };
    console.log(`\nWeight-only INT8 quantization of a ${weightMb.toFixed(1)} MB fp32 model (best of 3, fresh process each)\n`);
    console.log('| scenario | time (ms) | fp32 MB/s | peak RSS (MB) | time vs baseline |');
    console.log('|---|---:|---:|---:|---:|');
    for (const [i, row] of rows.entries()) {
      const base = i < 3 ? baseline.end : baseline.kernel;
      console.log(`| ${row.name} | ${row.ms.toFixed(0)} | ${row.mbPerSecond.toFixed(0)} | ${row.peakRssMb.toFixed(0)} | ${(row.ms / base.ms).toFixed(2)}x |`);
    }
    console.log(`\nend-to-end rows compare with "${baseline.end.name}", kernel rows with "${baseline.kernel.name}".`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
