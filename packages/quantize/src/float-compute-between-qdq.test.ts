import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, decodeModel } from '@quantkit/onnx';
import { ortOptimizedModel } from '@quantkit/test-kit';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, drawSamples, gaussianTensor, node, randomTensor } from './test-models.js';

const ints = (value: number[]) => ({ type: 'ints' as const, value });

/**
 * Conv -> Relu -> Conv -> Conv -> Relu, 1x1 kernels with biases, at the given opset; with `reluAfterB`, a Relu
 * between the middle two Convs.
 */
function convChain(opset: number, reluAfterB = false) {
  const r = createRandom(31);
  const model = createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [1, 8, 6, 6] }],
    outputs: [{ name: 'y', dtype: 'float32', shape: [1, 8, 6, 6] }],
    initializers: Object.fromEntries(
      ['a', 'b', 'c'].flatMap((layer) => [
        [`w_${layer}`, gaussianTensor([8, 8, 1, 1], r, 0.3)],
        [`b_${layer}`, randomTensor([8], r, 0.1)],
      ]),
    ),
    nodes: [
      node('Conv', ['x', 'w_a', 'b_a'], ['ca'], { kernel_shape: ints([1, 1]) }, 'conv_a'),
      node('Relu', ['ca'], ['ra'], {}, 'relu_a'),
      node(
        'Conv',
        ['ra', 'w_b', 'b_b'],
        [reluAfterB ? 'cb0' : 'cb'],
        { kernel_shape: ints([1, 1]) },
        'conv_b',
      ),
      ...(reluAfterB ? [node('Relu', ['cb0'], ['cb'], {}, 'relu_b')] : []),
      node('Conv', ['cb', 'w_c', 'b_c'], ['cc'], { kernel_shape: ints([1, 1]) }, 'conv_c'),
      node('Relu', ['cc'], ['y'], {}, 'relu_c'),
    ],
  });
  return { model, sample: (random: () => number) => ({ x: randomTensor([1, 8, 6, 6], random) }) };
}

/**
 * Quantizes the chain with conv_b excluded; checks the decisions around it and that onnxruntime loads the result,
 * writes no Round, and runs conv_a alone as QLinearConv (conv_b and conv_c stay float, in whatever form it fuses).
 */
async function quantizeExcludingB(chain: ReturnType<typeof convChain>) {
  const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
  const result = await quantizeModel(chain.model, {
    mode: 'static',
    executor,
    calibrationData: drawSamples(chain, 4, 3),
    exclude: ['conv_b'],
  });
  const decision = (name: string) => result.plan.decisions.find((d) => d.name === name)!;
  expect(decision('conv_a').quantized).toBe(true);
  expect(decision('conv_b').reason).toBe('excluded by "conv_b"');
  expect(decision('conv_c').quantized).toBe(false);
  expect(decision('conv_c').reason).toMatch(/^it reads the output of Conv "conv_b", which stays float/);
  expect(result.summary.verification).toMatchObject({ verified: true });
  const ops = decodeModel(await ortOptimizedModel(result.bytes)).graph.nodes.map((n) => n.opType);
  expect(ops).not.toContain('Round');
  expect(ops.filter((op) => op === 'QLinearConv')).toHaveLength(1);
}

describe('a float Conv between quantized neighbours', () => {
  // onnxruntime quantizes a float Conv that reads a DequantizeLinear and feeds a QuantizeLinear when it loads the
  // model; below opset 11 the Round it writes for the bias does not exist and the model fails to load.
  it.each([
    10, 13,
  ])('stays float at opset %i: its readers stay float too, and onnxruntime loads and keeps it float', async (opset) => {
    await quantizeExcludingB(convChain(opset));
  });

  // onnxruntime drops a Relu before a QuantizeLinear whose range starts at 0 first, which makes Conv -> Relu -> Q a
  // Conv between DQ and Q again.
  it('stays float with a Relu after it, which onnxruntime would remove before a Q', async () => {
    await quantizeExcludingB(convChain(10, true));
  });
});
