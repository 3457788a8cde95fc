// Writes docs/methods.md: for each weight quantization method (binary, log-4, log-8, ternary, int8) and each test
// model (a CNN, an MLP, an attention block), the size of the quantized weights against fp32 and the output SQNR of
// the stock-ONNX model run in onnxruntime-node against the fp32 model on the same seeded inputs.
//
// Run after `pnpm build` (it imports the built packages from their dist folders): `pnpm methods:table`.
// Quantizer packages that are not built yet are shown as "not built" rather than failing the run.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outputPath = join(root, 'docs/methods.md');
const SAMPLES = 16;

async function importBuilt(path) {
  const file = join(root, path);
  if (!existsSync(file)) return undefined;
  return import(pathToFileURL(file).href);
}

async function importRequired(path) {
  const module = await importBuilt(path);
  if (module === undefined) throw new Error(`${path} is missing: run \`pnpm build\` first`);
  return module;
}

const core = await importRequired('packages/core/dist/index.js');
const onnx = await importRequired('packages/onnx/dist/index.js');
const quantize = await importRequired('packages/quantize/dist/index.js');
const executorOrt = await importRequired('packages/executor-ort/dist/index.js');

/** The quantizer plugin named `name` among a module's exports, or undefined. */
function quantizerIn(module, name) {
  if (module === undefined) return undefined;
  return Object.values(module).find((value) => value?.kind === 'quantizer' && value.name === name);
}

// ---------------------------------------------------------------------------------------------------------------
// Test models: small, seeded, shaped like the layers real models have.

/** A seeded stream in [0, 1) (splitmix32-style integer hash of a counter), the same on every run. */
function seededRandom(seed) {
  let counter = seed >>> 0;
  return () => {
    counter = (counter + 0x9e3779b9) >>> 0;
    let z = counter;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 2 ** 32;
  };
}

const sizeOf = (shape) => shape.reduce((a, b) => a * b, 1);

/** Roughly normal values with standard deviation `std` (a sum of four uniforms), like trained weights. */
function normal(shape, random, std) {
  const data = Float32Array.from({ length: sizeOf(shape) }, () => (random() + random() + random() + random() - 2) * std * Math.sqrt(3));
  return core.createTensor('float32', shape, data);
}

function uniform(shape, random, scale = 1) {
  return core.createTensor('float32', shape, Float32Array.from({ length: sizeOf(shape) }, () => (random() * 2 - 1) * scale));
}

