import { QuantError, type Tensor } from '@quantkit/core';
import {
  type CreateModelOptions,
  Graph,
  type Model,
  createModel,
  createNode,
  decodeModel,
  encodeModel,
  foldBatchNorm,
} from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertToFloat16 } from './convert-to-float16.js';
import { DEFAULT_FLOAT16_BLOCK_LIST } from './float16-op-rules.js';
import { fromFloat16Bits, toFloat16Bits } from './to-float16-bits.js';
import { feed, floatTensor, runOrt, sqnr } from './test-helpers.js';

const int64 = (values: number[]): Tensor<'int64'> => ({
  dtype: 'int64',
  shape: [values.length],
  data: BigInt64Array.from(values, BigInt),
});

/** Runs the float32 model and its conversion on the same float32 input; returns the SQNR of every output. */
async function compare(model: Model, converted: Model, inputs: Record<string, Tensor<'float32'>>) {
  const feeds = Object.fromEntries(Object.entries(inputs).map(([name, tensor]) => [name, feed(tensor)]));
  const reference = await runOrt(model, feeds);
  const result = await runOrt(converted, feeds);
  const sqnrs: Record<string, number> = {};
  for (const [name, value] of Object.entries(reference)) {
    expect(result[name]!.type).toBe(value.type);
    expect(result[name]!.dims).toEqual(value.dims);
    sqnrs[name] = sqnr(value.data, result[name]!.data);
  }
  return sqnrs;
}

const sizeRatio = (model: Model, converted: Model): number =>
  encodeModel(converted).length / encodeModel(model).length;

const opTypes = (model: Model): string[] => model.graph.nodes.map((node) => node.opType);

function cnnModel(): Model {
  const bn = (channels: number, seed: number) => ({
    bn_scale: floatTensor([channels], seed, 0.5, 1),
    bn_bias: floatTensor([channels], seed + 1, 0.1),
    bn_mean: floatTensor([channels], seed + 2, 0.1),
    bn_var: floatTensor([channels], seed + 3, 0.2, 1),
  });
  const model = createModel({
    opset: 17,
    inputs: [['x', 'float32', [2, 8, 12, 12]]],
    outputs: [['y', 'float32', [2, 64]]],
    initializers: {
      w1: floatTensor([32, 8, 3, 3], 1, 0.2),
      w2: floatTensor([64, 32, 3, 3], 2, 0.08),
      b2: floatTensor([64], 3, 0.1),
      fc_w: floatTensor([64, 64], 4, 0.15),
      fc_b: floatTensor([64], 5, 0.1),
      ...bn(32, 10),
    },
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w1'], outputs: ['c1'], attributes: { pads: [1, 1, 1, 1] } },
      {
        opType: 'BatchNormalization',
        inputs: ['c1', 'bn_scale', 'bn_bias', 'bn_mean', 'bn_var'],
        outputs: ['n1'],
      },
      { opType: 'Relu', inputs: ['n1'], outputs: ['r1'] },
      { opType: 'Conv', inputs: ['r1', 'w2', 'b2'], outputs: ['c2'], attributes: { strides: [2, 2] } },
      { opType: 'Relu', inputs: ['c2'], outputs: ['r2'] },
      { opType: 'GlobalAveragePool', inputs: ['r2'], outputs: ['g'] },
      { opType: 'Flatten', inputs: ['g'], outputs: ['f'] },
      { opType: 'Gemm', inputs: ['f', 'fc_w', 'fc_b'], outputs: ['y'], attributes: { transB: 1 } },
    ],
  });
  expect(foldBatchNorm(model.graph)).toBe(1);
  return model;
}

