import { type KernelNode, type Tensor, createRegistry } from '@quantkit/core';
import { describe, expect, it } from 'vitest';
import { jsRuntimePlugins } from '../builtins.js';
import { halfFloatCases } from '../conformance/cases/half-float.js';
import type { ConformanceCase } from '../conformance/conformance-case.js';
import { randomFloat } from '../conformance/random-tensors.js';
import { nodeCaseModel, runBoth, tensorMismatch } from '../conformance/run-both.js';
import { createRuntime } from '../runtime.js';
import { jsKernel } from './backend.js';
import { halfFloatKernel } from './half-float-kernel.js';
import { type HalfDType, float32ToHalf, halfToFloat32, isHalfDType } from './half-float.js';

// onnxruntime runs no bfloat16 on its CPU provider, and its float16 QuantizeLinear truncates: for those the
// reference is onnxruntime on the same values widened to float32, its float outputs rounded to the 16-bit type,
// which is what the runtime's adapter promises.

function widened(tensor: Tensor | undefined): Tensor | undefined {
  if (tensor === undefined || !isHalfDType(tensor.dtype)) return tensor;
  return {
    dtype: 'float32',
    shape: tensor.shape,
    data: halfToFloat32(tensor.data as Uint16Array, tensor.dtype),
  };
}

function toHalf(tensor: Tensor | undefined, dtype: HalfDType): Tensor | undefined {
  const wide = widened(tensor);
  if (tensor === undefined || wide === undefined || !isHalfDType(tensor.dtype)) return tensor;
  return { dtype, shape: tensor.shape, data: float32ToHalf(wide.data as Float32Array, dtype) };
}

/** The case's outputs from onnxruntime on float32 inputs, float outputs rounded to `dtype`, and from the runtime. */
async function againstFloat32(testCase: ConformanceCase, dtype: HalfDType) {
  const inputs = testCase.inputs.map((input) => toHalf(input, dtype));
  const reference = { ...testCase, inputs: inputs.map(widened) };
  const { expected } = await runBoth(reference, jsRuntimePlugins);
  const { model, feeds } = nodeCaseModel({ ...testCase, inputs });
  const session = await createRuntime(createRegistry(jsRuntimePlugins)).load(model);
  const outputs = await session.run(feeds);
  const actual = session.outputNames.map((name) => outputs[name]!);
  const halfOutputs = testCase.opType === 'LayerNormalization' ? [0] : expected.map((_, index) => index);
  const rounded = expected.map((tensor, index) =>
    tensor.dtype === 'float32' && halfOutputs.includes(index)
      ? { dtype, shape: tensor.shape, data: float32ToHalf(tensor.data as Float32Array, dtype) }
      : tensor,
  );
  return { expected: rounded, actual };
}

describe('bfloat16 nodes against onnxruntime in float32, rounded to bfloat16', () => {
  // Overflow past 65504 is float16's; integer-valued QuantizeLinear inputs are float16's too.
  const cases = halfFloatCases.filter(
    (testCase) => !testCase.name.includes('overflows') && testCase.opType !== 'QuantizeLinear',
  );
  for (const testCase of cases) {
    it(testCase.name.replaceAll('float16', 'bfloat16'), async () => {
      const { expected, actual } = await againstFloat32(testCase, 'bfloat16');
      expect(actual).toHaveLength(expected.length);
      expected.forEach((tensor, index) => {
        expect(tensorMismatch(actual[index]!, tensor, testCase.tolerance), `output ${index}`).toBeUndefined();
      });
    });
  }
});

describe('float16 QuantizeLinear', () => {
  it('rounds x / scale to nearest even, as the float32 form does (onnxruntime float16 truncates)', async () => {
    const x = randomFloat([4, 16], 1900, -2, 2);
    const testCase: ConformanceCase = {
      name: 'QuantizeLinear float16',
      opType: 'QuantizeLinear',
      opset: 19,
      inputs: [
        { dtype: 'float16', shape: x.shape, data: float32ToHalf(x.data, 'float16') },
        { dtype: 'float16', shape: [], data: float32ToHalf(Float32Array.of(0.0142), 'float16') },
        { dtype: 'int8', shape: [], data: Int8Array.of(-3) },
      ],
    };
    const { expected, actual } = await againstFloat32(testCase, 'float16');
    expect(actual[0]!.dtype).toBe('int8');
    expect(Array.from(actual[0]!.data as Int8Array)).toEqual(Array.from(expected[0]!.data as Int8Array));
  });
});

describe('halfFloatKernel', () => {
  function node(inputs: KernelNode['inputs'], outputs: KernelNode['outputs'] = [{ name: 'y' }]): KernelNode {
    return {
      name: 'n',
      opType: 'Probe',
      domain: '',
      opset: 17,
      attributes: undefined as unknown as KernelNode['attributes'],
      inputs,
      outputs,
      label: 'Probe node "n"',
    };
  }
  const half = (values: number[]): Tensor => ({
    dtype: 'float16',
    shape: [values.length],
    data: float32ToHalf(Float32Array.from(values), 'float16'),
  });

  it('widens a constant once, when the node is prepared, and hands the kernel the same values each run', async () => {
    const seen: { prepared?: Tensor; ran: Tensor[] } = { ran: [] };
    const probe = halfFloatKernel(
      jsKernel('Probe', {
        prepare: (prepared) => {
          seen.prepared = prepared.inputs[1]?.constant;
          return undefined;
        },
        run: (_, [x, w]) => {
          seen.ran.push(w!);
          return [x!];
        },
      }),
    );
    const weight = half([0.5, -2]);
    const state = await probe.prepare(
      node([
        { name: 'x', dtype: 'float16' },
        { name: 'w', dtype: 'float16', constant: weight },
      ]),
      undefined,
    );
    for (let run = 0; run < 2; run++)
      await probe.run(state, [half([1, 2]), weight], { runSubgraph: async () => [] });
    expect(seen.prepared?.dtype).toBe('float32');
    expect(Array.from(seen.prepared!.data as Float32Array)).toEqual([0.5, -2]);
    expect(seen.ran[0]).toBe(seen.prepared);
    expect(seen.ran[1]).toBe(seen.prepared);
  });

  it('gives float outputs the type of the first float input, unless the model declares another', async () => {
    const passThrough = halfFloatKernel(
      jsKernel('Probe', { run: (_, inputs) => inputs.map((input) => input!) }),
    );
    const float32 = randomFloat([2], 1);
    const context = { runSubgraph: async () => [] };
    const mixed = await passThrough.run(
      await passThrough.prepare(
        node([{ name: 'a' }, { name: 'b' }], [{ name: 'y' }, { name: 'z' }]),
        undefined,
      ),
      [float32, half([1, 2])],
      context,
    );
    expect(mixed.map((output) => output.dtype)).toEqual(['float32', 'float32']);
    const declared = await passThrough.run(
      await passThrough.prepare(
        node([{ name: 'a' }, { name: 'b' }], [{ name: 'y', dtype: 'float32' }, { name: 'z' }]),
        undefined,
      ),
      [half([3]), half([1, 2])],
      context,
    );
    expect(declared.map((output) => output.dtype)).toEqual(['float32', 'float16']);
    expect(Array.from(declared[0]!.data as Float32Array)).toEqual([3]);
  });
});
