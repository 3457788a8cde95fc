import { type ExecutorPlugin, createTensor } from '@quantkit/core';
import { createOrtExecutor } from '@quantkit/executor-ort';
import { createModel, decodeModel, subgraphsOf } from '@quantkit/onnx';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { quantizedRegions, searchKeptFloat } from './latency-guard.js';
import { planModel, quantizeModel } from './quantize-model.js';
import {
  createRandom,
  drawSamples,
  gaussianTensor,
  node,
  randomTensor,
  twoRegionModel,
} from './test-models.js';

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Spin: a timer would round to whole milliseconds and let the event loop decide.
  }
}

/** The graph of a model the guard times; calibration's copies (outputs added in the bytes) are not timed. */
function modelGraph(bytes: Uint8Array) {
  try {
    return decodeModel(bytes).graph;
  } catch {
    return undefined;
  }
}

type TestGraph = NonNullable<ReturnType<typeof modelGraph>>;

/**
 * onnxruntime-node, each run spinning for `costOf` milliseconds of the session's model (undefined for models that
 * do not decode: calibration's copies with outputs added in the bytes, which are not timed).
 */
function timedExecutor(name: string, costOf: (graph: TestGraph | undefined) => number): ExecutorPlugin {
  const inner = createOrtExecutor(ort, { name: 'ort-node', graphOptimizationLevel: 'all' });
  return {
    ...inner,
    name,
    async createSession(bytes, options) {
      const cost = costOf(modelGraph(bytes));
      const session = await inner.createSession(bytes, options);
      return {
        ...session,
        inputs: session.inputs,
        outputs: session.outputs,
        async run(sample, fetch) {
          busyWait(cost);
          return session.run(sample, fetch);
        },
        dispose: () => session.dispose(),
      };
    },
  };
}

/**
 * onnxruntime-node with a cost model on top, so the guard's decisions do not hang on this machine's timing: each
 * run also spins 1 ms, plus 0.5 ms per QuantizeLinear (a conversion each run), minus 0.1 ms per thousand weight
 * elements of a Gemm whose weight is dequantized (what its integer kernel saves). Quantized as planned, the model
 * costs more than float (the narrow Gemm saves less than its conversions cost); with the narrow region float it
 * costs less. `refuse` makes session creation fail for the models it picks.
 */
function costModelExecutor(refuse?: (graph: TestGraph) => boolean): ExecutorPlugin {
  return timedExecutor('cost-model', (graph) => {
    if (graph !== undefined && refuse?.(graph)) throw new Error('refused by the test executor');
    let cost = 1;
    for (const n of graph?.nodes ?? []) {
      if (n.opType === 'QuantizeLinear') cost += 0.5;
      const weight = n.opType === 'Gemm' ? graph!.producer(n.inputs[1]!) : undefined;
      if (weight?.opType === 'DequantizeLinear') {
        const codes = graph!.getConstant(weight.inputs[0]!);
        cost -= (codes === undefined ? 0 : codes.data.length / 1000) * 0.1;
      }
    }
    return Math.max(0.05, cost);
  });
}

describe('quantizedRegions', () => {
  it('groups quantized nodes joined by values and puts the region with the least compute per boundary first', async () => {
    const { model } = twoRegionModel();
    const { plan, model: planned } = await planModel(model, { mode: 'static' });
    const regions = quantizedRegions(planned.graph, plan.decisions);
    expect(regions.map((region) => region.nodes)).toEqual([
      ['narrow', 'narrow_relu'],
      ['wide', 'wide_relu'],
    ]);
    // 256 x 8 weights over 2 boundary values (e1 in, y out) against 64 x 256 over 2 (x in, r1 out).
    expect(regions.map((region) => region.score)).toEqual([1024, 8192]);
  });

  it('finds no region in a plan that quantizes nothing', async () => {
    const { model } = twoRegionModel();
    const { plan, model: planned } = await planModel(model, { mode: 'static', exclude: ['*'] });
    expect(quantizedRegions(planned.graph, plan.decisions)).toEqual([]);
  });
});

