// The rules against reality: every model a rule rejects must also fail in onnxruntime (node, and web for the
// wasm target), and the corrected model must pass the checker and run.
import type { TargetPlugin } from '@quantkit/core';
import { type Model, encodeModel } from '@quantkit/onnx';
import * as ortNode from 'onnxruntime-node';
import * as ortWeb from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkModel } from './check-model.js';
import { wasmTarget } from './profiles/wasm.js';
import { x86VnniTarget } from './profiles/x86-vnni.js';
import { int32DequantizeModel, integerOpModel, qdqConvModel, qdqModel } from './test-models.js';

type Ort = typeof ortNode;
type Outcome = { ok: true; outputs: Record<string, ArrayLike<number | bigint>> } | { ok: false; error: string };

beforeAll(() => {
  ortWeb.env.wasm.numThreads = 1;
  ortNode.env.logLevel = 'fatal';
});

/** Loads and runs a model with ones (or small integers) as input; reports the failure message instead of throwing. */
async function runIn(ort: Ort, model: Model): Promise<Outcome> {
  try {
    const session = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 4 });
    const feeds: Record<string, ortNode.Tensor> = {};
    for (const input of model.graph.inputs) {
      const shape = input.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      if (input.dtype === 'float32') feeds[input.name] = new ort.Tensor('float32', Float32Array.from({ length: size }, (_, i) => (i % 7) / 7 - 0.3), shape);
      else if (input.dtype === 'int8') feeds[input.name] = new ort.Tensor('int8', Int8Array.from({ length: size }, (_, i) => i - 2), shape);
      else feeds[input.name] = new ort.Tensor('uint8', Uint8Array.from({ length: size }, (_, i) => i + 1), shape);
    }
    const results = await session.run(feeds);
    await session.release();
    return { ok: true, outputs: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.data as ArrayLike<number>])) };
  } catch (error) {
    return { ok: false, error: String((error as Error).message ?? error) };
  }
}

const errorRules = (model: Model, target: TargetPlugin) =>
  checkModel(model, target)
    .filter((issue) => issue.severity === 'error')
    .map((issue) => issue.rule);

interface Case {
  readonly title: string;
  readonly rule: string;
  readonly bad: () => Model;
  readonly good: () => Model;
  /** Part of onnxruntime's error message, to be sure it fails for the reason the rule names. */
  readonly ortSays: RegExp;
}

const cases: Case[] = [
  {
    title: 's8 x s8 ConvInteger',
    rule: 'ort-integer-kernels',
    bad: () => integerOpModel('ConvInteger', 'int8', 'int8'),
    good: () => integerOpModel('ConvInteger', 'uint8', 'uint8'),
    ortSays: /Could not find an implementation for ConvInteger/,
  },
  {
    title: 'u8 x s8 ConvInteger',
    rule: 'ort-integer-kernels',
    bad: () => integerOpModel('ConvInteger', 'uint8', 'int8'),
    good: () => integerOpModel('ConvInteger', 'uint8', 'uint8'),
    ortSays: /Could not find an implementation for ConvInteger/,
  },
  {
    title: 's8 x u8 MatMulInteger',
    rule: 'ort-integer-kernels',
    bad: () => integerOpModel('MatMulInteger', 'int8', 'uint8'),
    good: () => integerOpModel('MatMulInteger', 'int8', 'int8'),
    ortSays: /Could not find an implementation for MatMulInteger/,
  },
  {
    title: 'per-channel ONNX DequantizeLinear at opset 12',
    rule: 'per-axis-qdq-opset',
    bad: () => qdqConvModel({ opset: 12 }),
    good: () => qdqConvModel({ opset: 12, domain: 'com.microsoft' }),
    ortSays: /axis|invalid model|\d+/,
  },
  {
    title: 'int16 ONNX Q/DQ at opset 19',
    rule: 'wide-qdq-opset',
    bad: () => qdqModel({ opset: 19, dtype: 'int16' }),
    good: () => qdqModel({ opset: 19, dtype: 'int16', domain: 'com.microsoft' }),
    ortSays: /tensor\(int16\)/,
  },
  {
    title: 'int4 ONNX Q/DQ at opset 19',
    rule: 'wide-qdq-opset',
    bad: () => qdqModel({ opset: 19, dtype: 'int4' }),
    good: () => qdqModel({ opset: 21, dtype: 'int4' }),
    ortSays: /tensor\(int4\)/,
  },
  {
    title: 'float8 Q/DQ at opset 18',
    rule: 'float8-opset',
    bad: () => qdqModel({ opset: 18, dtype: 'float8e4m3fn' }),
    good: () => qdqModel({ opset: 19, dtype: 'float8e4m3fn' }),
    ortSays: /float8e4m3fn/,
  },
  {
    title: 'ONNX Q/DQ at opset 9',
    rule: 'qdq-opset',
    bad: () => qdqModel({ opset: 9, dtype: 'uint8' }),
    good: () => qdqModel({ opset: 10, dtype: 'uint8' }),
    ortSays: /QuantizeLinear|\d+/,
  },
  {
    title: 'int32 bias DequantizeLinear with zero point 7',
    rule: 'int32-zero-point',
    bad: () => int32DequantizeModel(7),
    good: () => int32DequantizeModel(0),
    ortSays: /zero point|\d+/,
  },
  {
    title: 'per-channel Conv weight zero points 3 and 4',
    rule: 'uniform-weight-zero-points',
    bad: () => qdqConvModel({ weight: 'int8', weightZeroPoints: [3, 4] }),
    good: () => qdqConvModel({ weight: 'int8', weightZeroPoints: [3, 3] }),
    ortSays: /zero point of per-channel filter must be same|\d+/,
  },
];

