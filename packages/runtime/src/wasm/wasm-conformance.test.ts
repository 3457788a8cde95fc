import type { Plugin } from '@quantkit/core';
import { builtinRuntimePlugins } from '../builtins.js';
import { describeConformance } from '../conformance/describe-conformance.js';
import { wasmSimdBackend, wasmSimdKernels } from './index.js';

describeConformance('wasm-simd', [
  ...builtinRuntimePlugins,
  wasmSimdBackend as Plugin,
  ...(wasmSimdKernels as readonly Plugin[]),
]);
