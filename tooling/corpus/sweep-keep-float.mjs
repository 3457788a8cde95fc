// Does every model the latency guard and --min-sqnr can write load and run? For each corpus model, quantize with
// each quantized region kept float alone, and with every prefix of the guard's order (the configurations its
// binary search may try), and count the variants quantkit or onnxruntime refuses. Slow: one run per variant.
// Usage: node sweep-keep-float.mjs model-id[,model-id] [mode]   (mode: static, the default, or dynamic)
import { readFileSync } from 'node:fs';
import { planModel, quantizeModel, quantizedRegions } from '@quantkit/quantize';
import { loadCorpus, synthesizeInputs } from './corpus.mjs';
import { CALIBRATION_SEEDS, executors } from './run-corpus.mjs';

const [ids, mode = 'static'] = process.argv.slice(2);
if (ids === undefined) {
  console.error('usage: node sweep-keep-float.mjs model-id[,model-id] [static|dynamic]');
  process.exit(2);
}
let failed = 0;
for (const entry of loadCorpus().filter((candidate) => ids.split(',').includes(candidate.id))) {
  const bytes = readFileSync(entry.file);
  const calibrationData = CALIBRATION_SEEDS.map((seed) => synthesizeInputs(entry, seed));
  const options = { mode, executor: executors.node, calibrationData };
  const first = await quantizeModel(bytes, options);
  const { model } = await planModel(bytes, options);
  const regions = quantizedRegions(model.graph, first.plan.decisions);
  const variants = [...regions.map((region) => [region]), ...regions.map((_, i) => regions.slice(0, i + 1))];
  let refused = 0;
  for (const kept of variants) {
    const keepFloat = kept.flatMap((region) => region.nodes.map((node) => ({ node, reason: 'sweep' })));
    try {
      await quantizeModel(bytes, { ...options, keepFloat });
    } catch (error) {
      refused++;
      if (refused <= 3) {
        console.log(
          `${entry.id}: keeping ${kept
            .map((r) => r.nodes[0])
            .join(', ')
            .slice(0, 120)} float: ${error.message}`,
        );
      }
    }
  }
  failed += refused;
  console.log(`${entry.id} ${mode}: ${variants.length} variants, ${refused} refused`);
}
process.exit(failed > 0 ? 1 : 0);
