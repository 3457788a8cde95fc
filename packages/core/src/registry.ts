import { QuantError, listChoices } from './errors.js';
import {
  API_VERSION,
  PLUGIN_KINDS,
  type Plugin,
  type PluginKind,
  type PluginOfKind,
  type QuantizerCapabilities,
} from './plugins.js';

/** The methods each kind must have; checked when a plugin is registered so a bad plugin fails early and by name. */
const requiredMethods: Record<PluginKind, readonly string[]> = {
  quantizer: ['quantizeWeight'],
  observer: ['create'],
  target: [],
  kernel: ['prepare', 'run'],
  backend: ['init'],
  executor: ['createSession'],
};

/**
 * A set of plugins you build and pass around; never a global. Lookups that fail list the names that exist.
 */
export interface Registry {
  readonly plugins: readonly Plugin[];
  /** @throws QuantError PLUGIN_NOT_FOUND listing the registered names of that kind. */
  get<K extends PluginKind>(kind: K, name: string): PluginOfKind<K>;
  find<K extends PluginKind>(kind: K, name: string): PluginOfKind<K> | undefined;
  list<K extends PluginKind>(kind: K): readonly PluginOfKind<K>[];
  /** A new registry with more plugins; the same conflict rules apply. */
  extend(plugins: readonly unknown[]): Registry;
}

/**
 * Checks that a value is a plugin this version of quantkit can use.
 * @param source where the value came from (a path or package name), for the error message.
 * @throws QuantError PLUGIN_INVALID naming the plugin and what is wrong with it.
 */
export function validatePlugin(value: unknown, source = 'plugin'): Plugin {
  if (typeof value !== 'object' || value === null) {
    throw new QuantError(
      'PLUGIN_INVALID',
      `${source} is not a plugin object (got ${value === null ? 'null' : typeof value})`,
    );
  }
  const candidate = value as Partial<Plugin> & Record<string, unknown>;
  const label = typeof candidate.name === 'string' ? `${source} ("${candidate.name}")` : source;
  if (!PLUGIN_KINDS.includes(candidate.kind as PluginKind)) {
    throw new QuantError(
      'PLUGIN_INVALID',
      `${label} has kind ${JSON.stringify(candidate.kind)}; expected ${listChoices(PLUGIN_KINDS)}`,
    );
  }
  if (typeof candidate.name !== 'string' || candidate.name.length === 0) {
    throw new QuantError('PLUGIN_INVALID', `${source} has no name; a plugin needs a non-empty string name`);
  }
  if (candidate.apiVersion !== API_VERSION) {
    throw new QuantError(
      'PLUGIN_INVALID',
      `${label} was written for plugin API version ${JSON.stringify(candidate.apiVersion)}, ` +
        `but this quantkit speaks version ${API_VERSION}`,
    );
  }
  for (const method of requiredMethods[candidate.kind as PluginKind]) {
    if (typeof candidate[method] !== 'function') {
      throw new QuantError('PLUGIN_INVALID', `${label} is a ${candidate.kind} without a ${method}() method`);
    }
  }
  if (candidate.kind === 'quantizer') {
    const capabilities = candidate['capabilities'] as Partial<QuantizerCapabilities> | undefined;
    const lists = ['bits', 'granularities', 'symmetric'] as const;
    if (
      typeof capabilities !== 'object' ||
      capabilities === null ||
      lists.some((key) => !Array.isArray(capabilities[key]))
    ) {
      throw new QuantError(
        'PLUGIN_INVALID',
        `${label} is a quantizer without capabilities { bits, granularities, symmetric, activations }`,
      );
    }
  }
  return candidate as Plugin;
}

/**
 * Builds a registry from plugin values.
 *
 * @example
 * const registry = createRegistry([linearQuantizer, minMaxObserver, myPlugin]);
 * registry.get('quantizer', 'linear');
 * @throws QuantError PLUGIN_INVALID for a malformed plugin, PLUGIN_CONFLICT for two plugins of one kind and name.
 */
export function createRegistry(plugins: readonly unknown[] = []): Registry {
  const byKey = new Map<string, Plugin>();
  for (const value of plugins) {
    const plugin = validatePlugin(value);
    const key = `${plugin.kind}\u0000${plugin.name}`;
    const existing = byKey.get(key);
    if (existing !== undefined && existing !== plugin) {
      throw new QuantError(
        'PLUGIN_CONFLICT',
        `two ${plugin.kind} plugins are named "${plugin.name}"; rename one of them`,
      );
    }
    byKey.set(key, plugin);
  }
  const all = [...byKey.values()];

  const registry: Registry = {
    plugins: all,
    find(kind, name) {
      return byKey.get(`${kind}\u0000${name}`) as PluginOfKind<typeof kind> | undefined;
    },
    get(kind, name) {
      const plugin = registry.find(kind, name);
      if (plugin === undefined) {
        const names = registry.list(kind).map((p) => p.name);
        throw new QuantError(
          'PLUGIN_NOT_FOUND',
          `no ${kind} plugin named "${name}"; ` +
            (names.length === 0 ? `none is registered` : `expected ${listChoices(names)}`),
          { details: { kind, name, available: names } },
        );
      }
      return plugin;
    },
    list(kind) {
      return all.filter((p): p is PluginOfKind<typeof kind> => p.kind === kind);
    },
    extend(more) {
      return createRegistry([...all, ...more]);
    },
  };
  return registry;
}

/**
 * The plugins an imported ES module offers: its default export and its named exports `plugins` and `plugin`, each
 * a plugin or an array of plugins (one exported under two names counts once), validated.
 *
 * @example const plugins = pluginsOfModule(await import('./ternary.mjs'), './ternary.mjs');
 * @param source the module's path or package name, for error messages.
 * @throws QuantError PLUGIN_INVALID when the module exports no plugin, or a malformed one.
 */
export function pluginsOfModule(module: Record<string, unknown>, source: string): Plugin[] {
  const values: unknown[] = [];
  for (const key of ['default', 'plugins', 'plugin']) {
    const value = module[key];
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) if (!values.includes(item)) values.push(item);
  }
  if (values.length === 0) {
    throw new QuantError(
      'PLUGIN_INVALID',
      `${source}: exports no plugin; expected a default export or a named export "plugins" or "plugin"`,
    );
  }
  return values.map((value) => validatePlugin(value, source));
}
