import { createOrtExecutor } from '@quantkit/executor-ort';
import { encodeModel } from '@quantkit/onnx';
import * as ort from 'onnxruntime-node';
import { it } from 'vitest';
import { quantizeModel } from './quantize-model.js';
import { attentionModel, cnnModel, createRandom } from './test-models.js';
const executor = createOrtExecutor(ort, { name: 'ort-node' });
it('dump', async () => {
  for (const t of [cnnModel(), attentionModel()]) {
    const r = createRandom(1);
    const res = await quantizeModel(encodeModel(t.model), { mode: 'static', executor, calibrationData: Array.from({ length: 4 }, () => t.sample(r)) });
    const g = res.model.graph;
    for (const n of g.nodes) console.log(n.domain, n.opType, n.name, JSON.stringify(n.inputs), '->', JSON.stringify(n.outputs), [...n.attributes].map(([k, a]) => `${k}=${JSON.stringify(a.value)}`).join(' '));
    for (const [k, v] of g.initializers) if (v.data.length < 20) console.log('init', k, v.dtype, JSON.stringify(v.shape), Array.from(v.data as ArrayLike<number>).slice(0, 4).join(','));
    console.log(res.model.opsetImports);
  }
});
