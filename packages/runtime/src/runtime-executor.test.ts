import { QuantError, type Tensor } from '@quantkit/core';
import { createOrtNodeExecutor } from '@quantkit/executor-ort';
import { createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import { quantizeModel } from '@quantkit/quantize';
import { describe, expect, it } from 'vitest';
import { randomFloat } from './conformance/random-tensors.js';
import { createRuntimeExecutor } from './runtime-executor.js';

const mlp = encodeModel(
  createModel({
    opset: 13,
    nodes: [
      { opType: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
      { opType: 'Add', inputs: ['h', 'b1'], outputs: ['hb'] },
      { opType: 'Relu', inputs: ['hb'], outputs: ['r'] },
      { opType: 'MatMul', inputs: ['r', 'w2'], outputs: ['y'] },
    ],
    inputs: [['x', 'float32', [4, 16]]],
    outputs: [['y', 'float32', [4, 8]]],
    initializers: {
      w1: randomFloat([16, 32], 1),
      b1: randomFloat([32], 2),
      w2: randomFloat([32, 8], 3),
    },
  }),
);

/** Every QuantizeLinear scale of a model, by the quantized value's name. */
function activationScales(bytes: Uint8Array): Map<string, number> {
  const { graph } = decodeModel(bytes);
  const scales = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.opType !== 'QuantizeLinear') continue;
    scales.set(node.inputs[0]!, Number(graph.getConstant(node.inputs[1]!)!.data[0]));
  }
  return scales;
}

describe('createRuntimeExecutor', () => {
  it('calibrates a static quantization to the scales onnxruntime-node calibration gives', async () => {
    const calibrationData = [1, 2, 3].map((seed) => ({ x: randomFloat([4, 16], 100 + seed) as Tensor }));
    const options = { mode: 'static', calibrationData, verify: false, measureLatency: false } as const;
    const onRuntime = await quantizeModel(mlp, { ...options, executor: createRuntimeExecutor() });
    const onOrt = await quantizeModel(mlp, { ...options, executor: createOrtNodeExecutor() });
    const expected = activationScales(onOrt.bytes);
    const actual = activationScales(onRuntime.bytes);
    expect(expected.size).toBeGreaterThan(2);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [name, scale] of expected) expect(actual.get(name)! / scale, name).toBeCloseTo(1, 5);
  });

  it('reports a model it cannot run as an EXECUTOR error naming the node', async () => {
    const model = encodeModel(
      createModel({
        nodes: [{ opType: 'Frobnicate', name: 'f', inputs: ['x'], outputs: ['y'] }],
        inputs: [['x', 'float32', [1]]],
        outputs: [['y']],
      }),
    );
    const error = await createRuntimeExecutor()
      .createSession(model)
      .then(
        () => undefined,
        (caught: unknown) => caught,
      );
    expect(QuantError.is(error) && error.code).toBe('EXECUTOR');
    expect((error as Error).message).toBe(
      'quantkit-runtime cannot run the model: Frobnicate node "f" (outputs "y"): the runtime has no kernel for op Frobnicate',
    );
  });
});
