import { builtinRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';

describeConformance('wasm-simd', builtinRuntimePlugins);
