/**
 * Writes tiny ONNX models for this package's tests, field by field from onnx.proto, so the executor tests depend
 * on nothing but onnxruntime. Not exported from the package.
 */

const ONNX_TYPE_CODES: Readonly<Record<string, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
};

class ProtoWriter {
  readonly bytes: number[] = [];

  varint(value: number | bigint): this {
    let rest = BigInt.asUintN(64, BigInt(value));
    while (rest >= 0x80n) {
      this.bytes.push(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.bytes.push(Number(rest));
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint((field << 3) | wireType);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  bytesField(field: number, payload: Uint8Array | readonly number[]): this {
    this.tag(field, 2).varint(payload.length);
    for (const byte of payload) this.bytes.push(byte);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytesField(field, new TextEncoder().encode(text));
  }

  message(field: number, build: (writer: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.bytes);
  }
}

export interface TestValue {
  readonly name: string;
  readonly dtype: string;
  /** Numbers are fixed dims, strings symbolic. */
  readonly shape: readonly (number | string)[];
}

export interface TestInitializer {
  readonly name: string;
  readonly shape: readonly number[];
  readonly values: readonly number[];
}

export interface TestNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface TestModel {
  readonly inputs: readonly TestValue[];
  readonly outputs: readonly TestValue[];
  readonly nodes: readonly TestNode[];
  /** float32 constants. */
  readonly initializers?: readonly TestInitializer[];
  readonly opset?: number;
}

function valueInfo(writer: ProtoWriter, value: TestValue): void {
  const code = ONNX_TYPE_CODES[value.dtype];
  if (code === undefined) throw new Error(`test model: no ONNX type code for ${value.dtype}`);
  writer.string(1, value.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, code).message(2, (shape) => {
        for (const dim of value.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      }),
    ),
  );
}

/** ModelProto bytes (IR version 8) for a graph of plain ops. */
export function encodeTestModel(model: TestModel): Uint8Array {
  const writer = new ProtoWriter();
  writer.int(1, 8); // ir_version
  writer.message(8, (opset) => opset.string(1, '').int(2, model.opset ?? 17));
  writer.message(7, (graph) => {
    model.nodes.forEach((node, i) => {
      graph.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `${node.opType.toLowerCase()}_${i}`).string(4, node.opType);
      });
    });
    graph.string(2, 'test');
    for (const init of model.initializers ?? []) {
      graph.message(5, (tensor) => {
        for (const dim of init.shape) tensor.int(1, dim);
        tensor.int(2, 1).string(8, init.name);
        const raw = new Float32Array(init.values);
        tensor.bytesField(9, new Uint8Array(raw.buffer));
      });
    }
    for (const input of model.inputs) graph.message(11, (w) => valueInfo(w, input));
    for (const output of model.outputs) graph.message(12, (w) => valueInfo(w, output));
  });
  return Uint8Array.from(writer.bytes);
}