function mlpModel(opset = 17): Model {
  return createModel({
    opset,
    inputs: [['x', 'float32', [8, 128]]],
    outputs: [['y', 'float32', [8, 16]]],
    initializers: {
      w1: floatTensor([128, 256], 11, 0.1),
      b1: floatTensor([256], 12, 0.1),
      w2: floatTensor([256, 256], 13, 0.07),
      b2: floatTensor([256], 14, 0.1),
      w3: floatTensor([256, 16], 15, 0.07),
      b3: floatTensor([16], 16, 0.1),
    },
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['m1'] },
      { opType: 'Add', inputs: ['m1', 'b1'], outputs: ['a1'] },
      { opType: 'Relu', inputs: ['a1'], outputs: ['r1'] },
      { opType: 'MatMul', inputs: ['r1', 'w2'], outputs: ['m2'] },
      { opType: 'Add', inputs: ['m2', 'b2'], outputs: ['a2'] },
      { opType: 'Relu', inputs: ['a2'], outputs: ['r2'] },
      { opType: 'MatMul', inputs: ['r2', 'w3'], outputs: ['m3'] },
      { opType: 'Add', inputs: ['m3', 'b3'], outputs: ['y'] },
    ],
  });
}

/** One self-attention block: 4 heads of 16 over 16 tokens, softmax(QK^T / 4) V, output projection, residual. */
function attentionModel(): Model {
  const heads = [1, 16, 4, 16];
  const project = (name: string) => [
    { opType: 'MatMul', inputs: ['x', `w${name}`], outputs: [`${name}_m`] },
    { opType: 'Reshape', inputs: [`${name}_m`, 'heads'], outputs: [`${name}_r`] },
  ];
  return createModel({
    opset: 17,
    inputs: [['x', 'float32', [1, 16, 64]]],
    outputs: [['y', 'float32', [1, 16, 64]]],
    initializers: {
      wq: floatTensor([64, 64], 21, 0.2),
      wk: floatTensor([64, 64], 22, 0.2),
      wv: floatTensor([64, 64], 23, 0.2),
      wo: floatTensor([64, 64], 24, 0.2),
      bo: floatTensor([64], 25, 0.1),
      heads: int64(heads),
      merged: int64([1, 16, 64]),
      inv_sqrt_d: { dtype: 'float32', shape: [], data: Float32Array.of(0.25) },
    },
    nodes: [
      ...project('q'),
      ...project('k'),
      ...project('v'),
      { opType: 'Transpose', inputs: ['q_r'], outputs: ['q_t'], attributes: { perm: [0, 2, 1, 3] } },
      { opType: 'Transpose', inputs: ['k_r'], outputs: ['k_t'], attributes: { perm: [0, 2, 3, 1] } },
      { opType: 'Transpose', inputs: ['v_r'], outputs: ['v_t'], attributes: { perm: [0, 2, 1, 3] } },
      { opType: 'MatMul', inputs: ['q_t', 'k_t'], outputs: ['scores'] },
      { opType: 'Mul', inputs: ['scores', 'inv_sqrt_d'], outputs: ['scaled'] },
      {
        opType: 'Softmax',
        name: 'attention_softmax',
        inputs: ['scaled'],
        outputs: ['probs'],
        attributes: { axis: -1 },
      },
      { opType: 'MatMul', inputs: ['probs', 'v_t'], outputs: ['context'] },
      {
        opType: 'Transpose',
        inputs: ['context'],
        outputs: ['context_t'],
        attributes: { perm: [0, 2, 1, 3] },
      },
      { opType: 'Reshape', inputs: ['context_t', 'merged'], outputs: ['context_m'] },
      { opType: 'MatMul', inputs: ['context_m', 'wo'], outputs: ['projected'] },
      { opType: 'Add', inputs: ['projected', 'bo'], outputs: ['biased'] },
      { opType: 'Add', inputs: ['biased', 'x'], outputs: ['y'] },
    ],
  });
}

/**
 * Int64 shape arithmetic (Shape -> Gather -> Concat -> Reshape), a Resize driven by computed sizes and one driven
 * by constant float32 scales.
 */
