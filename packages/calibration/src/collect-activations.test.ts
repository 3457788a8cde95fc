import type { ExecutorPlugin, Tensor } from '@quantkit/core';
import { createModel, decodeModel, encodeModel } from '@quantkit/onnx';
import { describe, expect, it } from 'vitest';
import { collectActivations } from './collect-activations.js';

const model = createModel({
  opset: 17,
  inputs: [['x', 'float32', [1, 2]]],
  outputs: [['y', 'float32', [1, 2]]],
  nodes: [
    { opType: 'Relu', inputs: ['x'], outputs: ['a'] },
    { opType: 'Neg', inputs: ['a'], outputs: ['b'] },
    { opType: 'Abs', inputs: ['b'], outputs: ['y'] },
  ],
});

/**
 * An executor that stands in for a runtime: every value it is asked for is the input plus an offset per value
 * name and per model (the model it was given is recorded), so the test knows what each fetch must return.
 */
function fakeExecutor() {
  const created: Uint8Array[] = [];
  const fetches: string[][] = [];
  const executor: ExecutorPlugin = {
    kind: 'executor',
    name: 'fake',
    apiVersion: 1,
    async createSession(bytes) {
      const id = created.push(bytes) - 1;
      return {
        inputNames: ['x'],
        outputNames: ['y'],
        async run(feeds, names = ['y']) {
          fetches.push([...names]);
          const x = feeds['x']!.data as Float32Array;
          const out: Record<string, Tensor> = {};
          for (const name of names)
            out[name] = {
              dtype: 'float32',
              shape: [1, 2],
              data: x.map((v) => v + name.charCodeAt(0) + 100 * id),
            };
          return out;
        },
        async dispose() {},
      };
    },
  };
  return { executor, created, fetches };
}

const sample = (value: number) => ({
  x: { dtype: 'float32', shape: [1, 2], data: Float32Array.of(value, value) } as Tensor,
});

describe('collectActivations', () => {
  it('runs every model on every sample, a bounded number of values per pass, and hands each batch to visit', async () => {
    const { executor, created, fetches } = fakeExecutor();
    const seen: string[] = [];
    const result = await collectActivations(
      [{ model }, { model }],
      ['a', 'b', 'y'],
      { executor, samples: [sample(1), sample(2)], maxTensorsPerPass: 2 },
      (names, values) => {
        expect(values).toHaveLength(2);
        for (const name of names) {
          const [first, second] = values.map((v) => (v[name]!.data as Float32Array)[0]!);
          // Each model's own session answered: the second model's offset is 100 more.
          expect(second! - first!).toBe(100);
          seen.push(`${name}:${first! - name.charCodeAt(0)}`);
        }
      },
    );
    expect(result).toEqual({ samples: 2, rows: 2, passes: 2 });
    // Pass 1 (sessions 0 and 1) fetches a and b for both samples; pass 2 (sessions 2 and 3) fetches y.
    expect(seen).toEqual(['a:1', 'b:1', 'a:2', 'b:2', 'y:201', 'y:202']);
    expect(created).toHaveLength(4);
    expect(fetches).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b'], ['y'], ['y'], ['y'], ['y']]);
  });

  it('runs the given encoding with the values appended, not a new encoding, when it computes them all', async () => {
    const { executor, created } = fakeExecutor();
    const bytes = encodeModel(model);
    const encoded = { bytes, values: new Set(['x', 'a', 'b', 'y']) };
    await collectActivations([{ model, encoded }], ['a'], { executor, samples: [sample(1)] }, () => {});
    expect(created[0]!.subarray(0, bytes.length)).toEqual(bytes);
    // A value the encoding does not list: the model is exposed and encoded instead.
    await collectActivations(
      [{ model, encoded: { bytes: new Uint8Array(), values: new Set<string>() } }],
      ['a'],
      { executor, samples: [sample(1)] },
      () => {},
    );
    expect(decodeModel(created[1]!).graph.outputs.map((output) => output.name)).toEqual(['y', 'a']);
  });

  it('stops at the limit, and refuses what cannot be read twice or reads differently', async () => {
    const { executor } = fakeExecutor();
    const limited = await collectActivations(
      [{ model }],
      ['a'],
      { executor, samples: [sample(1), sample(2)], limit: 1 },
      () => {},
    );
    expect(limited.samples).toBe(1);
    const once = (function* () {
      yield sample(1);
    })();
    await expect(
      collectActivations(
        [{ model }],
        ['a', 'b'],
        { executor, samples: once, maxTensorsPerPass: 1 },
        () => {},
      ),
    ).rejects.toThrow(/several passes/);
    let calls = 0;
    const shrinking = () => (calls++ === 0 ? [sample(1), sample(2)] : [sample(1)]);
    await expect(
      collectActivations(
        [{ model }],
        ['a', 'b'],
        { executor, samples: shrinking, maxTensorsPerPass: 1 },
        () => {},
      ),
    ).rejects.toThrow(/pass 2 read 1 samples, pass 1 read 2/);
  });

  it('names a value the executor did not return', async () => {
    const { executor } = fakeExecutor();
    const forgetful: ExecutorPlugin = {
      ...executor,
      async createSession(bytes) {
        const session = await executor.createSession(bytes);
        return { ...session, run: async () => ({}) };
      },
    };
    await expect(
      collectActivations([{ model }], ['b'], { executor: forgetful, samples: [sample(1)] }, () => {}),
    ).rejects.toThrow(/did not return "b"/);
  });
});
