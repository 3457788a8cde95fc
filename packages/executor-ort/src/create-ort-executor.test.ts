import { QuantError, type Tensor, createRegistry } from '@quantkit/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OrtExecutorSession, createOrtExecutor } from './create-ort-executor.js';
import { encodeTestModel } from './encode-test-model.js';
import { expectClose, linearModel, linearReference } from './linear-test-model.js';
import { asyncQuantErrorOf } from '@quantkit/core/testing';

const IDENTITY_DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'uint16', 'int8', 'uint8', 'bool'];
const identityModel = encodeTestModel({
  inputs: IDENTITY_DTYPES.map((dtype) => ({ name: `in_${dtype}`, dtype, shape: ['n'] })),
  outputs: IDENTITY_DTYPES.map((dtype) => ({ name: `out_${dtype}`, dtype, shape: ['n'] })),
  nodes: IDENTITY_DTYPES.map((dtype) => ({ opType: 'Identity', inputs: [`in_${dtype}`], outputs: [`out_${dtype}`] })),
});

const identityFeeds: Record<string, Tensor> = {
  in_float32: { dtype: 'float32', shape: [3], data: Float32Array.of(1.5, -0, 3.4e38) },
  in_float64: { dtype: 'float64', shape: [2], data: Float64Array.of(Math.PI, -1e-300) },
  in_float16: { dtype: 'float16', shape: [3], data: Uint16Array.of(0x3c00, 0x7bff, 0x8001) },
  in_int64: { dtype: 'int64', shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 62n + 1n) },
  in_int32: { dtype: 'int32', shape: [2], data: Int32Array.of(-(2 ** 31), 2 ** 31 - 1) },
  in_int16: { dtype: 'int16', shape: [1], data: Int16Array.of(-32768) },
  in_uint16: { dtype: 'uint16', shape: [1], data: Uint16Array.of(65535) },
  in_int8: { dtype: 'int8', shape: [2], data: Int8Array.of(-128, 127) },
  in_uint8: { dtype: 'uint8', shape: [2], data: Uint8Array.of(0, 255) },
  in_bool: { dtype: 'bool', shape: [3], data: Uint8Array.of(1, 0, 1) },
};

const executor = createOrtExecutor(ort, { name: 'ort-node' });
let session: OrtExecutorSession;

beforeAll(async () => {
  session = await executor.createSession(linearModel, { threads: 1 });
});
afterAll(async () => {
  await session.dispose();
});