/** Conv -> Relu -> MaxPool -> Conv -> Relu -> Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm. */
function cnnModel() {
  const random = seededRandom(101);
  const model = onnx.createModel({
    opset: 13,
    inputs: [['image', 'float32', [1, 3, 16, 16]]],
    outputs: [['logits', 'float32', [1, 10]]],
    initializers: {
      w1: normal([16, 3, 3, 3], random, 0.25),
      b1: uniform([16], random, 0.1),
      w2: normal([32, 16, 3, 3], random, 0.1),
      b2: uniform([32], random, 0.1),
      w3: normal([32, 32, 3, 3], random, 0.07),
      b3: uniform([32], random, 0.1),
      w4: normal([10, 32], random, 0.3),
      b4: uniform([10], random, 0.1),
    },
    nodes: [
      { opType: 'Conv', inputs: ['image', 'w1', 'b1'], outputs: ['c1'], attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { opType: 'Relu', inputs: ['c1'], outputs: ['r1'] },
      { opType: 'MaxPool', inputs: ['r1'], outputs: ['p1'], attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
      { opType: 'Conv', inputs: ['p1', 'w2', 'b2'], outputs: ['c2'], attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { opType: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { opType: 'Conv', inputs: ['r2', 'w3', 'b3'], outputs: ['c3'], attributes: { pads: [1, 1, 1, 1], kernel_shape: [3, 3] } },
      { opType: 'Relu', inputs: ['c3'], outputs: ['r3'] },
      { opType: 'GlobalAveragePool', inputs: ['r3'], outputs: ['gap'] },
      { opType: 'Flatten', inputs: ['gap'], outputs: ['flat'], attributes: { axis: 1 } },
      { opType: 'Gemm', inputs: ['flat', 'w4', 'b4'], outputs: ['logits'], attributes: { transB: 1 } },
    ],
  });
  return { name: 'CNN', description: '3 Conv + Gemm', model, sample: (r) => ({ image: uniform([1, 3, 16, 16], r) }) };
}

/** Gemm(transB) -> Relu -> Gemm(transB) -> Relu -> Gemm(transB): 64 -> 256 -> 256 -> 16. */
function mlpModel() {
  const random = seededRandom(202);
  const model = onnx.createModel({
    opset: 13,
    inputs: [['x', 'float32', ['batch', 64]]],
    outputs: [['y', 'float32', ['batch', 16]]],
    initializers: {
      w1: normal([256, 64], random, 0.15),
      b1: uniform([256], random, 0.1),
      w2: normal([256, 256], random, 0.07),
      b2: uniform([256], random, 0.1),
      w3: normal([16, 256], random, 0.1),
      b3: uniform([16], random, 0.1),
    },
    nodes: [
      { opType: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h1'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h1'], outputs: ['a1'] },
      { opType: 'Gemm', inputs: ['a1', 'w2', 'b2'], outputs: ['h2'], attributes: { transB: 1 } },
      { opType: 'Relu', inputs: ['h2'], outputs: ['a2'] },
      { opType: 'Gemm', inputs: ['a2', 'w3', 'b3'], outputs: ['y'], attributes: { transB: 1 } },
    ],
  });
  return { name: 'MLP', description: '3 Gemm', model, sample: (r) => ({ x: uniform([4, 64], r) }) };
}

/** Single-head self-attention: Q/K/V projections, scaled scores, Softmax, context, output projection, residual. */
function attentionModel() {
  const random = seededRandom(303);
  const dim = 64;
  const tokens = 16;
  const projection = () => normal([dim, dim], random, 1 / Math.sqrt(dim));
  const model = onnx.createModel({
    opset: 13,
    inputs: [['tokens', 'float32', [1, tokens, dim]]],
    outputs: [['out', 'float32', [1, tokens, dim]]],
    initializers: {
      wq: projection(),
      wk: projection(),
      wv: projection(),
      wo: projection(),
      bq: uniform([dim], random, 0.1),
      bo: uniform([dim], random, 0.1),
      inv_sqrt_d: core.createTensor('float32', [], Float32Array.of(1 / Math.sqrt(dim))),
    },
    nodes: [
      { opType: 'MatMul', inputs: ['tokens', 'wq'], outputs: ['q0'] },
      { opType: 'Add', inputs: ['q0', 'bq'], outputs: ['q'] },
      { opType: 'MatMul', inputs: ['tokens', 'wk'], outputs: ['k'] },
      { opType: 'MatMul', inputs: ['tokens', 'wv'], outputs: ['v'] },
      { opType: 'Transpose', inputs: ['k'], outputs: ['kt'], attributes: { perm: [0, 2, 1] } },
      { opType: 'MatMul', inputs: ['q', 'kt'], outputs: ['scores0'] },
      { opType: 'Mul', inputs: ['scores0', 'inv_sqrt_d'], outputs: ['scores'] },
      { opType: 'Softmax', inputs: ['scores'], outputs: ['attention'], attributes: { axis: -1 } },
      { opType: 'MatMul', inputs: ['attention', 'v'], outputs: ['context'] },
      { opType: 'MatMul', inputs: ['context', 'wo'], outputs: ['o0'] },
      { opType: 'Add', inputs: ['o0', 'bo'], outputs: ['o'] },
      { opType: 'Add', inputs: ['o', 'tokens'], outputs: ['out'] },
    ],
  });
  return {
    name: 'Attention',
    description: '4 MatMul projections 64x64, Softmax, residual',
    model,
    sample: (r) => ({ tokens: uniform([1, tokens, dim], r) }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Methods.

const binaryModule = await importBuilt('packages/quantizer-binary/dist/index.js');
const logModule = await importBuilt('packages/quantizer-log/dist/index.js');
const ternaryModule = await importBuilt('examples/plugin-ternary/dist/index.js');

const methods = [
  {
    label: 'binary',
    source: '@quantkit/quantizer-binary',
    plugin: quantizerIn(binaryModule, 'binary'),
    bits: 1,
    note: 'first and last weight layers kept in int8 (the quantizer asks for it)',
  },
  {
    label: 'binary, all layers',
    source: '@quantkit/quantizer-binary',
    plugin: quantizerIn(binaryModule, 'binary'),
    bits: 1,
    options: { keepHigherPrecision: false },
    note: 'every weight layer 1-bit (keepHigherPrecision: false)',
  },
  {
    label: 'log-4',
    source: '@quantkit/quantizer-log',
    plugin: quantizerIn(logModule, 'log'),
    bits: 4,
    note: 'levels +-2^e, one per octave below the channel maximum',
  },
  {
    label: 'log-8',
    source: '@quantkit/quantizer-log',
    plugin: quantizerIn(logModule, 'log'),
    bits: 8,
    note: 'the same levels as log-4 plus smaller ones, so it differs from log-4 only on the tiniest weights',
  },
  {
    label: 'ternary',
    source: 'examples/plugin-ternary',
    plugin: quantizerIn(ternaryModule, 'ternary'),
    bits: 2,
    note: 'TWN: threshold 0.7 x mean absolute weight, every weight layer ternary',
  },
  { label: 'int8', source: '@quantkit/quantizer-linear (built in)', builtin: 'linear', bits: 8, note: 'symmetric' },
];

// ---------------------------------------------------------------------------------------------------------------
// Measurements.

const executor = executorOrt.createOrtNodeExecutor();

function tensorBytes(tensor) {
  return Math.ceil((sizeOf(tensor.shape) * core.dtypeInfo(tensor.dtype).bits) / 8);
}

/**
 * Bytes of the weights a method replaced, before (fp32) and after: the input's initializers that are gone from the
 * output, against the output's new initializers plus the scales packed custom ops carry as attributes. `codes`
 * counts the new initializers that hold codes (read by DequantizeLinear as its input 0, by a Cast that widens
 * lookup indices, as Gather indices, or by an ai.quantkit op as packed bytes); `params` the rest (scales, zero
 * points, lookup tables). Biases and everything else left as it was count on neither side.
 */
function weightSizes(input, output) {
  let before = 0;
  for (const [name, tensor] of input.graph.initializers) if (!output.graph.initializers.has(name)) before += tensorBytes(tensor);
  const codeNames = new Set();
  for (const node of output.graph.nodes) {
    if (node.domain === 'ai.quantkit') for (const name of node.inputs) codeNames.add(name);
    else if (node.opType === 'DequantizeLinear' || node.opType === 'Cast') codeNames.add(node.inputs[0]);
    else if (node.opType === 'Gather') codeNames.add(node.inputs[1]);
  }
  let codes = 0;
  let params = 0;
  for (const [name, tensor] of output.graph.initializers) {
    if (input.graph.initializers.has(name)) continue;
    if (codeNames.has(name)) codes += tensorBytes(tensor);
    else params += tensorBytes(tensor);
  }
  for (const node of output.graph.nodes) {
    const scale = node.attributes.get('weight_scale');
    if (node.domain === 'ai.quantkit' && scale?.type === 'tensor') params += tensorBytes(scale.value);
  }
  return { before, codes, params };
}

async function outputs(bytes, feedsList) {
  const session = await executor.createSession(bytes, { threads: 1 });
  try {
    const results = [];
    for (const feeds of feedsList) results.push(await session.run(feeds));
    return results;
  } finally {
    await session.dispose();
  }
}

/** SQNR in dB over every output element of every sample: 10 log10(sum ref^2 / sum (ref - quantized)^2). */
function sqnr(reference, quantized) {
  let signal = 0;
  let noise = 0;
  reference.forEach((result, sample) => {
    for (const [name, tensor] of Object.entries(result)) {
      const other = quantized[sample][name].data;
      tensor.data.forEach((value, i) => {
        signal += value * value;
        noise += (value - other[i]) ** 2;
      });
    }
  });
  return noise === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / noise);
}

function firstLine(error) {
  return String(error?.message ?? error).split('\n')[0];
}

const models = [cnnModel(), mlpModel(), attentionModel()];
const cells = new Map();
const problems = [];

for (const test of models) {
  const floatBytes = onnx.encodeModel(test.model);
  const floatModel = onnx.decodeModel(floatBytes);
  const random = seededRandom(9000);
  const feedsList = Array.from({ length: SAMPLES }, () => test.sample(random));
  const reference = await outputs(floatBytes, feedsList);
  for (const method of methods) {
    const key = `${method.label}\u0000${test.name}`;
    if (method.builtin === undefined && method.plugin === undefined) {
      cells.set(key, { status: 'not built' });
      continue;
    }
    const registry = quantize.createDefaultRegistry(method.plugin === undefined ? [] : [method.plugin]);
    const quantizer = method.builtin ?? method.plugin.name;
    const base = { mode: 'weight-only', quantizer, bits: method.bits, registry, ...(method.options ?? {}) };
    try {
      const stock = await quantize.quantizeModel(floatBytes, base);
      const packing = method.plugin?.packing !== undefined;
      const sized = packing ? await quantize.quantizeModel(floatBytes, { ...base, format: 'packed' }) : stock;
      const { before, codes, params } = weightSizes(floatModel, onnx.decodeModel(sized.bytes));
      const quantized = await outputs(stock.bytes, feedsList);
      const keptInt8 = stock.plan.constants.filter((use) => use.override?.quantizer === 'linear').length;
      cells.set(key, {
        status: 'ok',
        codesRatio: codes / before,
        totalRatio: (codes + params) / before,
        sqnr: sqnr(reference, quantized),
        keptInt8,
      });
    } catch (error) {
      cells.set(key, { status: 'failed' });
      problems.push(`${method.label} on ${test.name}: ${firstLine(error)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The document.

/** Elements of the rank >= 2 initializers: the weight matrices and kernels. */
function weightCount(model) {
  let count = 0;
  for (const tensor of model.graph.initializers.values()) if (tensor.shape.length >= 2) count += sizeOf(tensor.shape);
  return count.toLocaleString('en-US');
}

function ratioCell(key) {
  return (cell) => {
    if (cell.status !== 'ok') return cell.status;
    const kept = cell.keptInt8 > 0 ? ` (${cell.keptInt8} int8)` : '';
    return `${cell[key].toFixed(4)} = 1/${(1 / cell[key]).toFixed(1)}${kept}`;
  };
}

function sqnrCell(cell) {
  if (cell.status !== 'ok') return cell.status;
  return Number.isFinite(cell.sqnr) ? cell.sqnr.toFixed(1) : 'exact';
}

function table(header, cellText) {
  const lines = [
    `| method | bits | ${models.map((m) => m.name).join(' | ')} |`,
    `|---|---|${models.map(() => '---:').join('|')}|`,
  ];
  for (const method of methods) {
    const row = models.map((test) => cellText(cells.get(`${method.label}\u0000${test.name}`)));
    lines.push(`| ${method.label} | ${method.bits} | ${row.join(' | ')} |`);
  }
  return [`### ${header}`, '', ...lines].join('\n');
}

const notBuilt = [...new Set(methods.filter((m) => m.builtin === undefined && m.plugin === undefined).map((m) => m.source))];
const sizeForms = methods.map((method) => {
  const form = method.builtin !== undefined
    ? 'stored bytes (int8 codes; float32 scales, int8 zero points)'
    : method.plugin === undefined
      ? 'not built'
      : method.plugin.packing !== undefined
        ? 'packed form (`--format packed`: packed codes; float32 scales)'
        : 'stored bytes (codes; scales, zero points, lookup tables)';
  return `| ${method.label} | ${method.source} | ${form} | ${method.note ?? ''} |`;
});

const document = `# Quantization methods compared

Generated by \`scripts/method-table.mjs\`; do not edit by hand. To regenerate:

\`\`\`sh
pnpm build && pnpm methods:table   # node scripts/method-table.mjs
\`\`\`

Each model is quantized weight-only (\`quantizeModel(bytes, { mode: 'weight-only', quantizer, bits, registry })\`,
per output channel) with each method. Weights are built from a fixed seed, and so are the ${SAMPLES} input samples per
model, so the numbers are the same on every run up to onnxruntime's float rounding.

- **Size ratio**: bytes of the quantized weights / bytes of the same weights in fp32 (lower is smaller), over the
  weights the method replaced (biases stay fp32 and are left out of both sides). Methods with a packed form are
  counted in it (1 bit per binary weight, 2 bits per ternary weight, log codes as packed); the others in the bytes
  the stock-ONNX model stores. The first table counts the codes alone, the second adds what dequantizes them
  (float32 scales per output channel, zero points, lookup tables), which weighs most in small layers.
  "(n int8)": n weight layers kept in int8, counted in their int8 form.
- **SQNR**: signal-to-quantization-noise ratio of the model outputs in dB, 10 log10(sum ref^2 / sum (ref - q)^2)
  over all samples, where ref is the fp32 model and q the stock-ONNX quantized model (DequantizeLinear or a Gather
  over a lookup table in front of the float ops), both run in onnxruntime-node. Higher is closer to fp32.

Models: ${models.map((m) => `${m.name} (${m.description}; ${weightCount(m.model)} weights)`).join('; ')}.

${table('Weight size ratio, codes only (quantized / fp32)', ratioCell('codesRatio'))}

${table('Weight size ratio, codes + scales, zero points and tables (quantized / fp32)', ratioCell('totalRatio'))}

${table('Output SQNR (dB) against fp32', sqnrCell)}

### How each method's size is counted

| method | from | size counted as | note |
|---|---|---|---|
${sizeForms.join('\n')}
${notBuilt.length > 0 ? `\nNot built when this table was generated: ${notBuilt.join(', ')}. Build it and run the script again to fill its rows.\n` : ''}${problems.length > 0 ? `\nFailures:\n\n${problems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;

mkdirSync(dirname(outputPath), { recursive: true });
writeFileSync(outputPath, document);
console.log(document);
console.log(`wrote ${relative(root, outputPath)}`);