function shapeResizeModel(): Model {
  return createModel({
    opset: 18,
    inputs: [['x', 'float32', [1, 4, 6, 6]]],
    outputs: [
      ['up', 'float32', [1, 8, 12, 12]],
      ['flat', 'float32', [1, 8, 36]],
      ['scaled', 'float32', [1, 8, 9, 9]],
    ],
    initializers: {
      w: floatTensor([8, 4, 3, 3], 31, 0.3),
      b: floatTensor([8], 32, 0.1),
      batch_channels: int64([0, 1]),
      doubled_hw: int64([12, 12]),
      minus_one: int64([-1]),
      scales: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 1.5, 1.5) },
    },
    nodes: [
      { opType: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['c'], attributes: { pads: [1, 1, 1, 1] } },
      { opType: 'Shape', inputs: ['c'], outputs: ['c_shape'] },
      { opType: 'Gather', inputs: ['c_shape', 'batch_channels'], outputs: ['nc'], attributes: { axis: 0 } },
      { opType: 'Concat', inputs: ['nc', 'doubled_hw'], outputs: ['sizes'], attributes: { axis: 0 } },
      { opType: 'Resize', inputs: ['c', '', '', 'sizes'], outputs: ['up'], attributes: { mode: 'linear' } },
      { opType: 'Concat', inputs: ['nc', 'minus_one'], outputs: ['flat_shape'], attributes: { axis: 0 } },
      { opType: 'Reshape', inputs: ['c', 'flat_shape'], outputs: ['flat'] },
      { opType: 'Resize', inputs: ['c', '', 'scales'], outputs: ['scaled'], attributes: { mode: 'nearest' } },
    ],
  });
}

