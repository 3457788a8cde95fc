export { builtinRules } from './builtin-rules.js';
export { builtinTargets } from './builtin-targets.js';
export { type CheckModelOptions, checkModel } from './check-model.js';
export {
  type CompatibilityIssue,
  type CompatibilityRule,
  type GraphNode,
  type RuleContext,
  type RuleFinding,
  createRuleContext,
} from './compatibility-rule.js';
export { type DetectTargetOptions, detectTarget, probeHost } from './detect-target.js';
export { formatIssues, issueParts } from './format-issues.js';
export { WASM_SIMD_PROBE, hasWasmSimd } from './has-wasm-simd.js';
export {
  ORT_INTEGER_KERNELS,
  ORT_KERNELS,
  ORT_PRECISIONS,
  ORT_QUANTIZED_OPS,
} from './onnxruntime-kernels.js';
export { parseCpuFlags } from './parse-cpu-flags.js';
export { arm64Target } from './profiles/arm64.js';
export { gpuTensorrtTarget } from './profiles/gpu-tensorrt.js';
export { hisiliconLogTarget } from './profiles/hisilicon-log.js';
export { wasmTarget } from './profiles/wasm.js';
export { x86Avx2Target } from './profiles/x86-avx2.js';
export { x86VnniTarget } from './profiles/x86-vnni.js';
export { type TargetSelection, selectTarget } from './select-target.js';
export { acceptedTypes, targetTypePairs } from './target-types.js';