describe('searchKeptFloat', () => {
  it('finds the fewest regions to keep float when the ratio falls as regions go float', async () => {
    const seed = 20261207;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: 0, max: 0.5, noNaN: true }), { minLength: 40, maxLength: 40 }),
        fc.double({ min: 0.5, max: 1.5, noNaN: true }),
        async (count, drops, start) => {
          // ratio(k) = start + 0.3 - (sum of the first k drops): falling in k, like reverting regions.
          const ratio = (k: number) => start + 0.3 - drops.slice(0, k).reduce((a, b) => a + b, 0);
          fc.pre(ratio(0) > 1);
          const timed: number[] = [];
          const found = await searchKeptFloat(
            count,
            (value) => value <= 1,
            { result: 0, value: ratio(0) },
            async (k) => {
              timed.push(k);
              return { result: k, value: ratio(k) };
            },
          );
          const fewest = Array.from({ length: count + 1 }, (_, k) => k).find((k) => ratio(k) <= 1) ?? count;
          expect(found.count).toBe(fewest);
          expect(found.result).toBe(fewest);
          expect(found.trials[0]).toEqual({ reverted: 0, value: ratio(0) });
          // A binary search: about log2(count) timings, never the same count twice.
          expect(new Set(timed).size).toBe(timed.length);
          expect(timed.length).toBeLessThanOrEqual(Math.ceil(Math.log2(count + 1)) + 1);
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('treats a configuration it could not measure as not passing', async () => {
    const found = await searchKeptFloat(
      4,
      (value) => value <= 1,
      { result: -1, value: 2 },
      async (k) => ({ result: k, value: k < 4 ? undefined : 0.9 }),
    );
    expect(found.count).toBe(4);
    expect(found.value).toBe(0.9);
    expect(found.trials.map((trial) => trial.reverted)).toEqual([0, 4]);
  });
});

