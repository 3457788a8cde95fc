import { builtinRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';

describeConformance('wasm-simd', builtinRuntimePlugins, {
  testedElsewhere: {
    'ai.quantkit:*':
      'packed-kernels.test.ts (both backends) and wasm/kernels/packed-gemm.test.ts: against the stock form in ' +
      'onnxruntime and the JS kernels',
  },
});
