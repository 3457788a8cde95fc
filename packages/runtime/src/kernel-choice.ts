import {
  type BackendPlugin,
  type KernelNode,
  type KernelPlugin,
  QuantError,
  type Registry,
} from '@quantkit/core';

/** How one backend's start-up went: its handle, or the reason it is unavailable (remembered, never retried). */
export type BackendStatus =
  | { readonly name: string; readonly priority: number; readonly available: true; readonly handle: unknown }
  | { readonly name: string; readonly priority: number; readonly available: false; readonly reason: string };

/**
 * The backends of a registry, each started once on first use: a failed init (no WASM SIMD in this browser) is
 * remembered with its reason, so planning many models costs one attempt.
 */
export class Backends {
  readonly #plugins = new Map<string, BackendPlugin>();
  readonly #started = new Map<string, Promise<BackendStatus>>();

  constructor(plugins: readonly BackendPlugin[]) {
    for (const plugin of plugins) this.#plugins.set(plugin.name, plugin);
  }

  /** The status of a backend by name; undefined when no backend of that name is registered. */
  status(name: string): Promise<BackendStatus> | undefined {
    const plugin = this.#plugins.get(name);
    if (plugin === undefined) return undefined;
    let started = this.#started.get(name);
    if (started === undefined) {
      started = plugin.init().then(
        (handle): BackendStatus => ({ name, priority: plugin.priority, available: true, handle }),
        (error: unknown): BackendStatus => ({
          name,
          priority: plugin.priority,
          available: false,
          reason: error instanceof Error ? error.message : String(error),
        }),
      );
      this.#started.set(name, started);
    }
    return started;
  }

  /** Every registered backend, started, highest priority first. */
  async all(): Promise<BackendStatus[]> {
    const statuses = await Promise.all([...this.#plugins.keys()].map((name) => this.status(name)!));
    return statuses.sort((a, b) => b.priority - a.priority);
  }
}

/** A kernel chosen for a node, with the handle of its backend. */
export interface ChosenKernel {
  readonly kernel: KernelPlugin;
  readonly backend: BackendStatus & { available: true };
  /** Why each kernel ranked above it was passed over ('wasm-simd/Gemm: A is float64'). */
  readonly declined: readonly string[];
}

/**
 * Kernels by domain and op type; {@link KernelIndex.choose} picks, for a node, the kernel of the highest-priority
 * available backend that supports it.
 */
export class KernelIndex {
  readonly #byOp = new Map<string, KernelPlugin[]>();

  constructor(
    kernels: readonly KernelPlugin[],
    readonly backends: Backends,
  ) {
    for (const kernel of kernels) {
      const key = opKey(kernel.domain, kernel.opType);
      const list = this.#byOp.get(key) ?? [];
      const twin = list.find((other) => other.backend === kernel.backend);
      if (twin !== undefined) {
        throw new QuantError(
          'PLUGIN_CONFLICT',
          `kernels "${twin.name}" and "${kernel.name}" both run ${kernel.opType} on backend "${kernel.backend}"; ` +
            'leave one out of the registry, or give yours a backend of its own with a higher priority',
        );
      }
      list.push(kernel);
      this.#byOp.set(key, list);
    }
  }

  /** Whether any kernel is registered for the op, whatever its backend. */
  has(domain: string, opType: string): boolean {
    return this.#byOp.has(opKey(domain, opType));
  }

  /**
   * The kernel for a node, leaving out those in `passedOver` (a kernel that declined the node's inputs at run time).
   * @throws QuantError UNSUPPORTED naming the node and, for each kernel of its op, why it was not chosen.
   */
  async choose(node: KernelNode, passedOver: ReadonlySet<KernelPlugin> = new Set()): Promise<ChosenKernel> {
    const candidates = this.#byOp.get(opKey(node.domain, node.opType)) ?? [];
    const ranked: { kernel: KernelPlugin; backend: BackendStatus }[] = [];
    const refusals: string[] = [];
    for (const kernel of candidates) {
      if (passedOver.has(kernel)) continue;
      const status = this.backends.status(kernel.backend);
      if (status === undefined) {
        refusals.push(`${kernel.name}: backend "${kernel.backend}" is not registered`);
        continue;
      }
      ranked.push({ kernel, backend: await status });
    }
    ranked.sort((a, b) => b.backend.priority - a.backend.priority);
    for (const { kernel, backend } of ranked) {
      if (!backend.available) {
        refusals.push(`${kernel.name}: backend "${backend.name}" is unavailable (${backend.reason})`);
        continue;
      }
      const { min, max } = kernel.opsets ?? {};
      if ((min !== undefined && node.opset < min) || (max !== undefined && node.opset > max)) {
        refusals.push(
          `${kernel.name}: implements opsets ${min ?? 1}-${max ?? 'latest'}, the model has ${node.opset}`,
        );
        continue;
      }
      const verdict = kernel.supports?.(node) ?? true;
      if (verdict === true) return { kernel, backend, declined: refusals };
      refusals.push(`${kernel.name}: ${verdict === false ? 'does not support this node' : verdict}`);
    }
    const domain = node.domain === '' ? '' : ` of domain "${node.domain}"`;
    throw new QuantError(
      'UNSUPPORTED',
      candidates.length === 0
        ? `${node.label}: the runtime has no kernel for op ${node.opType}${domain}`
        : `${node.label}: no kernel for op ${node.opType}${domain} can run it (${refusals.join('; ')})`,
    );
  }
}

function opKey(domain: string, opType: string): string {
  return `${domain === 'ai.onnx' ? '' : domain}\u0000${opType}`;
}

/** The kernels and backends of a registry, for the runtime. */
export function kernelIndexOf(registry: Registry): KernelIndex {
  return new KernelIndex(registry.list('kernel'), new Backends(registry.list('backend')));
}
