import { jsRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';

const PACKED =
  'packed-kernels.test.ts: the packed model against the stock form of the same codes in onnxruntime';
describeConformance('js', jsRuntimePlugins, {
  testedElsewhere: {
    ':If': 'control-flow.test.ts, on models with subgraphs',
    ':Loop': 'control-flow.test.ts, on models with subgraphs',
    'ai.quantkit:Conv': PACKED,
    'ai.quantkit:Gemm': PACKED,
    'ai.quantkit:MatMul': PACKED,
  },
});
