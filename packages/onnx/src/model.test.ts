import { readFileSync } from 'node:fs';
import { QuantError, type Tensor } from '@quantkit/core';
import { floatTensor, maxAbsDiff, openWakeWordModel, runOrt } from '@quantkit/test-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Graph } from './graph.js';
import {
  decodeModel,
  encodeModel,
  encodedSize,
  hasPagedTensors,
  type Model,
  opsetVersion,
  setOpsetVersion,
  validateModel,
} from './model.js';
import { createModel, createNode } from './model-builder.js';
import { pagedTensor } from './paged-tensor.js';
import { type ModelProto, onnxTypes } from './onnx-schema.js';

const f32 = (values: number[], shape = [values.length]): Tensor => ({
  dtype: 'float32',
  shape,
  data: Float32Array.from(values),
});

function expectInvalid(fn: () => unknown, text: string): void {
  try {
    fn();
  } catch (error) {
    expect(QuantError.is(error, 'INVALID_MODEL'), String(error)).toBe(true);
    expect((error as Error).message).toContain(text);
    return;
  }
  throw new Error('expected INVALID_MODEL');
}

/** A model exercising every attribute kind, subgraphs, metadata and value types. */
function kitchenSink(): Model {
  const body = new Graph({
    name: 'body',
    nodes: [createNode({ opType: 'Add', inputs: ['x', 'k'], outputs: ['t'], name: 'inner' })],
    outputs: [{ name: 't', dtype: 'float32' }],
    initializers: { k: f32([1]) },
  });
  const model = createModel({
    opset: 17,
    extraOpsets: [{ domain: 'test.custom', version: 1 }],
    inputs: [
      ['x', 'float32', ['batch', 3]],
      { name: 'seq', raw: { sequence_type: { elem_type: { tensor_type: { elem_type: 1 } } } } },
    ],
    outputs: [
      ['y', 'float32', ['batch', 3]],
      ['z', 'float32', undefined],
    ],
    initializers: {
      w: f32([1, 2, 3]),
      idx: { dtype: 'int64', shape: [2], data: BigInt64Array.of(-1n, 2n ** 62n) },
      q: { dtype: 'int4', shape: [3], data: Int8Array.of(-8, 0, 7) },
    },
    nodes: [
      { opType: 'Mul', inputs: ['x', 'w'], outputs: ['y'] },
      {
        opType: 'Everything',
        domain: 'test.custom',
        inputs: ['y', '', 'idx', 'q'],
        outputs: ['z'],
        attributes: {
          f: { type: 'float', value: 0.25 },
          i: 2 ** 63, // INT64_MAX as decoded
          neg: -(2 ** 63),
          s: 'héllo ✓',
          t: f32([5, 6], [1, 2]),
          g: body,
          fs: [0.5, 1.5],
          is: [1, -2, 3],
          ss: ['a', ''],
          ts: [f32([1]), { dtype: 'uint8', shape: [2], data: Uint8Array.of(0, 255) }],
          gs: [new Graph({ name: 'g0', outputs: [{ name: 'x' }] })],
          sparse: { type: 'raw', value: { name: 'sparse', type: 11, sparse_tensor: { dims: [4] } } },
        },
      },
    ],
  });
  model.metadata.set('quantkit.recipe', '{"bits":8}');
  model.metadata.set('author', 'me');
  model.docString = 'doc';
  model.producerVersion = '0.1.0';
  model.modelVersion = 3;
  return model;
}