describe('createOrtExecutor on onnxruntime-node', () => {
  it('is a valid executor plugin with the chosen name', () => {
    expect(createRegistry([executor]).get('executor', 'ort-node')).toBe(executor);
    expect(createOrtExecutor(ort).name).toBe('onnxruntime');
  });

  it('reports input and output names and metadata', () => {
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['mm', 'y']);
    expect(session.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: ['N', 2] }]);
  });

  it('computes MatMul + Add like a float reference', async () => {
    const x = [1, 2, -0.5, 4, 0.25, -3];
    const result = await session.run({ x: { dtype: 'float32', shape: [3, 2], data: Float32Array.from(x) } });
    const expected = linearReference(Array.from(Float32Array.from(x)), 3);
    expect(Object.keys(result).sort()).toEqual(['mm', 'y']);
    expect(result.y!.dtype).toBe('float32');
    expect(result.y!.shape).toEqual([3, 3]);
    expectClose(result.y!.data as Float32Array, expected.y);
    expectClose(result.mm!.data as Float32Array, expected.mm);
  });

  it('returns only the fetched outputs', async () => {
    const x = { dtype: 'float32' as const, shape: [1, 2], data: Float32Array.of(3, -1) };
    const result = await session.run({ x }, ['mm']);
    expect(Object.keys(result)).toEqual(['mm']);
    expect(await session.run({ x }, [])).toEqual({});
    expectClose(result.mm!.data as Float32Array, linearReference([3, -1], 1).mm);
  });

  it('returns each fetched output under its own name, whatever the fetch order', async () => {
    // onnxruntime-node labels a fetch list's results by output position: fetching only 'y' (the second output)
    // used to come back as 'mm'-shaped data under the wrong name.
    const x = { dtype: 'float32' as const, shape: [1, 2], data: Float32Array.of(0.5, 2) };
    const expected = linearReference([0.5, 2], 1);
    const onlyY = await session.run({ x }, ['y']);
    expect(Object.keys(onlyY)).toEqual(['y']);
    expectClose(onlyY.y!.data as Float32Array, expected.y);
    const reversed = await session.run({ x }, ['y', 'mm']);
    expectClose(reversed.y!.data as Float32Array, expected.y);
    expectClose(reversed.mm!.data as Float32Array, expected.mm);
  });

  it('round-trips every supported dtype through the runtime', async () => {
    const identity = await executor.createSession(identityModel);
    try {
      const result = await identity.run(identityFeeds);
      for (const dtype of IDENTITY_DTYPES) {
        const sent = identityFeeds[`in_${dtype}`]!;
        const got = result[`out_${dtype}`]!;
        expect(got.dtype).toBe(dtype);
        expect(got.shape).toEqual(sent.shape);
        expect(Array.from(got.data as ArrayLike<unknown>)).toEqual(Array.from(sent.data as ArrayLike<unknown>));
      }
    } finally {
      await identity.dispose();
    }
  });

  it('names missing and unknown inputs, listing the expected ones', async () => {
    const data = { dtype: 'float32' as const, shape: [1, 2], data: new Float32Array(2) };
    const unknown = await asyncQuantErrorOf(session.run({ x: data, z: data }));
    expect(unknown.code).toBe('EXECUTOR');
    expect(unknown.message).toBe('unknown input(s) "z"; the model\'s inputs are "x"');
    const missing = await asyncQuantErrorOf(session.run({ input: data }));
    expect(missing.message).toBe('missing input(s) "x" and unknown input(s) "input"; the model\'s inputs are "x"');
  });

  it('names the input fed the wrong dtype', async () => {
    const error = await asyncQuantErrorOf(session.run({ x: { dtype: 'int32', shape: [1, 2], data: new Int32Array(2) } }));
    expect(error.code).toBe('EXECUTOR');
    expect(error.message).toBe('input "x" expects float32 data, got "x" int32[1, 2]');
  });

  it('names unknown outputs', async () => {
    const x = { dtype: 'float32' as const, shape: [1, 2], data: new Float32Array(2) };
    const error = await asyncQuantErrorOf(session.run({ x }, ['y', 'logits']));
    expect(error.message).toBe('unknown output(s) "logits" requested; the model\'s outputs are "mm", "y"');
  });

  it('wraps onnxruntime run failures, naming inputs and outputs and keeping the cause', async () => {
    const error = await asyncQuantErrorOf(session.run({ x: { dtype: 'float32', shape: [1, 5], data: new Float32Array(5) } }, ['y']));
    expect(error.code).toBe('EXECUTOR');
    expect(error.message).toMatch(/^ort-node failed to run the model with inputs "x" float32\[1, 5\] fetching "y": /);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses garbage model bytes with EXECUTOR', async () => {
    const error = await asyncQuantErrorOf(executor.createSession(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)));
    expect(error.code).toBe('EXECUTOR');
    expect(error.message).toMatch(/^ort-node could not load the model \(8 bytes\): /);
    expect(error.cause).toBeDefined();
  });

  it('validates threads and the module it is given', async () => {
    expect((await asyncQuantErrorOf(executor.createSession(linearModel, { threads: 1.5 }))).code).toBe('INVALID_ARGUMENT');
    let caught: unknown;
    try {
      createOrtExecutor({} as never);
    } catch (error) {
      caught = error;
    }
    expect(QuantError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('refuses to run after dispose', async () => {
    const short = await executor.createSession(linearModel);
    await short.dispose();
    await short.dispose();
    const x = { dtype: 'float32' as const, shape: [1, 2], data: new Float32Array(2) };
    expect((await asyncQuantErrorOf(short.run({ x }))).message).toMatch(/disposed/);
  });

  it('passes the session options through to onnxruntime', async () => {
    const seen: unknown[] = [];
    const spy = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: (model: Uint8Array, options?: unknown) => {
          seen.push(options);
          return ort.InferenceSession.create(model, options as ort.InferenceSession.SessionOptions);
        },
      },
    };
    const custom = createOrtExecutor(spy, { graphOptimizationLevel: 'basic', executionProviders: ['cpu'] });
    await (await custom.createSession(linearModel, { threads: 2 })).dispose();
    await (await createOrtExecutor(spy).createSession(linearModel)).dispose();
    expect(seen).toEqual([
      { graphOptimizationLevel: 'basic', intraOpNumThreads: 2, executionProviders: ['cpu'] },
      { graphOptimizationLevel: 'all' },
    ]);
  });
});
