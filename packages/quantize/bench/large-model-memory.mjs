// Benchmark: peak memory of weight-only INT8 quantization of models kept in external data, at about 100 MB, 1 GB
// and 2.5 GB of fp32 weights (the last beyond protobuf's 2 GiB, so it exists only as model + data file). Weights
// stay in their data file until used (paged tensors) and the output is written tensor by tensor, so peak RSS
// should stay well under the model's size: the goal is <= 0.5x at 2.5 GB.
// Every row is a fresh Node process measured by its own peak RSS. Baselines in the same run:
//   - plain copy: the model and data files copied by streams (the process's floor, no model in memory);
//   - eager read + write: readModelFile({ eager: true }) then writeModelFile, every weight in memory at once
//     (what reading a model whole costs, and what quantkit did before paged tensors).
// Verification is off (verify: false): running the float model in onnxruntime needs the whole model in memory,
// and a model over 2 GiB cannot be handed to it as one buffer.
// Usage: node bench/large-model-memory.mjs [sizes in MiB, default 100,1024,2560]
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const [scenario, ...args] =
  process.argv[2] === 'run' ? process.argv.slice(2) : [undefined, ...process.argv.slice(2)];
const WIDTH = 2048;
const LAYER_BYTES = WIDTH * WIDTH * 4;

/**
 * A chain of MatMul layers of 2048x2048 fp32 weights (16 MiB each) written with external data. The weights are
 * paged tensors made from a seeded generator, so writing the model never holds more than one of them.
 */
async function buildModel(path, mebibytes) {
  const { createModel, pagedTensor, writeModelFile } = await import('@quantkit/onnx/node').then(
    async (node) => ({
      ...(await import('@quantkit/onnx')),
      ...node,
    }),
  );
  const layers = Math.max(1, Math.round((mebibytes * 2 ** 20) / LAYER_BYTES));
  const initializers = {};
  const nodes = [];
  let previous = 'x';
  for (let i = 0; i < layers; i++) {
    initializers[`w${i}`] = pagedTensor('float32', [WIDTH, WIDTH], () => {
      let seed = 17 + i;
      const data = new Float32Array(WIDTH * WIDTH);
      for (let j = 0; j < data.length; j++) {
        seed = (seed * 1664525 + 1013904223) >>> 0;
        data[j] = (seed / 2 ** 32 - 0.5) * 0.04;
      }
      return data;
    });
    nodes.push({ name: `mm${i}`, opType: 'MatMul', inputs: [previous, `w${i}`], outputs: [`h${i}`] });
    previous = `h${i}`;
  }
  nodes[nodes.length - 1].outputs = ['y'];
  const model = createModel({
    opset: 17,
    inputs: [['x', 'float32', [1, WIDTH]]],
    outputs: [['y', 'float32', [1, WIDTH]]],
    initializers,
    nodes,
  });
  await writeModelFile(path, model, { externalData: true });
  return layers;
}

function filesSize(path) {
  return statSync(path).size + statSync(`${path}.data`).size;
}

if (scenario === 'run') {
  const [kind, input, output] = args;
  const start = performance.now();
  if (kind === 'copy') {
    for (const suffix of ['', '.data']) {
      await pipeline(createReadStream(`${input}${suffix}`), createWriteStream(`${output}${suffix}`));
    }
  } else if (kind === 'eager') {
    const { readModelFile, writeModelFile } = await import('@quantkit/onnx/node');
    const model = await readModelFile(input, { eager: true });
    await writeModelFile(output, model, { externalData: true });
  } else {
    const { quantizeFile } = await import('@quantkit/quantize/node');
    await quantizeFile(input, output, { mode: 'weight-only', verify: false, force: true });
  }
  const seconds = (performance.now() - start) / 1000;
  process.stdout.write(
    JSON.stringify({
      seconds,
      peakRss: process.resourceUsage().maxRSS * 1024,
      outputBytes: filesSize(output),
    }),
  );
} else {
  const sizes = (args[0] ?? '100,1024,2560').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'quantkit-large-bench-'));
  const scenarios = [
    ['plain copy (baseline)', 'copy'],
    ['eager read + write', 'eager'],
    ['quantkit weight-only int8', 'quantize'],
  ];
  try {
    console.log(
      '\nWeight-only INT8 of models in external data (MatMul chain of 2048x2048 fp32 weights), fresh process per row\n',
    );
    console.log(
      '| model | scenario | time (s) | peak RSS (MB) | peak RSS / model size | output / model size |',
    );
    console.log('|---|---|---:|---:|---:|---:|');
    for (const mebibytes of sizes) {
      const model = join(dir, `model-${mebibytes}.onnx`);
      const layers = await buildModel(model, mebibytes);
      const size = filesSize(model);
      for (const [label, kind] of scenarios) {
        const output = join(dir, `out-${kind}.onnx`);
        const run = JSON.parse(
          execFileSync(process.execPath, [self, 'run', kind, model, output], { encoding: 'utf8' }),
        );
        console.log(
          `| ${(size / 2 ** 20).toFixed(0)} MiB (${layers} layers) | ${label} | ${run.seconds.toFixed(1)} | ` +
            `${(run.peakRss / 2 ** 20).toFixed(0)} | ${(run.peakRss / size).toFixed(2)} | ${(run.outputBytes / size).toFixed(3)} |`,
        );
        rmSync(output, { force: true });
        rmSync(`${output}.data`, { force: true });
      }
      rmSync(model, { force: true });
      rmSync(`${model}.data`, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