describe('decodeModel / encodeModel', () => {
  it('round-trips every attribute kind and model field losslessly and deterministically', () => {
    const model = kitchenSink();
    const bytes = encodeModel(model);
    expect(encodeModel(model)).toEqual(bytes);
    const decoded = decodeModel(bytes, 'sink.onnx');
    expect(encodeModel(decoded)).toEqual(bytes);
    expect(decoded).toMatchObject({
      irVersion: 8,
      opsetImports: [
        { domain: '', version: 17 },
        { domain: 'test.custom', version: 1 },
      ],
      producerName: 'quantkit',
      producerVersion: '0.1.0',
      modelVersion: 3,
      docString: 'doc',
    });
    expect([...decoded.metadata]).toEqual([
      ['quantkit.recipe', '{"bits":8}'],
      ['author', 'me'],
    ]);
    const node = decoded.graph.nodes[1]!;
    expect(node.inputs).toEqual(['y', '', 'idx', 'q']);
    const attrs = node.attributes;
    expect(attrs.get('f')).toEqual({ type: 'float', value: 0.25 });
    expect(attrs.get('i')).toEqual({ type: 'int', value: 2 ** 63 });
    expect(attrs.get('neg')).toEqual({ type: 'int', value: -(2 ** 63) });
    expect(attrs.get('s')).toEqual({ type: 'string', value: 'héllo ✓' });
    expect(attrs.get('t')).toEqual({ type: 'tensor', value: f32([5, 6], [1, 2]) });
    expect(attrs.get('fs')).toEqual({ type: 'floats', value: [0.5, 1.5] });
    expect(attrs.get('is')).toEqual({ type: 'ints', value: [1, -2, 3] });
    expect(attrs.get('ss')).toEqual({ type: 'strings', value: ['a', ''] });
    expect(attrs.get('ts')?.type).toBe('tensors');
    expect(attrs.get('sparse')?.type).toBe('raw');
    const g = attrs.get('g');
    expect(g?.type === 'graph' && g.value.nodes[0]!.name).toBe('inner');
    expect(g?.type === 'graph' && [...g.value.initializers.keys()]).toEqual(['k']);
    expect(decoded.graph.initializers.get('idx')?.data).toEqual(BigInt64Array.of(-1n, 2n ** 62n));
    expect(decoded.graph.initializers.get('q')?.data).toEqual(Int8Array.of(-8, 0, 7));
    expect(decoded.graph.inputs[0]).toMatchObject({ dtype: 'float32', shape: ['batch', 3] });
    expect(decoded.graph.inputs[1]).toMatchObject({ raw: { sequence_type: {} } });
    expect(decoded.graph.inputs[1]!.dtype).toBeUndefined();
    expect(decoded.graph.outputs[1]!.dtype).toBe('float32');
    expect(decoded.graph.outputs[1]!.shape).toBeUndefined();

    // INT64_MAX / INT64_MIN are written exactly, not wrapped around.
    const proto = onnxTypes.ModelProto.toObject(onnxTypes.ModelProto.decode(bytes), { longs: String }) as {
      graph: { node: { attribute: { name: string; i?: string }[] }[] };
    };
    const raw = proto.graph.node[1]!.attribute;
    expect(raw.find((a) => a.name === 'i')?.i).toBe('9223372036854775807');
    expect(raw.find((a) => a.name === 'neg')?.i).toBe('-9223372036854775808');
  });

  it('keeps functions and unknown value types unchanged', () => {
    const model = kitchenSink();
    const functionBytes = onnxTypes.FunctionProto.encode({
      name: 'MyFn',
      domain: 'test.custom',
      input: ['a'],
      output: ['b'],
      node: [{ input: ['a'], output: ['b'], op_type: 'Relu' }],
      opset_import: [{ domain: '', version: 17 }],
    }).finish();
    model.functions.push(onnxTypes.FunctionProto.decode(functionBytes));
    const decoded = decodeModel(encodeModel(model));
    expect(decoded.functions).toHaveLength(1);
    expect(onnxTypes.FunctionProto.encode(decoded.functions[0] as never).finish()).toEqual(functionBytes);
  });

  it('reads model-level opset versions', () => {
    const model = kitchenSink();
    expect(opsetVersion(model)).toBe(17);
    expect(opsetVersion(model, 'ai.onnx')).toBe(17);
    expect(opsetVersion(model, 'com.microsoft')).toBeUndefined();
    setOpsetVersion(model, 1, 'com.microsoft');
    setOpsetVersion(model, 19, 'ai.onnx');
    expect(opsetVersion(model, 'com.microsoft')).toBe(1);
    expect(opsetVersion(model)).toBe(19);
    expect(model.opsetImports).toHaveLength(3);
  });
});

