import {
  API_VERSION,
  type KernelContext,
  type KernelNode,
  type KernelPlugin,
  type Tensor,
} from '@quantkit/core';
import { type WasmSimdHandle, wasmSimdBackend } from './backend.js';

/** What a wasm-simd kernel defines; {@link wasmKernel} fills in the plugin fields. */
export interface WasmKernelDefinition<State> {
  readonly domain?: string;
  readonly opsets?: KernelPlugin['opsets'];
  readonly description?: string;
  supports?(node: KernelNode): true | false | string;
  prepare(node: KernelNode, handle: WasmSimdHandle): State;
  run(state: State, inputs: readonly (Tensor | undefined)[], context: KernelContext): readonly Tensor[];
}

/**
 * A kernel of the wasm-simd backend, named `wasm-simd/<OpType>` (`wasm-simd/<domain>.<OpType>` outside the default
 * domain).
 *
 * @example
 * const matMul = wasmKernel('MatMul', { prepare: (node, handle) => ({ handle }), run: (state, [a, b]) => [...] });
 */
export function wasmKernel<State>(
  opType: string,
  definition: WasmKernelDefinition<State>,
): KernelPlugin<State, WasmSimdHandle> {
  const domain = definition.domain ?? '';
  return {
    kind: 'kernel',
    name: `${wasmSimdBackend.name}/${domain === '' ? '' : `${domain}.`}${opType}`,
    apiVersion: API_VERSION,
    ...(definition.description !== undefined && { description: definition.description }),
    opType,
    domain,
    backend: wasmSimdBackend.name,
    ...(definition.opsets !== undefined && { opsets: definition.opsets }),
    ...(definition.supports !== undefined && { supports: definition.supports }),
    prepare: (node, handle) => definition.prepare(node, handle),
    run: (state, inputs, context) => definition.run(state, inputs, context),
  };
}
