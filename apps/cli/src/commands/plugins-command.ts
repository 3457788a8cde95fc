import { PLUGIN_KINDS, type Plugin } from '@quantkit/core';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { collectRepeated } from '../flags.js';
import { formatTable } from '../format.js';
import { createCliRegistry } from '../cli-registry.js';

/** One row of `quantkit plugins`. */
export interface PluginListing {
  readonly kind: Plugin['kind'];
  readonly name: string;
  readonly apiVersion: number;
  readonly description: string;
  /** "built-in", or the --plugin spec it was loaded from. */
  readonly source: string;
}

/**
 * Lists the registry the CLI would use: the built-ins plus plugins loaded with --plugin, ordered by kind.
 * @throws QuantError PLUGIN_INVALID / PLUGIN_CONFLICT from loading or registering the extra plugins.
 */
export async function listPlugins(specs: readonly string[], cwd: string): Promise<PluginListing[]> {
  const { registry, loaded } = await createCliRegistry(specs, cwd);
  const listings: PluginListing[] = [];
  for (const kind of PLUGIN_KINDS) {
    for (const plugin of registry.list(kind)) {
      listings.push({
        kind,
        name: plugin.name,
        apiVersion: plugin.apiVersion,
        description: plugin.description ?? '',
        source: loaded.find((entry) => entry.plugin === plugin)?.source ?? 'built-in',
      });
    }
  }
  return listings;
}

/** `quantkit plugins`: see --help. */
export function pluginsCommand(io: CliIo): Command {
  return new Command('plugins')
    .description('list the plugins quantkit can use (built-ins plus --plugin), by kind')
    .option('--plugin <path-or-package>', 'also load plugins from an ES module (repeatable)', collectRepeated)
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (flags: { plugin?: string[]; json?: boolean }) => {
      const listings = await listPlugins(flags.plugin ?? [], io.cwd);
      if (flags.json === true) {
        writeJson(io, { ok: true, command: 'plugins', plugins: listings });
        return;
      }
      const lines: string[] = [];
      for (const kind of PLUGIN_KINDS) {
        const ofKind = listings.filter((listing) => listing.kind === kind);
        if (ofKind.length === 0) continue;
        lines.push(`${kind} plugins:`);
        if (kind === 'kernel') {
          lines.push(...kernelSummary(ofKind));
          continue;
        }
        const rows = ofKind.map((listing) => [
          `  ${listing.name}`,
          `api v${listing.apiVersion}`,
          listing.source === 'built-in' ? '' : `[${listing.source}]`,
          listing.description,
        ]);
        lines.push(...formatTable(rows));
      }
      io.stdout.write(`${lines.length === 0 ? 'no plugins registered' : lines.join('\n')}\n`);
    });
}

/**
 * The kernel section of the text listing: the built-in kernels counted per backend (there are hundreds; --json lists
 * each), and every kernel loaded with --plugin on a line of its own.
 */
function kernelSummary(kernels: readonly PluginListing[]): string[] {
  const builtIn = new Map<string, number>();
  const loaded: PluginListing[] = [];
  for (const listing of kernels) {
    if (listing.source !== 'built-in') loaded.push(listing);
    else {
      const backend = listing.name.split('/')[0]!;
      builtIn.set(backend, (builtIn.get(backend) ?? 0) + 1);
    }
  }
  const rows = [
    ...[...builtIn].map(([backend, count]) => [
      `  ${backend}/*`,
      `${count} kernels`,
      '',
      '(--json lists each)',
    ]),
    ...loaded.map((listing) => [
      `  ${listing.name}`,
      `api v${listing.apiVersion}`,
      `[${listing.source}]`,
      listing.description,
    ]),
  ];
  return formatTable(rows);
}
