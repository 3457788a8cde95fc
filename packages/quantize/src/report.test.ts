import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { formatSuggestion, parseReportHtml, renderReportHtml } from './index.js';
import type { QuantOverrides } from './overrides.js';
import { quantizeModel } from './quantize-model.js';
import { cnnModel, createRandom } from './test-models.js';

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
});
