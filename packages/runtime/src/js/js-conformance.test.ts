import { jsRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';

describeConformance('js', jsRuntimePlugins, {
  testedElsewhere: {
    ':If': 'control-flow.test.ts, on models with subgraphs',
    ':Loop': 'control-flow.test.ts, on models with subgraphs',
    'ai.quantkit:*':
      'packed-kernels.test.ts and packed-weight-kernel.test.ts: packed models against the stock form of the same ' +
      'codes in onnxruntime',
  },
});
