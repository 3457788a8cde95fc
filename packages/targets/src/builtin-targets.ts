import type { TargetPlugin } from '@quantkit/core';
import { arm64Target } from './profiles/arm64.js';
import { gpuTensorrtTarget } from './profiles/gpu-tensorrt.js';
import { hisiliconLogTarget } from './profiles/hisilicon-log.js';
import { wasmTarget } from './profiles/wasm.js';
import { x86Avx2Target } from './profiles/x86-avx2.js';
import { x86VnniTarget } from './profiles/x86-vnni.js';

/**
 * Every built-in target profile, in detection order: the most specific host match first (x86-vnni before
 * x86-avx2, which matches any x86), wasm last as the browser's profile. Nothing is registered; pass the list to
 * `createRegistry`.
 *
 * @example
 * const registry = createRegistry([...builtinTargets]);
 * registry.get('target', 'x86-vnni');
 */
export const builtinTargets: readonly TargetPlugin[] = [
  x86VnniTarget,
  x86Avx2Target,
  arm64Target,
  gpuTensorrtTarget,
  hisiliconLogTarget,
  wasmTarget,
];