describe('convertToFloat16 (float16)', () => {
  it('converts a CNN (Conv with folded BatchNorm, Relu, GlobalAveragePool, Gemm): >= 60 dB, half the size', async () => {
    const model = cnnModel();
    const half = convertToFloat16(model);
    for (const [name, tensor] of half.graph.initializers)
      expect([name, tensor.dtype]).toEqual([name, 'float16']);
    // float32 in and out, one Cast at each end.
    expect(half.graph.inputs[0]!.dtype).toBe('float32');
    expect(half.graph.outputs[0]!.dtype).toBe('float32');
    expect(opTypes(half).filter((op) => op === 'Cast')).toHaveLength(2);
    const { y } = await compare(model, half, { x: floatTensor([2, 8, 12, 12], 6) });
    expect(y).toBeGreaterThanOrEqual(60);
    expect(sizeRatio(model, half)).toBeLessThan(0.55);
  });

  it('converts an MLP: >= 60 dB, half the size, the input model untouched', async () => {
    const model = mlpModel();
    const before = encodeModel(model);
    const half = convertToFloat16(model);
    // Byte comparison through Buffer: a deep toEqual over ~300 KB takes a second.
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(before))).toBe(true);
    const { y } = await compare(model, half, { x: floatTensor([8, 128], 7) });
    expect(y).toBeGreaterThanOrEqual(60);
    expect(sizeRatio(model, half)).toBeLessThan(0.55);
  });

  it('converts an attention block (MatMul, Add, Softmax, Transpose, Reshape): >= 60 dB', async () => {
    const model = attentionModel();
    const half = convertToFloat16(model);
    expect(half.graph.initializers.get('heads')!.dtype).toBe('int64');
    expect(half.graph.initializers.get('inv_sqrt_d')!.dtype).toBe('float16');
    const { y } = await compare(model, half, { x: floatTensor([1, 16, 64], 8) });
    expect(y).toBeGreaterThanOrEqual(60);
  });

  it('keeps Resize scales float32 and int64 shape arithmetic intact: >= 60 dB', async () => {
    const model = shapeResizeModel();
    const half = convertToFloat16(model);
    expect(half.graph.initializers.get('scales')!.dtype).toBe('float32');
    expect(half.graph.initializers.get('w')!.dtype).toBe('float16');
    // Only the Cast in front of the Conv and the three behind the outputs.
    expect(opTypes(half).filter((op) => op === 'Cast')).toHaveLength(4);
    const sqnrs = await compare(model, half, { x: floatTensor([1, 4, 6, 6], 9) });
    for (const value of Object.values(sqnrs)) expect(value).toBeGreaterThanOrEqual(60);
  });

  it('keeps size arithmetic done in float exact (float16 would round 2049 to 2048)', async () => {
    const model = createModel({
      opset: 17,
      inputs: [['x', 'float32', [1, 2048]]],
      outputs: [
        ['size', 'int64', [2]],
        ['y', 'float32', [1, 2048]],
      ],
      initializers: { one: { dtype: 'float32', shape: [], data: Float32Array.of(1) } },
      nodes: [
        { opType: 'Shape', inputs: ['x'], outputs: ['shape'] },
        { opType: 'Cast', inputs: ['shape'], outputs: ['shape_f'], attributes: { to: 1 } },
        { opType: 'Add', inputs: ['shape_f', 'one'], outputs: ['grown'] },
        { opType: 'Cast', inputs: ['grown'], outputs: ['size'], attributes: { to: 7 } },
        { opType: 'Add', inputs: ['x', 'one'], outputs: ['y'] },
      ],
    });
    const half = convertToFloat16(model);
    // "one" feeds float16 data arithmetic and float32 size arithmetic, so it is stored both ways.
    expect(half.graph.initializers.get('one')!.dtype).toBe('float32');
    expect([...half.graph.initializers.values()].map((t) => t.dtype).sort()).toEqual(['float16', 'float32']);
    const out = await runOrt(half, { x: feed(floatTensor([1, 2048], 1)) });
    expect(Array.from(out.size!.data, Number)).toEqual([2, 2049]);
  });

  it('feeds and returns float16 with keepIoTypes false', async () => {
    const model = mlpModel();
    const half = convertToFloat16(model, { keepIoTypes: false });
    expect(half.graph.inputs[0]!.dtype).toBe('float16');
    expect(half.graph.outputs[0]!.dtype).toBe('float16');
    expect(opTypes(half)).not.toContain('Cast');
    const x = floatTensor([8, 128], 7);
    const reference = await runOrt(model, { x: feed(x) });
    const out = await runOrt(half, { x: new ort.Tensor('float16', toFloat16Bits(x.data), [8, 128]) });
    expect(out.y!.type).toBe('float16');
    const values = fromFloat16Bits(out.y!.data as Uint16Array);
    expect(sqnr(reference.y!.data, values)).toBeGreaterThanOrEqual(60);
  });

  it('keeps blocked op types and node names in float32, with Casts around them', async () => {
    const model = attentionModel();
    const byType = convertToFloat16(model, { blockList: ['Softmax'] });
    const byName = convertToFloat16(model, { nodeBlockList: ['attention_softmax'] });
    for (const half of [byType, byName]) {
      const softmax = half.graph.nodes.find((node) => node.opType === 'Softmax')!;
      const before = half.graph.producer(softmax.inputs[0]!)!;
      const after = half.graph.consumers(softmax.outputs[0]!);
      expect(before.opType).toBe('Cast');
      expect(before.attributes.get('to')).toEqual({ type: 'int', value: 1 });
      expect(after.map((node) => [node.opType, node.attributes.get('to')?.value])).toEqual([['Cast', 10]]);
      const { y } = await compare(model, half, { x: floatTensor([1, 16, 64], 8) });
      expect(y).toBeGreaterThanOrEqual(60);
    }
    expect(DEFAULT_FLOAT16_BLOCK_LIST).toContain('Range');
  });

  it('stores a weight read by float16 and blocked float32 nodes twice, the float32 one exact', async () => {
    const w = floatTensor([16, 16], 3);
    const model = createModel({
      opset: 17,
      inputs: [['x', 'float32', [4, 16]]],
      outputs: [['y', 'float32', [4, 16]]],
      initializers: { w },
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['a'] },
        { opType: 'MatMul', name: 'exact', inputs: ['a', 'w'], outputs: ['y'] },
      ],
    });
    const half = convertToFloat16(model, { nodeBlockList: ['exact'] });
    expect(half.graph.initializers.get('w')).toBe(w);
    expect(half.graph.initializers.get('w_fp16')!.dtype).toBe('float16');
    const { y } = await compare(model, half, { x: floatTensor([4, 16], 4) });
    expect(y).toBeGreaterThanOrEqual(60);
  });

  it('converts Constant, ConstantOfShape, Cast(to float) and declared value_info types', async () => {
    const model = createModel({
      opset: 17,
      inputs: [['x', 'float32', [2, 3]]],
      outputs: [['y', 'float32', [2, 3]]],
      initializers: { shape: int64([2, 3]) },
      valueInfo: [['sum', 'float32', [2, 3]]],
      nodes: [
        { opType: 'Constant', outputs: ['k'], attributes: { value_floats: [0.5, -1.25, 3] } },
        {
          opType: 'ConstantOfShape',
          inputs: ['shape'],
          outputs: ['fill'],
          attributes: { value: floatTensor([1], 1) },
        },
        { opType: 'ConstantOfShape', inputs: ['shape'], outputs: ['zeros'] },
        { opType: 'Cast', inputs: ['x'], outputs: ['x_copy'], attributes: { to: 1 } },
        { opType: 'Add', inputs: ['x_copy', 'k'], outputs: ['sum'] },
        { opType: 'Mul', inputs: ['sum', 'fill'], outputs: ['product'] },
        { opType: 'Add', inputs: ['product', 'zeros'], outputs: ['y'] },
      ],
    });
    const half = convertToFloat16(model);
    const node = (output: string) => half.graph.producer(output)!;
    const constant = node('k').attributes.get('value');
    expect(constant?.type === 'tensor' && constant.value.dtype).toBe('float16');
    for (const name of ['fill', 'zeros']) {
      const value = node(name).attributes.get('value');
      expect(value?.type === 'tensor' && value.value.dtype).toBe('float16');
    }
    expect(node('x_copy').attributes.get('to')).toEqual({ type: 'int', value: 10 });
    expect(half.graph.valueInfo.find((info) => info.name === 'sum')!.dtype).toBe('float16');
    // The file round trip keeps all of it.
    const { y } = await compare(model, decodeModel(encodeModel(half)), { x: floatTensor([2, 3], 2) });
    expect(y).toBeGreaterThanOrEqual(60);
  });

  // Found on the real-model corpus: Silero VAD computes everything inside If branches (one per sample rate) from
  // weights stored in the main graph, and fp16 left the file at 1.00x its size.
  it('converts If branches too: weights only branches read are stored in fp16, the If keeps float32 outputs', async () => {
    const branch = (name: string, op: string, extra: object[] = []) =>
      new Graph({
        name,
        nodes: [
          createNode({ opType: 'MatMul', inputs: ['h', 'wb'], outputs: [`${name}_mm`] }),
          createNode({ opType: op, inputs: [`${name}_mm`, 'h'], outputs: [`${name}_op`] }),
          ...extra.map((node) => createNode(node as never)),
        ],
        outputs: [
          { name: extra.length > 0 ? `${name}_last` : `${name}_op`, dtype: 'float32', shape: [4, 8] },
        ],
      });
    const model = createModel({
      opset: 17,
      inputs: [
        ['x', 'float32', [4, 8]],
        ['flag', 'bool', []],
      ],
      outputs: [
        ['y', 'float32', [4, 8]],
        ['passed', 'float32', [4, 8]],
      ],
      initializers: {
        w: floatTensor([8, 8], 5),
        wb: floatTensor([8, 8], 7),
        e: { dtype: 'float32', shape: [], data: Float32Array.of(2) },
      },
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['h'] },
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['chosen'],
          attributes: {
            then_branch: branch('then', 'Add'),
            // Pow stays float32 (no fp16 kernel): it reads the fp16 'then'-side values through Casts.
            else_branch: branch('else', 'Mul', [
              { opType: 'Pow', inputs: ['else_op', 'e'], outputs: ['else_last'] },
            ]),
          },
        },
        // Branches handing on outer values: the If output stays float32 though h is now fp16.
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['passed'],
          attributes: {
            then_branch: new Graph({
              name: 'pass_then',
              nodes: [createNode({ opType: 'Identity', inputs: ['h'], outputs: ['h_id'] })],
              outputs: [{ name: 'h_id', dtype: 'float32', shape: [4, 8] }],
            }),
            else_branch: new Graph({
              name: 'pass_else',
              nodes: [createNode({ opType: 'Identity', inputs: ['x'], outputs: ['x_id'] })],
              outputs: [{ name: 'x_id', dtype: 'float32', shape: [4, 8] }],
            }),
          },
        },
        { opType: 'Relu', inputs: ['chosen'], outputs: ['y'] },
      ],
    });
    const half = convertToFloat16(model);
    expect(half.graph.initializers.get('w')!.dtype).toBe('float16');
    expect(half.graph.initializers.get('wb')!.dtype).toBe('float16');
    expect(model.graph.initializers.get('wb')!.dtype).toBe('float32');
    const branches = half.graph.nodes
      .filter((node) => node.opType === 'If')
      .flatMap((node) =>
        [...node.attributes.values()].map((a) => (a.type === 'graph' ? a.value : undefined)),
      );
    const [thenGraph, elseGraph] = branches;
    // Converted body nodes read the fp16 outer values directly; the branch ends in a Cast back to float32.
    expect(thenGraph!.nodes[0]!.inputs).toEqual(['h', 'wb']);
    expect(thenGraph!.producer(thenGraph!.outputs[0]!.name)!.opType).toBe('Cast');
    expect(
      elseGraph!.nodes.find((node) => node.opType === 'Pow')!.inputs.every((name) => !name.includes('fp16')),
    ).toBe(true);
    for (const flag of [true, false]) {
      const feeds = { x: feed(floatTensor([4, 8], 6)), flag: new ort.Tensor('bool', [flag], []) };
      const reference = await runOrt(model, feeds);
      const out = await runOrt(half, feeds);
      expect(sqnr(reference.y!.data, out.y!.data)).toBeGreaterThanOrEqual(60);
      expect(sqnr(reference.passed!.data, out.passed!.data)).toBeGreaterThanOrEqual(60);
    }
  });

  it('converts Loop bodies, keeping the carried values float32', async () => {
    const body = new Graph({
      name: 'body',
      inputs: [
        { name: 'i', dtype: 'int64', shape: [] },
        { name: 'c', dtype: 'bool', shape: [] },
        { name: 'acc', dtype: 'float32', shape: [4, 8] },
      ],
      nodes: [
        createNode({ opType: 'MatMul', inputs: ['acc', 'w'], outputs: ['step'] }),
        createNode({ opType: 'Tanh', inputs: ['step'], outputs: ['next'] }),
        createNode({ opType: 'Identity', inputs: ['c'], outputs: ['c_out'] }),
      ],
      outputs: [
        { name: 'c_out', dtype: 'bool', shape: [] },
        { name: 'next', dtype: 'float32', shape: [4, 8] },
      ],
    });
    const model = createModel({
      opset: 17,
      inputs: [['x', 'float32', [4, 8]]],
      outputs: [['y', 'float32', [4, 8]]],
      initializers: {
        w: floatTensor([8, 8], 9),
        trips: { dtype: 'int64', shape: [], data: BigInt64Array.of(3n) },
        go: { dtype: 'bool', shape: [], data: Uint8Array.of(1) },
      },
      nodes: [{ opType: 'Loop', inputs: ['trips', 'go', 'x'], outputs: ['y'], attributes: { body } }],
    });
    const half = convertToFloat16(model);
    expect(half.graph.initializers.get('w')!.dtype).toBe('float16');
    const feeds = { x: feed(floatTensor([4, 8], 6)) };
    const reference = await runOrt(model, feeds);
    const out = await runOrt(half, feeds);
    expect(sqnr(reference.y!.data, out.y!.data)).toBeGreaterThanOrEqual(60);
  });

  it('stores bfloat16 weights that only If branches read', () => {
    const model = createModel({
      opset: 17,
      inputs: [
        ['x', 'float32', [4, 8]],
        ['flag', 'bool', []],
      ],
      outputs: [['y', 'float32', [4, 8]]],
      initializers: { wb: floatTensor([8, 8], 7) },
      nodes: [
        {
          opType: 'If',
          inputs: ['flag'],
          outputs: ['y'],
          attributes: {
            then_branch: new Graph({
              name: 't',
              nodes: [createNode({ opType: 'MatMul', inputs: ['x', 'wb'], outputs: ['t_y'] })],
              outputs: [{ name: 't_y', dtype: 'float32', shape: [4, 8] }],
            }),
            else_branch: new Graph({
              name: 'e',
              nodes: [createNode({ opType: 'Relu', inputs: ['x'], outputs: ['e_y'] })],
              outputs: [{ name: 'e_y', dtype: 'float32', shape: [4, 8] }],
            }),
          },
        },
      ],
    });
    const stored = convertToFloat16(model, { dtype: 'bfloat16' });
    expect([...stored.graph.initializers.values()].map((t) => t.dtype)).toEqual(['bfloat16']);
  });

  it('saturates weights beyond the float16 range instead of making them infinite', () => {
    const model = createModel({
      opset: 17,
      inputs: [['x', 'float32', [2]]],
      outputs: [['y', 'float32', [2]]],
      initializers: { big: { dtype: 'float32', shape: [2], data: Float32Array.of(1e6, -1e6) } },
      nodes: [{ opType: 'Mul', inputs: ['x', 'big'], outputs: ['y'] }],
    });
    const big = convertToFloat16(model).graph.initializers.get('big')!;
    expect(Array.from(fromFloat16Bits(big.data as Uint16Array))).toEqual([65504, -65504]);
  });

  it('rejects an unknown dtype and malformed lists', () => {
    const model = mlpModel();
    const call = (options: object) => () => convertToFloat16(model, options as never);
    for (const options of [{ dtype: 'float8' }, { blockList: 'Softmax' }, { nodeBlockList: [1] }]) {
      expect(call(options)).toThrow(QuantError);
      try {
        call(options)();
      } catch (error) {
        expect(QuantError.is(error, 'INVALID_ARGUMENT')).toBe(true);
      }
    }
  });
});

