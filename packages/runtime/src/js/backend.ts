import {
  API_VERSION,
  type BackendPlugin,
  type KernelContext,
  type KernelNode,
  type KernelPlugin,
  type Tensor,
} from '@quantkit/core';

/**
 * The plain JavaScript backend: every kernel exists here, runs everywhere, and is the reference the faster backends
 * are tested against. Lowest priority.
 */
export const jsBackend: BackendPlugin<void> = {
  kind: 'backend',
  name: 'js',
  apiVersion: API_VERSION,
  description: 'plain JavaScript kernels: run everywhere, the reference for the other backends',
  priority: 0,
  init: async () => undefined,
};

/** What a JS kernel defines; {@link jsKernel} fills in the plugin fields. */
export interface JsKernelDefinition<State> {
  readonly domain?: string;
  readonly opsets?: KernelPlugin['opsets'];
  readonly description?: string;
  supports?(node: KernelNode): true | false | string;
  prepare?(node: KernelNode): State;
  run(
    state: State,
    inputs: readonly (Tensor | undefined)[],
    context: KernelContext,
  ): readonly Tensor[] | Promise<readonly Tensor[]>;
}

/**
 * A kernel of the JS backend, named `js/<OpType>` (`js/<domain>.<OpType>` outside the default domain).
 *
 * @example
 * const relu = jsKernel('Relu', { run: (_, [x]) => [mapFloat(x!, (v) => (v > 0 ? v : 0))] });
 */
export function jsKernel<State = undefined>(
  opType: string,
  definition: JsKernelDefinition<State>,
): KernelPlugin<State, void> {
  const domain = definition.domain ?? '';
  return {
    kind: 'kernel',
    name: `js/${domain === '' ? '' : `${domain}.`}${opType}`,
    apiVersion: API_VERSION,
    ...(definition.description !== undefined && { description: definition.description }),
    opType,
    domain,
    backend: jsBackend.name,
    ...(definition.opsets !== undefined && { opsets: definition.opsets }),
    ...(definition.supports !== undefined && { supports: definition.supports }),
    prepare: (node) => (definition.prepare === undefined ? (undefined as State) : definition.prepare(node)),
    run: (state, inputs, context) => definition.run(state, inputs, context),
  };
}