describe('quantizeModel with latencyGuard', () => {
  const { model, sample } = twoRegionModel();
  const calibrationData = drawSamples({ model, sample }, 4, 5);

  it('keeps the region that does not pay float, records it in the recipe, and a run from the recipe writes the same model', async () => {
    const executor = costModelExecutor();
    const result = await quantizeModel(model, {
      mode: 'static',
      executor,
      calibrationData,
      latencyGuard: true,
    });
    const guard = result.summary.latencyGuard;
    expect(guard?.ran).toBe(true);
    if (guard?.ran !== true) return;
    expect(guard.regions).toBe(2);
    expect(guard.trials[0]!.ratio).toBeGreaterThan(1);
    expect(guard.reverted.map((region) => region.nodes)).toEqual([['narrow', 'narrow_relu']]);
    expect(guard.ratio).toBeLessThanOrEqual(1);
    const decision = (name: string) => result.plan.decisions.find((d) => d.name === name)!;
    expect(decision('wide').quantized).toBe(true);
    expect(decision('narrow').quantized).toBe(false);
    expect(decision('narrow').reason).toMatch(
      /^kept float by the latency guard: quantized, the model ran \d\.\d\dx/,
    );
    expect(result.summary.recipe.keepFloat?.map((entry) => entry.node)).toEqual(['narrow', 'narrow_relu']);
    // The written model runs and keeps the narrow Gemm float: no DequantizeLinear feeds it.
    const written = decodeModel(result.bytes).graph;
    const narrow = written.nodes.find((n) => n.name === 'narrow')!;
    expect(written.producer(narrow.inputs[1]!)?.opType).not.toBe('DequantizeLinear');

    const again = await quantizeModel(model, {
      mode: 'static',
      executor,
      calibrationCache: result.calibrationCache!,
      keepFloat: result.summary.recipe.keepFloat!,
      calibrationData,
    });
    expect(again.bytes).toEqual(result.bytes);
  });

  it('leaves a model that is not slower as planned, and says why it could not time one', async () => {
    const executor = costModelExecutor();
    const fast = await quantizeModel(model, {
      mode: 'static',
      executor,
      calibrationData,
      exclude: ['narrow*'],
      latencyGuard: true,
    });
    expect(fast.summary.latencyGuard).toMatchObject({ ran: true, reverted: [] });
    expect(fast.summary.recipe.keepFloat).toBeUndefined();

    const untimed = await quantizeModel(model, { mode: 'dynamic', latencyGuard: true });
    expect(untimed.summary.latencyGuard).toEqual({ ran: false, reason: 'no executor to time the models in' });
    await expect(quantizeModel(model, { mode: 'dynamic', latencyGuard: { maxRatio: 0 } })).rejects.toThrow(
      /latencyGuard\.maxRatio.* must be a positive number, got 0/,
    );
  });

  it('skips a variant the executor refuses, says so, and goes on searching', async () => {
    // The variant with only the narrow region float is refused, as onnxruntime refused a float Conv it rewrote.
    const narrowFloat = (graph: TestGraph) => {
      const dequantized = (name: string) =>
        graph.producer(graph.nodes.find((n) => n.name === name)!.inputs[1]!)?.opType === 'DequantizeLinear';
      return dequantized('wide') && !dequantized('narrow');
    };
    const result = await quantizeModel(model, {
      mode: 'static',
      executor: costModelExecutor(narrowFloat),
      calibrationData,
      latencyGuard: true,
    });
    const guard = result.summary.latencyGuard;
    if (guard?.ran !== true) throw new Error('the guard did not run');
    expect(guard.refused).toEqual([
      { reverted: 1, message: expect.stringMatching(/refused by the test executor/) },
    ]);
    // Both regions float: the only configuration left that passes.
    expect(guard.reverted.map((region) => region.nodes)).toEqual([
      ['narrow', 'narrow_relu'],
      ['wide', 'wide_relu'],
    ]);
  });

  it('times a small slowdown again before keeping anything float', async () => {
    // The quantized model's first two sessions (verification's run and its timing) run 5% slow, as on a busy
    // machine; sessions after that run 5% fast.
    let quantizedSessions = 0;
    const wandering = timedExecutor('wandering', (graph) => {
      const quantized = graph?.nodes.some((n) => n.opType === 'QuantizeLinear') === true;
      return quantized ? (quantizedSessions++ < 2 ? 1.05 : 0.95) : graph === undefined ? 0 : 1;
    });
    const result = await quantizeModel(model, {
      mode: 'static',
      executor: wandering,
      calibrationData,
      latencyGuard: true,
    });
    const guard = result.summary.latencyGuard;
    if (guard?.ran !== true) throw new Error('the guard did not run');
    expect(result.summary.verification).toMatchObject({ latency: { ratio: expect.any(Number) } });
    expect(guard.reverted).toEqual([]);
    expect(guard.trials).toHaveLength(1);
    expect(guard.trials[0]!.ratio).toBeLessThan(1);
    expect(result.summary.recipe.keepFloat).toBeUndefined();
  });

  it('keeps a MatMul inside an If branch float in dynamic mode, where it runs integer kernels', async () => {
    const r = createRandom(17);
    const then = createModel({
      opset: 13,
      graphName: 'then',
      inputs: [],
      outputs: [{ name: 'then_out', dtype: 'float32' }],
      initializers: { w_then: gaussianTensor([64, 64], r, 0.1) },
      nodes: [node('MatMul', ['x', 'w_then'], ['then_out'], {}, 'then_mm')],
    }).graph;
    const otherwise = createModel({
      opset: 13,
      graphName: 'else',
      inputs: [],
      outputs: [{ name: 'else_out', dtype: 'float32' }],
      nodes: [node('Identity', ['x'], ['else_out'], {}, 'else_id')],
    }).graph;
    const branchy = createModel({
      opset: 13,
      inputs: [
        { name: 'x', dtype: 'float32', shape: [1, 64] },
        { name: 'cond', dtype: 'bool', shape: [] },
      ],
      outputs: [{ name: 'y', dtype: 'float32', shape: [1, 64] }],
      nodes: [
        node(
          'If',
          ['cond'],
          ['y'],
          { then_branch: { type: 'graph', value: then }, else_branch: { type: 'graph', value: otherwise } },
          'branch',
        ),
      ],
    });
    // Each dynamic quantization op (DynamicQuantizeLinear, DynamicQuantizeMatMul), wherever it is, costs 2 ms a run:
    // quantized, the model is slower than float.
    const count = (graph: TestGraph): number =>
      graph.nodes.reduce(
        (sum, n) =>
          sum +
          (n.opType.startsWith('DynamicQuantize') ? 1 : 0) +
          subgraphsOf(n).reduce((s, g) => s + count(g), 0),
        0,
      );
    const executor = timedExecutor('cost-model', (graph) => 1 + 2 * (graph === undefined ? 0 : count(graph)));
    const sample = {
      x: randomTensor([1, 64], createRandom(3)),
      cond: createTensor('bool', [], Uint8Array.of(1)),
    };
    const result = await quantizeModel(branchy, {
      mode: 'dynamic',
      executor,
      verifySample: sample,
      latencyGuard: true,
    });
    const guard = result.summary.latencyGuard;
    if (guard?.ran !== true) throw new Error(`the guard did not run: ${JSON.stringify(guard)}`);
    expect(guard.trials[0]!.ratio).toBeGreaterThan(1.5);
    expect(guard.reverted).toEqual([{ nodes: ['then_mm'], score: 0 }]);
    const decision = result.summary.nodes.find((d) => d.name === 'then_mm')!;
    expect(decision.scope).toBe('branch/then_branch');
    expect(decision.quantized).toBe(false);
    expect(decision.reason).toMatch(/^kept float by the latency guard: .* its region \(1 node\) is among/);
  });
});
