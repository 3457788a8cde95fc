import { type Tensor, createRegistry } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { builtinRuntimePlugins } from '../../builtins.js';
import { randomFloat } from '../../conformance/random-tensors.js';
import { type NodeCase, nodeCaseModel } from '../../conformance/run-both.js';
import { createRuntime } from '../../runtime.js';
import { stridesOf } from '../tensor-utils.js';

async function runNode(spec: NodeCase): Promise<Tensor[]> {
  const { model, feeds } = nodeCaseModel(spec);
  const loaded = await createRuntime(createRegistry(builtinRuntimePlugins)).load(model);
  const outputs = await loaded.run(feeds);
  return loaded.outputNames.map((name) => outputs[name]!);
}

/** A float32 tensor with its axes reordered: output axis i is input axis perm[i]. */
function permute(tensor: Tensor, perm: readonly number[]): Tensor {
  const shape = perm.map((axis) => tensor.shape[axis]!);
  const inStrides = stridesOf(tensor.shape);
  const source = tensor.data as Float32Array;
  const out = new Float32Array(source.length);
  const counter = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let offset = 0;
    for (let axis = 0; axis < shape.length; axis++) offset += counter[axis]! * inStrides[perm[axis]!]!;
    out[i] = source[offset]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      counter[axis]! += 1;
      if (counter[axis]! < shape[axis]!) break;
      counter[axis] = 0;
    }
  }
  return { dtype: 'float32', shape, data: out };
}

// onnxruntime refuses layout 1 ("batchwise recurrent operations are not supported"), so the conformance suite
// cannot check it: here layout 1 must give layout 0's outputs with the batch axis moved first.
describe('recurrent ops with layout 1', () => {
  const sequence = 4;
  const batch = 3;
  const input = 2;
  const hidden = 3;
  for (const opType of ['LSTM', 'GRU', 'RNN'] as const) {
    it(`${opType} bidirectional with sequence_lens and initial states matches layout 0 transposed`, async () => {
      const gates = { LSTM: 4, GRU: 3, RNN: 1 }[opType];
      const x = randomFloat([sequence, batch, input], 1);
      const initialH = randomFloat([2, batch, hidden], 5);
      const initialC = randomFloat([2, batch, hidden], 6);
      const shared = [
        randomFloat([2, gates * hidden, input], 2, -0.6, 0.6),
        randomFloat([2, gates * hidden, hidden], 3, -0.6, 0.6),
        randomFloat([2, 2 * gates * hidden], 4, -0.5, 0.5),
        { dtype: 'int32' as const, shape: [batch], data: Int32Array.from([4, 2, 3]) },
      ];
      const outputs = opType === 'LSTM' ? 3 : 2;
      const base = { opType, outputs, attributes: { hidden_size: hidden, direction: 'bidirectional' } };
      const timeMajor = await runNode({
        ...base,
        inputs: [x, ...shared, initialH, ...(opType === 'LSTM' ? [initialC] : [])],
      });
      const batchMajor = await runNode({
        ...base,
        attributes: { ...base.attributes, layout: 1 },
        inputs: [
          permute(x, [1, 0, 2]),
          ...shared,
          permute(initialH, [1, 0, 2]),
          ...(opType === 'LSTM' ? [permute(initialC, [1, 0, 2])] : []),
        ],
      });
      expect(batchMajor[0]).toEqual(permute(timeMajor[0]!, [2, 0, 1, 3]));
      for (let slot = 1; slot < outputs; slot++) {
        expect(batchMajor[slot]).toEqual(permute(timeMajor[slot]!, [1, 0, 2]));
      }
    });
  }
});
