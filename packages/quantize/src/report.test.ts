import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { formatSuggestion, parseReportHtml, renderReportHtml } from './index.js';
import type { QuantOverrides } from './overrides.js';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom, drawSamples, twoRegionModel } from './test-models.js';

const executor = createOrtExecutor(ort, { name: 'ort-node' });

describe('the report through @quantkit/quantize', () => {
  it("renders a run's report as a page and reads it back with the pipeline's types", async () => {
    const test = cnnModel(41);
    const random = createRandom(2);
    const result = await quantizeModel(encodeModel(test.model), {
      mode: 'static',
      executor,
      calibrationData: Array.from({ length: 10 }, () => test.sample(random)),
      overrides: { nodes: { Conv_c2: { bits: 2, granularity: 'tensor' } } },
      report: { modelName: 'cnn.onnx' },
    });
    const report = result.report!;
    const html = renderReportHtml(report, { chartScript: 'window.Chart = undefined;' });
    const parsed = parseReportHtml(html);
    expect(parsed).toEqual(report);
    // Typed as QuantizeReport: the recipe is the pipeline's and a suggestion is an overrides document.
    expect(parsed.recipe.mode).toBe('static');
    const suggestion = parsed.layers.find((layer) => layer.node === 'Conv_c2')!.suggestion!;
    const override: QuantOverrides = suggestion.override;
    expect(override).toEqual({ nodes: { Conv_c2: { bits: 8, granularity: 'channel' } } });
    expect(html).toContain(formatSuggestion(suggestion).replace(/"/g, '&quot;'));
  });

  it("renders a fidelity floor's sensitivity, the latency and the nodes kept float into the page", async () => {
    const chain = twoRegionModel();
    const calibrationData = drawSamples(chain, 4, 9);
    const base = { mode: 'weight-only', bits: 2, granularity: 'channel', executor, calibrationData } as const;
    const result = await quantizeModel(chain.model, {
      ...base,
      minSqnr: Number.MAX_VALUE,
      measureLatency: true,
      report: { modelName: 'chain.onnx' },
    });
    const report = result.report!;
    const html = renderReportHtml(report, { chartScript: 'window.Chart = undefined;' });
    expect(parseReportHtml(html)).toEqual(report);
    // An unreachable floor keeps every region float: each kept node is a float row with its region's measure.
    const fidelity = result.summary.fidelity!;
    expect(fidelity.kept).toHaveLength(fidelity.sensitivity.length);
    for (const region of fidelity.kept) {
      for (const name of region.nodes) {
        const row = new RegExp(
          `<tr data-name="${name}" data-op="[^"]*" data-status="float"><td class="name">${name}</td>\\n<td>[^<]*</td><td>float \\(fidelity floor\\)</td><td class="num">–</td>\\n<td class="num" data-value="${region.sqnr}">`,
        );
        expect(html).toMatch(row);
      }
    }
    expect(html).toContain('<h2>Fidelity and latency</h2>');
    const verification = report.summary.verification!;
    if (!verification.verified || verification.latency === undefined) throw new Error('latency not measured');
    expect(html).toContain(`float <b>${verification.latency.floatMs.toFixed(3)} ms</b>`);
  });
});