describe('subgraphs in onnxruntime', () => {
  it('round-trips an If whose branches read outer-scope values', async () => {
    const branch = (op: string, name: string) =>
      new Graph({
        name,
        nodes: [createNode({ opType: op, inputs: ['x', 'w'], outputs: [`${name}_out`] })],
        outputs: [{ name: `${name}_out`, dtype: 'float32', shape: [2] }],
      });
    const model = createModel({
      opset: 13,
      inputs: [
        ['x', 'float32', [2]],
        ['cond', 'bool', []],
      ],
      outputs: [['y', 'float32', [2]]],
      initializers: { w: f32([10, 20]) },
      nodes: [
        {
          opType: 'If',
          inputs: ['cond'],
          outputs: ['y'],
          attributes: { then_branch: branch('Add', 'then'), else_branch: branch('Mul', 'else') },
        },
      ],
    });
    model.graph.inputs[0]!.metadataProps = [{ key: 'unit', value: 'volts' }];
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(decoded.graph.consumers('w')).toEqual([decoded.graph.nodes[0]]);
    expect(decoded.graph.inputs[0]!.metadataProps).toEqual([{ key: 'unit', value: 'volts' }]);
    const again = encodeModel(decoded);
    expect(again).toEqual(bytes);
    const x = f32([1, 2]);
    for (const [flag, expected] of [
      [1, [11, 22]],
      [0, [10, 40]],
    ] as const) {
      const cond = { dtype: 'bool', shape: [], data: Uint8Array.of(flag) } as const;
      const out = await runOrt(again, { x, cond });
      expect([...(out['y']!.data as Float32Array)]).toEqual(expected);
    }
  });
});

describe('validateModel', () => {
  const mlp = () =>
    createModel({
      inputs: [['x', 'float32', [1, 2]]],
      outputs: [['y', 'float32', [1, 2]]],
      initializers: { w: f32([1, 0, 0, 1], [2, 2]) },
      nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }],
    });

  it('accepts a consistent model', () => {
    expect(() => validateModel(mlp())).not.toThrow();
  });

  it('names the source and the problem', () => {
    const noOpset = mlp();
    noOpset.opsetImports = [];
    expectInvalid(() => validateModel(noOpset, 'a.onnx'), 'a.onnx');
    const dangling = mlp();
    dangling.graph.nodes[0]!.inputs[1] = 'missing';
    dangling.graph.invalidate();
    expectInvalid(() => validateModel(dangling, 'b.onnx'), '"missing"');
    const twice = mlp();
    twice.graph.addNode(createNode({ opType: 'Relu', inputs: ['x'], outputs: ['y'] }));
    expectInvalid(() => validateModel(twice), 'twice');
    const badOutput = mlp();
    badOutput.graph.outputs.push({ name: 'nowhere' });
    expectInvalid(() => validateModel(badOutput), 'nowhere');
    const badTensor = mlp();
    badTensor.graph.initializers.set('w', { dtype: 'float32', shape: [3], data: new Float32Array(2) });
    expectInvalid(() => validateModel(badTensor), '"w"');
    const cyclic = mlp();
    cyclic.graph.addNode(createNode({ opType: 'Relu', inputs: ['r2'], outputs: ['r1'] }));
    cyclic.graph.addNode(createNode({ opType: 'Relu', inputs: ['r1'], outputs: ['r2'] }));
    expectInvalid(() => validateModel(cyclic), 'cycle');
    const unimported = mlp();
    unimported.graph.nodes[0]!.domain = 'com.microsoft';
    expectInvalid(() => validateModel(unimported), '"com.microsoft"');
  });

  it('rejects raw_data that disagrees with dims when decoding', () => {
    const proto = onnxTypes.ModelProto.decode(encodeModel(mlp())) as unknown as ModelProto;
    proto.graph!.initializer![0]!.raw_data = new Uint8Array(12);
    const bytes = onnxTypes.ModelProto.encode(proto).finish();
    expectInvalid(() => decodeModel(bytes, 'mlp.onnx'), 'mlp.onnx');
  });
});