describe.each([
  ['onnxruntime-node', ortNode as Ort, x86VnniTarget],
  ['onnxruntime-web', ortWeb as unknown as Ort, wasmTarget],
] as const)('%s', (runtime, ort, target) => {
  it.each(cases.map((c) => [c.title, c] as const))('%s: the checker and onnxruntime both reject it', async (_, c) => {
    expect(errorRules(c.bad(), target)).toContain(c.rule);
    const bad = await runIn(ort, c.bad());
    expect(bad.ok, `${runtime} ran a model the checker rejects`).toBe(false);
    // onnxruntime-web reports some load failures as a bare number (a wasm exception pointer), hence the \d+.
    if (!bad.ok) expect(bad.error).toMatch(c.ortSays);
    expect(errorRules(c.good(), target)).toEqual([]);
    const good = await runIn(ort, c.good());
    expect(good.ok ? 'ran' : good.error).toBe('ran');
  });
});

describe('int32 bias zero points fused into QLinearConv', () => {
  it('are ignored by onnxruntime, so the rule also prevents silently wrong results', async () => {
    // A zero point of 3000 should move the bias by 3000 x 0.0002 = 0.6, twelve output steps.
    expect(errorRules(qdqConvModel({ biasZeroPoint: 3000 }), x86VnniTarget)).toContain('int32-zero-point');
    const fused = await runIn(ortNode as Ort, qdqConvModel({ biasZeroPoint: 3000 }));
    const plain = await runIn(ortNode as Ort, qdqConvModel({ biasZeroPoint: 0 }));
    expect(fused.ok && plain.ok).toBe(true);
    if (fused.ok && plain.ok) expect(Array.from(fused.outputs['y']!)).toEqual(Array.from(plain.outputs['y']!));
  });
});

describe('a model the checker passes runs in onnxruntime-node with the expected result', () => {
  it('static u8 x s8 per-channel QDQ Conv matches a reference computed from the Q/DQ definitions', async () => {
    const model = qdqConvModel();
    expect(checkModel(model, x86VnniTarget)).toEqual([]);
    const result = await runIn(ortNode as Ort, model);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const constant = (name: string) => Array.from(model.graph.getConstant(name)!.data as ArrayLike<number>, Number);
    const round = (v: number) => {
      const r = Math.round(v);
      return Math.abs(v - Math.trunc(v)) === 0.5 ? 2 * Math.round(v / 2) : r;
    };
    const qdq = (v: number, s: number, z: number, lo: number, hi: number) => (Math.min(hi, Math.max(lo, round(v / s) + z)) - z) * s;
    const [xs] = constant('x_scale');
    const [xz] = constant('x_zero');
    const x = Array.from({ length: 16 }, (_, i) => qdq((i % 7) / 7 - 0.3, xs!, xz!, 0, 255));
    const w = constant('w_q');
    const ws = constant('w_scale');
    const bias = constant('b_q').map((b, m) => b * constant('b_scale')[m]!);
    const [ys] = constant('y_scale');
    const [yz] = constant('y_zero');
    const expected: number[] = [];
    for (let m = 0; m < 2; m++) {
      for (let oy = 0; oy < 2; oy++) {
        for (let ox = 0; ox < 2; ox++) {
          let sum = bias[m]!;
          for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) sum += x[(oy + ky) * 4 + ox + kx]! * w[m * 9 + ky * 3 + kx]! * ws[m]!;
          expected.push(qdq(sum, ys!, yz!, 0, 255));
        }
      }
    }
    const actual = Array.from(result.outputs['y']! as ArrayLike<number>);
    expect(actual).toHaveLength(8);
    // onnxruntime requantizes in integer arithmetic, so a result may land one output step away from the float path.
    for (const [i, value] of actual.entries()) expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(ys! + 1e-6);
    expect(expected.some((value) => value !== 0)).toBe(true);
  });
});