describe('convertToFloat16 (bfloat16 weight storage)', () => {
  it('stores MLP weights as bfloat16 behind Casts: runs at >= 40 dB, half the size, ops unchanged', async () => {
    const model = mlpModel();
    const storage = convertToFloat16(model, { dtype: 'bfloat16' });
    expect([...storage.graph.initializers.values()].every((t) => t.dtype === 'bfloat16')).toBe(true);
    expect(opTypes(storage).filter((op) => op !== 'Cast')).toEqual(opTypes(model));
    expect(opTypes(storage).filter((op) => op === 'Cast')).toHaveLength(model.graph.initializers.size);
    expect(storage.graph.inputs).toEqual(model.graph.inputs);
    const { y } = await compare(model, storage, { x: floatTensor([8, 128], 7) });
    expect(y).toBeGreaterThanOrEqual(40);
    expect(sizeRatio(model, storage)).toBeLessThan(0.55);
  });

  it('keeps the weights of blocked nodes float32', () => {
    const storage = convertToFloat16(mlpModel(), { dtype: 'bfloat16', nodeBlockList: ['MatMul_0'] });
    expect(storage.graph.initializers.get('w1')!.dtype).toBe('float32');
    expect(storage.graph.initializers.get('w2_bf16')!.dtype).toBe('bfloat16');
  });

  it('needs opset 13', () => {
    const options: CreateModelOptions = {
      opset: 12,
      inputs: [['x', 'float32', [2]]],
      outputs: [['y', 'float32', [2]]],
      initializers: { k: floatTensor([2], 1) },
      nodes: [{ opType: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
    };
    expect(() => convertToFloat16(createModel(options), { dtype: 'bfloat16' })).toThrow(/opset 13.*opset 12/);
  });
});

/**
 * 4-bit symmetric block quantization of a [K, N] MatMul weight in the com.microsoft MatMulNBits layout: per column
 * n and block b, codes q = round(w / scale) + 8 in 0..15 packed two per byte (low nibble first), scale =
 * max|w| / 7, zero point left at its default 8.
 */
function matMulNBitsWeight(weight: Tensor<'float32'>, blockSize: number) {
  const [k, n] = weight.shape as [number, number];
  const blocks = Math.ceil(k / blockSize);
  const packed = new Uint8Array(n * blocks * (blockSize / 2));
  const scales = new Float32Array(n * blocks);
  for (let column = 0; column < n; column++) {
    for (let block = 0; block < blocks; block++) {
      let max = 0;
      for (let i = block * blockSize; i < Math.min(k, (block + 1) * blockSize); i++) {
        max = Math.max(max, Math.abs(weight.data[i * n + column]!));
      }
      const scale = max / 7 || 1;
      scales[column * blocks + block] = scale;
      for (let j = 0; j < blockSize; j++) {
        const row = block * blockSize + j;
        const value = row < k ? weight.data[row * n + column]! : 0;
        const code = Math.min(15, Math.max(0, Math.round(value / scale) + 8));
        const byte = (column * blocks + block) * (blockSize / 2) + (j >> 1);
        packed[byte]! |= j % 2 === 0 ? code : code << 4;
      }
    }
  }
  return {
    packed: { dtype: 'uint8', shape: [n, blocks, blockSize / 2], data: packed } as Tensor<'uint8'>,
    scales: { dtype: 'float32', shape: [n * blocks], data: scales } as Tensor<'float32'>,
  };
}

describe('convertToFloat16 with 4-bit MatMul weights (q4f16)', () => {
  it('runs MatMulNBits in float16 with float16 scales, the rest in float16 too', async () => {
    const w1 = floatTensor([64, 128], 41, 0.1);
    const w2 = floatTensor([128, 32], 42, 0.1);
    const float = createModel({
      opset: 17,
      inputs: [['x', 'float32', [4, 64]]],
      outputs: [['y', 'float32', [4, 32]]],
      initializers: { w1, w2, b1: floatTensor([128], 43, 0.1) },
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['m1'] },
        { opType: 'Add', inputs: ['m1', 'b1'], outputs: ['a1'] },
        { opType: 'Relu', inputs: ['a1'], outputs: ['r1'] },
        { opType: 'MatMul', inputs: ['r1', 'w2'], outputs: ['y'] },
      ],
    });
    const q1 = matMulNBitsWeight(w1, 32);
    const q2 = matMulNBitsWeight(w2, 32);
    const nbits = (input: string, weight: string, output: string, k: number, n: number) => ({
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      inputs: [input, `${weight}_q4`, `${weight}_scales`],
      outputs: [output],
      attributes: { K: k, N: n, bits: 4, block_size: 32 },
    });
    const q4 = createModel({
      opset: 17,
      extraOpsets: [{ domain: 'com.microsoft', version: 1 }],
      inputs: [['x', 'float32', [4, 64]]],
      outputs: [['y', 'float32', [4, 32]]],
      initializers: {
        w1_q4: q1.packed,
        w1_scales: q1.scales,
        w2_q4: q2.packed,
        w2_scales: q2.scales,
        b1: floatTensor([128], 43, 0.1),
      },
      nodes: [
        nbits('x', 'w1', 'm1', 64, 128),
        { opType: 'Add', inputs: ['m1', 'b1'], outputs: ['a1'] },
        { opType: 'Relu', inputs: ['a1'], outputs: ['r1'] },
        nbits('r1', 'w2', 'y', 128, 32),
      ],
    });
    const q4f16 = convertToFloat16(q4);
    expect(q4f16.graph.initializers.get('w1_scales')!.dtype).toBe('float16');
    expect(q4f16.graph.initializers.get('w1_q4')!.dtype).toBe('uint8');
    expect(opTypes(q4f16).filter((op) => op === 'Cast')).toHaveLength(2);
    const x = { x: floatTensor([4, 64], 44) };
    // float16 adds little to the 4-bit error: the q4f16 output tracks the q4 one closely, and its distance to the
    // float32 model is the 4-bit error (two layers of 15-level weights, ~23 dB each by the uniform-noise estimate).
    expect((await compare(q4, q4f16, x)).y).toBeGreaterThanOrEqual(50);
    const q4Error = (await compare(float, q4, x)).y!;
    expect(q4Error).toBeGreaterThan(15);
    expect((await compare(float, q4f16, x)).y).toBeGreaterThan(q4Error - 0.5);
  });
});
