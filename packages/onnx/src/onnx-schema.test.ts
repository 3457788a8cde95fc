import { describe, expect, it } from 'vitest';
import { int64ToNumber } from './int64.js';
import { ONNX_ATTRIBUTE_TYPES, ONNX_DATA_TYPES, type TensorProto, onnxTypes } from './onnx-schema.js';

// A tiny independent protobuf writer, so field numbers are checked against bytes built from the spec by hand
// rather than against the schema itself.
function varint(value: number | bigint): number[] {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const field = {
  varint: (id: number, value: number | bigint) => [...varint((id << 3) | 0), ...varint(value)],
  bytes: (id: number, payload: number[]) => [...varint((id << 3) | 2), ...varint(payload.length), ...payload],
  string: (id: number, text: string) => field.bytes(id, [...new TextEncoder().encode(text)]),
  float: (id: number, value: number) => {
    const b = new Uint8Array(new Float32Array([value]).buffer);
    return [...varint((id << 3) | 5), ...b];
  },
};

describe('onnx schema', () => {
  it('decodes a ModelProto built byte by byte from the spec field numbers', () => {
    const bytes = new Uint8Array([
      ...field.varint(1, 9), // ir_version
      ...field.string(2, 'producer'),
      ...field.string(3, '1.2'),
      ...field.string(4, 'ai.test'),
      ...field.varint(5, 3), // model_version
      ...field.string(6, 'doc'),
      ...field.bytes(7, [
        ...field.bytes(1, [...field.string(1, 'x'), ...field.string(2, 'y'), ...field.string(4, 'Relu')]),
        ...field.string(2, 'g'),
        ...field.bytes(11, field.string(1, 'x')),
        ...field.bytes(12, field.string(1, 'y')),
        ...field.bytes(13, field.string(1, 'z')),
        ...field.bytes(14, field.string(1, 'x')),
        ...field.string(10, 'graph doc'),
      ]),
      ...field.bytes(8, [...field.string(1, 'com.x'), ...field.varint(2, 5)]),
      ...field.bytes(14, [...field.string(1, 'k'), ...field.string(2, 'v')]),
      ...field.bytes(25, [
        ...field.string(1, 'fn'),
        ...field.string(10, 'custom'),
        ...field.string(13, 'ov'),
      ]),
    ]);
    const model = onnxTypes.ModelProto.toObject(onnxTypes.ModelProto.decode(bytes), {
      longs: Number,
    }) as Record<string, unknown>;
    expect(model).toMatchObject({
      ir_version: 9,
      producer_name: 'producer',
      producer_version: '1.2',
      domain: 'ai.test',
      model_version: 3,
      doc_string: 'doc',
      opset_import: [{ domain: 'com.x', version: 5 }],
      metadata_props: [{ key: 'k', value: 'v' }],
      functions: [{ name: 'fn', domain: 'custom', overload: 'ov' }],
      graph: {
        name: 'g',
        doc_string: 'graph doc',
        node: [{ input: ['x'], output: ['y'], op_type: 'Relu' }],
        input: [{ name: 'x' }],
        output: [{ name: 'y' }],
        value_info: [{ name: 'z' }],
        quantization_annotation: [{ tensor_name: 'x' }],
      },
    });
  });

  it('decodes attributes of every kind by their spec field numbers', () => {
    const attr = (...parts: number[][]) => field.bytes(5, parts.flat());
    const bytes = new Uint8Array([
      ...field.string(4, 'Op'),
      ...field.string(7, 'dom'),
      ...field.string(8, 'ovl'),
      ...attr(field.string(1, 'f'), field.varint(20, 1), field.float(2, 0.5)),
      ...attr(field.string(1, 'i'), field.varint(20, 2), field.varint(3, -3)),
      ...attr(field.string(1, 's'), field.varint(20, 3), field.string(4, 'hi')),
      ...attr(field.string(1, 't'), field.varint(20, 4), field.bytes(5, field.varint(2, 1))),
      ...attr(field.string(1, 'g'), field.varint(20, 5), field.bytes(6, field.string(2, 'sub'))),
      ...attr(field.string(1, 'fs'), field.varint(20, 6), field.float(7, 1), field.float(7, 2)),
      ...attr(field.string(1, 'is'), field.varint(20, 7), field.bytes(8, [...varint(4), ...varint(5)])),
      ...attr(field.string(1, 'ss'), field.varint(20, 8), field.string(9, 'a'), field.string(9, 'b')),
      ...attr(field.string(1, 'ts'), field.varint(20, 9), field.bytes(10, field.string(8, 't0'))),
      ...attr(field.string(1, 'gs'), field.varint(20, 10), field.bytes(11, field.string(2, 'g0'))),
      ...attr(field.string(1, 'sp'), field.varint(20, 11), field.bytes(22, field.bytes(3, varint(7)))),
      ...attr(field.string(1, 'sps'), field.varint(20, 12), field.bytes(23, field.bytes(3, varint(8)))),
      ...attr(field.string(1, 'tp'), field.varint(20, 13), field.bytes(14, field.string(6, 'den'))),
      ...attr(field.string(1, 'tps'), field.varint(20, 14), field.bytes(15, field.string(6, 'd2'))),
      ...attr(field.string(1, 'r'), field.string(21, 'parent'), field.string(13, 'adoc')),
      ...field.bytes(9, [...field.string(1, 'mk'), ...field.string(2, 'mv')]),
      ...field.string(6, 'node doc'),
    ]);
    const node = onnxTypes.NodeProto.toObject(onnxTypes.NodeProto.decode(bytes), {
      longs: Number,
      bytes: String,
    }) as { attribute: Record<string, unknown>[] } & Record<string, unknown>;
    expect(node).toMatchObject({ op_type: 'Op', domain: 'dom', overload: 'ovl', doc_string: 'node doc' });
    expect(node['metadata_props']).toEqual([{ key: 'mk', value: 'mv' }]);
    const byName = Object.fromEntries(node.attribute.map((a) => [a['name'], a]));
    expect(byName['f']).toMatchObject({ type: ONNX_ATTRIBUTE_TYPES.FLOAT, f: 0.5 });
    expect(byName['i']).toMatchObject({ type: ONNX_ATTRIBUTE_TYPES.INT, i: -3 });
    expect(byName['s']).toMatchObject({ s: btoa('hi') });
    expect(byName['t']).toMatchObject({ t: { data_type: 1 } });
    expect(byName['g']).toMatchObject({ g: { name: 'sub' } });
    expect(byName['fs']).toMatchObject({ floats: [1, 2] });
    expect(byName['is']).toMatchObject({ ints: [4, 5] });
    expect(byName['ss']).toMatchObject({ strings: [btoa('a'), btoa('b')] });
    expect(byName['ts']).toMatchObject({ tensors: [{ name: 't0' }] });
    expect(byName['gs']).toMatchObject({ graphs: [{ name: 'g0' }] });
    expect(byName['sp']).toMatchObject({ sparse_tensor: { dims: [7] } });
    expect(byName['sps']).toMatchObject({ sparse_tensors: [{ dims: [8] }] });
    expect(byName['tp']).toMatchObject({ tp: { denotation: 'den' } });
    expect(byName['tps']).toMatchObject({ type_protos: [{ denotation: 'd2' }] });
    expect(byName['r']).toMatchObject({ ref_attr_name: 'parent', doc_string: 'adoc' });
  });

  it('decodes TensorProto fields, packed and unpacked repeated encodings alike', () => {
    const packedDims = field.bytes(1, [...varint(2), ...varint(3)]);
    const unpackedDims = [...field.varint(1, 2), ...field.varint(1, 3)];
    const rest = [
      ...field.varint(2, ONNX_DATA_TYPES.INT64),
      ...field.bytes(7, [...varint(-1), ...varint(2n ** 40n)]),
      ...field.varint(7, 5), // one more int64_data value, unpacked
      ...field.string(8, 'w'),
      ...field.string(12, 'tdoc'),
      ...field.bytes(13, [...field.string(1, 'location'), ...field.string(2, 'w.bin')]),
      ...field.varint(14, 1),
      ...field.bytes(16, [...field.string(1, 'a'), ...field.string(2, 'b')]),
      ...field.bytes(3, [...field.varint(1, 4), ...field.varint(2, 9)]),
    ];
    for (const dims of [packedDims, unpackedDims]) {
      const decoded = onnxTypes.TensorProto.decode(new Uint8Array([...dims, ...rest]));
      const tensor = onnxTypes.TensorProto.toObject(decoded, { longs: Number }) as Record<string, unknown>;
      expect(tensor).toMatchObject({
        dims: [2, 3],
        data_type: 7,
        int64_data: [-1, 2 ** 40, 5],
        name: 'w',
        doc_string: 'tdoc',
        external_data: [{ key: 'location', value: 'w.bin' }],
        data_location: 1,
        metadata_props: [{ key: 'a', value: 'b' }],
        segment: { begin: 4, end: 9 },
      });
      expect(int64ToNumber((decoded as unknown as TensorProto).int64_data![1])).toBe(2 ** 40);
    }
    const typed = new Uint8Array([
      ...field.bytes(4, [...new Uint8Array(new Float32Array([1.5, -2]).buffer)]),
      ...field.bytes(5, [...varint(7), ...varint(-8)]),
      ...field.bytes(10, [...new Uint8Array(new Float64Array([0.25]).buffer)]),
      ...field.bytes(11, varint(2n ** 63n)),
      ...field.bytes(6, [0x61]),
      ...field.bytes(9, [1, 2, 3]),
    ]);
    const t = onnxTypes.TensorProto.toObject(onnxTypes.TensorProto.decode(typed), {
      longs: String,
      bytes: Array,
    }) as Record<string, unknown>;
    expect(t).toMatchObject({
      float_data: [1.5, -2],
      int32_data: [7, -8],
      double_data: [0.25],
      uint64_data: ['9223372036854775808'],
      string_data: [[0x61]],
      raw_data: [1, 2, 3],
    });
  });

  it('decodes TypeProto variants and dimension oneofs', () => {
    const dim = (...parts: number[][]) => field.bytes(1, parts.flat());
    const shape = field.bytes(2, [
      ...dim(field.varint(1, 4)),
      ...dim(field.string(2, 'batch'), field.string(3, 'DATA_BATCH')),
      ...dim(),
    ]);
    const cases: [number[], Record<string, unknown>][] = [
      [field.bytes(1, [...field.varint(1, 1), ...shape]), { tensor_type: { elem_type: 1 } }],
      [
        field.bytes(4, field.bytes(1, field.bytes(1, field.varint(1, 7)))),
        { sequence_type: { elem_type: {} } },
      ],
      [field.bytes(5, [...field.varint(1, 8), ...field.bytes(2, [])]), { map_type: { key_type: 8 } }],
      [field.bytes(9, field.bytes(1, [])), { optional_type: { elem_type: {} } }],
      [field.bytes(8, field.varint(1, 3)), { sparse_tensor_type: { elem_type: 3 } }],
      [
        field.bytes(7, [...field.string(1, 'd'), ...field.string(2, 'n')]),
        { opaque_type: { domain: 'd', name: 'n' } },
      ],
      [field.string(6, 'IMAGE'), { denotation: 'IMAGE' }],
    ];
    for (const [bytes, expected] of cases) {
      const type = onnxTypes.TypeProto.toObject(onnxTypes.TypeProto.decode(new Uint8Array(bytes)), {
        longs: Number,
      });
      expect(type).toMatchObject(expected);
    }
    const tensorType = onnxTypes.TypeProto.toObject(
      onnxTypes.TypeProto.decode(new Uint8Array(cases[0]![0])),
      {
        longs: Number,
        oneofs: true,
      },
    ) as { tensor_type: { shape: { dim: Record<string, unknown>[] } } };
    expect(tensorType.tensor_type.shape.dim).toEqual([
      { dim_value: 4, value: 'dim_value' },
      { dim_param: 'batch', denotation: 'DATA_BATCH', value: 'dim_param' },
      {},
    ]);
  });

  it('decodes TrainingInfoProto, SparseTensorProto and FunctionProto fields', () => {
    const training = onnxTypes.TrainingInfoProto.toObject(
      onnxTypes.TrainingInfoProto.decode(
        new Uint8Array([
          ...field.bytes(1, field.string(2, 'init')),
          ...field.bytes(2, field.string(2, 'algo')),
          ...field.bytes(3, [...field.string(1, 'a'), ...field.string(2, 'b')]),
          ...field.bytes(4, [...field.string(1, 'c'), ...field.string(2, 'd')]),
        ]),
      ),
    );
    expect(training).toEqual({
      initialization: { name: 'init' },
      algorithm: { name: 'algo' },
      initialization_binding: [{ key: 'a', value: 'b' }],
      update_binding: [{ key: 'c', value: 'd' }],
    });
    const fn = onnxTypes.FunctionProto.toObject(
      onnxTypes.FunctionProto.decode(
        new Uint8Array([
          ...field.string(4, 'in'),
          ...field.string(5, 'out'),
          ...field.string(6, 'alpha'),
          ...field.bytes(11, field.string(1, 'beta')),
          ...field.bytes(7, field.string(4, 'Relu')),
          ...field.string(8, 'fdoc'),
          ...field.bytes(9, field.varint(2, 18)),
          ...field.bytes(12, field.string(1, 'v')),
          ...field.bytes(14, field.string(1, 'm')),
        ]),
      ),
      { longs: Number },
    );
    expect(fn).toMatchObject({
      input: ['in'],
      output: ['out'],
      attribute: ['alpha'],
      attribute_proto: [{ name: 'beta' }],
      node: [{ op_type: 'Relu' }],
      doc_string: 'fdoc',
      opset_import: [{ version: 18 }],
      value_info: [{ name: 'v' }],
      metadata_props: [{ key: 'm' }],
    });
    const sparse = onnxTypes.SparseTensorProto.toObject(
      onnxTypes.SparseTensorProto.decode(
        new Uint8Array([
          ...field.bytes(1, field.string(8, 'values')),
          ...field.bytes(2, field.string(8, 'indices')),
          ...field.bytes(3, [...varint(3), ...varint(4)]),
        ]),
      ),
      { longs: Number },
    );
    expect(sparse).toEqual({ values: { name: 'values' }, indices: { name: 'indices' }, dims: [3, 4] });
  });

  it('writes repeated numbers packed, as onnx.proto3 declares them', () => {
    const bytes = onnxTypes.TensorProto.encode({ dims: [2, 3], float_data: [1, 2, 3, 4, 5, 6] }).finish();
    // dims: tag (1 << 3 | 2), length 2, values 2, 3
    expect([...bytes.subarray(0, 4)]).toEqual([0x0a, 2, 2, 3]);
    // float_data: tag (4 << 3 | 2), length 24
    expect([...bytes.subarray(4, 6)]).toEqual([0x22, 24]);
  });
});
