// Clamps that guard a Log or a divisor: Clip(min = 1e-10) keeps Log finite in the float model, but an 8-bit grid
// starting at 0 rounds 1e-10 to exactly 0. The readers that need positive values must read float ones.
import { type Tensor, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { type Attribute, type Model, createModel, encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { createRandom, node, randomTensor } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });

type Guard = 'Log' | 'Div' | 'Reciprocal' | 'Sqrt' | 'Pow';

/**
 * x [4, 8] -> MatMul -> Clip(min = 1e-10) -> guard -> g. With `alsoMatMul`, the clamp feeds a second MatMul too
 * (output d), so its Q/DQ pair stays for that reader while the guard reads the float value.
 */
function clampedModel(opset: number, guard: Guard, alsoMatMul: boolean): Model {
  const random = createRandom(opset * 31 + guard.length);
  const clipInputs = opset >= 11 ? ['h', 'lo'] : ['h'];
  const clipAttributes: Record<string, Attribute> = opset >= 11 ? {} : { min: { type: 'float', value: 1e-10 } };
  const guardNode =
    guard === 'Div'
      ? node('Div', ['one', 'c'], ['g'], {}, 'guard')
      : guard === 'Pow'
        ? node('Pow', ['c', 'minus_half'], ['g'], {}, 'guard')
        : node(guard, ['c'], ['g'], {}, 'guard');
  const nodes = [node('MatMul', ['x', 'w'], ['h'], {}, 'mm'), node('Clip', clipInputs, ['c'], clipAttributes, 'clip'), guardNode];
  if (alsoMatMul) nodes.push(node('MatMul', ['c', 'w2'], ['d'], {}, 'mm2'));
  return createModel({
    opset,
    inputs: [{ name: 'x', dtype: 'float32', shape: [4, 8] }],
    outputs: [
      { name: 'g', dtype: 'float32', shape: [4, 8] },
      ...(alsoMatMul ? [{ name: 'd', dtype: 'float32' as const, shape: [4, 8] }] : []),
    ],
    initializers: {
      w: randomTensor([8, 8], random, 0.5),
      w2: randomTensor([8, 8], random, 0.5),
      lo: createTensor('float32', [], Float32Array.of(1e-10)),
      one: createTensor('float32', [], Float32Array.of(1)),
      minus_half: createTensor('float32', [], Float32Array.of(-0.5)),
    },
    nodes,
  });
}

async function run(model: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Float32Array>> {
  const session = await executor.createSession(model);
  try {
    const outputs = await session.run(feeds);
    return Object.fromEntries(Object.entries(outputs).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  } finally {
    await session.dispose();
  }
}

/** The clamp's value c back from the guard's float output g. */
const clampOf: Record<Guard, (g: number) => number> = {
  Log: (g) => Math.exp(g),
  Div: (g) => 1 / g,
  Reciprocal: (g) => 1 / g,
  Sqrt: (g) => g * g,
  Pow: (g) => 1 / (g * g),
};

describe('values that a Log or a divisor needs above zero', () => {
  const random = createRandom(77);
  const samples = Array.from({ length: 4 }, () => ({ x: randomTensor([4, 8], random) }));
  const guards: Guard[] = ['Log', 'Div', 'Reciprocal', 'Sqrt', 'Pow'];
  for (const opset of [10, 13, 17, 21]) {
    for (const guard of guards) {
      for (const alsoMatMul of [false, true]) {
        it(`stay finite through Clip -> ${guard} at opset ${opset}${alsoMatMul ? ' with a quantized reader beside it' : ''}`, async () => {
          const float = encodeModel(clampedModel(opset, guard, alsoMatMul));
          for (const format of ['qdq', 'qoperator'] as const) {
            // verify: false, so what is checked here is the written model, not the pipeline's own refusal.
            const result = await quantizeModel(float, {
              mode: 'static',
              format,
              executor,
              calibrationData: samples,
              verify: false,
            });
            const clip = result.summary.nodes.find((decision) => decision.name === 'clip')!;
            expect(clip.quantized).toBe(alsoMatMul);
            for (const sample of samples) {
              const [expected, actual] = await Promise.all([run(float, sample), run(result.bytes, sample)]);
              for (const [name, values] of Object.entries(actual)) {
                for (let i = 0; i < values.length; i++) {
                  expect(Number.isFinite(values[i]), `${format} ${name}[${i}] = ${values[i]}`).toBe(true);
                }
              }
              // Where the clamp's value is well above the activation grid's step the guard's result is close; near 0
              // a log or a reciprocal magnifies any quantization error of the MatMul before it.
              const [g, reference] = [actual['g']!, expected['g']!];
              for (let i = 0; i < g.length; i++) {
                if (clampOf[guard](reference[i]!) < 0.25) continue;
                expect(Math.abs(g[i]! - reference[i]!), `${format} g[${i}]`).toBeLessThan(
                  0.2 * Math.max(1, Math.abs(reference[i]!)),
                );
              }
            }
          }
        });
      }
    }
  }
});