function checkDecodes(bytes: Uint8Array, source: string): 'valid' | 'invalid' {
  try {
    decodeModel(bytes, source);
    return 'valid';
  } catch (error) {
    if (!QuantError.is(error, 'INVALID_MODEL')) throw error;
    expect(error.message).toContain(source);
    return 'invalid';
  }
}

describe('corrupted input', () => {
  const bytes = encodeModel(kitchenSink());

  it('rejects every truncation', () => {
    for (let length = 0; length < bytes.length; length++) {
      expect(checkDecodes(bytes.subarray(0, length), 'cut.onnx')).toBe('invalid');
    }
  });

  it('either decodes or throws INVALID_MODEL for every single-bit flip', () => {
    const copy = new Uint8Array(bytes);
    let invalid = 0;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      copy[bit >> 3]! ^= 1 << (bit & 7);
      if (checkDecodes(copy, 'flipped.onnx') === 'invalid') invalid++;
      copy[bit >> 3]! ^= 1 << (bit & 7);
    }
    expect(invalid).toBeGreaterThan(0);
  }, 30_000);

  it('throws INVALID_MODEL for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (random) => {
        checkDecodes(random, 'random.onnx');
      }),
      { numRuns: 500 },
    );
    expect(checkDecodes(new TextEncoder().encode('not a model at all'), 'text.onnx')).toBe('invalid');
    expect(checkDecodes(new Uint8Array(), 'empty.onnx')).toBe('invalid');
  });
});

describe('third-party model', () => {
  const modelPath = openWakeWordModel('hello_deepa.onnx');
  const original = new Uint8Array(readFileSync(modelPath));

  it('round-trips hello_deepa.onnx with identical outputs in onnxruntime', async () => {
    const model = decodeModel(original, modelPath);
    const encoded = encodeModel(model);
    expect(encodeModel(decodeModel(encoded))).toEqual(encoded);
    const input = model.graph.inputs[0]!;
    const shape = input.shape!.map((d) => (typeof d === 'number' ? d : 1));
    const feeds = { [input.name]: floatTensor(shape, 7) };
    const before = await runOrt(original, feeds);
    const after = await runOrt(encoded, feeds);
    for (const output of model.graph.outputs) {
      expect(maxAbsDiff(before[output.name]!.data, after[output.name]!.data)).toBe(0);
    }
  }, 30_000);

  it('survives bit flips and truncations of a real model', () => {
    const positions = fc.sample(fc.integer({ min: 0, max: original.length * 8 - 1 }), {
      numRuns: 300,
      seed: 42,
    });
    const copy = new Uint8Array(original);
    for (const bit of positions) {
      copy[bit >> 3]! ^= 1 << (bit & 7);
      checkDecodes(copy, 'hello_deepa.onnx');
      copy[bit >> 3]! ^= 1 << (bit & 7);
    }
    for (let i = 1; i < 40; i++) {
      expect(checkDecodes(original.subarray(0, Math.floor((original.length * i) / 40)), 'cut.onnx')).toBe(
        'invalid',
      );
    }
  });
});

describe('models beyond 2 GiB', () => {
  it('are refused by encodeModel before any weight is read, and sized by encodedSize without reading', () => {
    let reads = 0;
    const huge = pagedTensor('float32', [2 ** 29 + 1], () => {
      reads++;
      throw new Error('read');
    });
    const model = createModel({
      opset: 13,
      inputs: [['x', 'float32', [2 ** 29 + 1]]],
      outputs: [['y', 'float32', [2 ** 29 + 1]]],
      initializers: { w: huge },
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
    });
    expect(hasPagedTensors(model)).toBe(true);
    let error: unknown;
    try {
      encodeModel(model);
    } catch (caught) {
      error = caught;
    }
    expect(QuantError.is(error) && error.code === 'INVALID_ARGUMENT' && /2 GiB/.test(error.message)).toBe(
      true,
    );
    expect((error as QuantError).details).toEqual({ inlineBytes: (2 ** 29 + 1) * 4, limit: 2 ** 31 - 1 });
    const size = encodedSize(model);
    expect(size).toBeGreaterThan(2 ** 31);
    expect(size).toBeLessThan(2 ** 31 + 200);
    expect(reads).toBe(0);
  });
});
