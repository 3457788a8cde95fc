import type { QuantDType, TargetPlugin } from '@quantkit/core';
import { builtinRules } from '@quantkit/targets';
import { Command } from 'commander';
import { type CliIo, writeJson } from '../cli-io.js';
import { createCliRegistry } from '../cli-registry.js';
import { collectRepeated } from '../flags.js';
import { formatTable } from '../format.js';
import { detectRegistryTarget, reasonAfterName } from '../resolve-target.js';

/** One target as `quantkit targets` lists it. */
export interface TargetListing {
  readonly name: string;
  readonly description: string;
  /** "built-in", or the --plugin spec it was loaded from. */
  readonly source: string;
  /** The runtime that executes its models (onnxruntime-cpu, tensorrt, ...), or null when the profile names none. */
  readonly runtime: string | null;
  readonly activation: { readonly dtype: QuantDType; readonly symmetric: boolean; readonly bits: number };
  readonly weight: {
    readonly dtype: QuantDType;
    readonly symmetric: boolean;
    readonly perChannel: boolean;
    readonly reduceRange: boolean;
  };
  /** Output formats it runs, preferred first. */
  readonly formats: readonly string[];
  /** Precisions beyond the 8-bit pair (int4-weight, fp16, ...). */
  readonly precisions: readonly string[];
  /** Whatever lies outside the profile is an error (no fallback kernels), not a warning. */
  readonly strict: boolean;
  /** This is the target `--target auto` picks on this machine. */
  readonly detected: boolean;
}

/** A compatibility rule `quantkit check` runs, by name. */
export interface RuleListing {
  readonly name: string;
  readonly description: string;
}

export interface TargetsReport {
  readonly targets: readonly TargetListing[];
  /** The target detected for this host, and why. */
  readonly host: { readonly name: string; readonly reason: string };
}

function listing(target: TargetPlugin, source: string, detected: boolean): TargetListing {
  return {
    name: target.name,
    description: target.description ?? '',
    source,
    runtime: target.runtime ?? null,
    activation: {
      dtype: target.activation.dtype,
      symmetric: target.activation.symmetric,
      bits: target.activation.bits ?? 8,
    },
    weight: {
      dtype: target.weight.dtype,
      symmetric: target.weight.symmetric,
      perChannel: target.weight.perChannel,
      reduceRange: target.weight.reduceRange,
    },
    formats: [...target.formats],
    precisions: [...(target.precisions ?? [])],
    strict: target.strict === true,
    detected,
  };
}

/**
 * Lists the targets the CLI knows (built-ins plus --plugin ones), marking the one host detection picks.
 *
 * @example const { targets, host } = await listTargets([], process.cwd());
 * @throws QuantError PLUGIN_INVALID / PLUGIN_CONFLICT from loading the extra plugins.
 */
export async function listTargets(specs: readonly string[], cwd: string): Promise<TargetsReport> {
  const { registry, loaded } = await createCliRegistry(specs, cwd);
  // Detection runs once; every listing compares against its result.
  const selection = await detectRegistryTarget(registry);
  const targets = registry.list('target').map((target) =>
    listing(
      target,
      loaded.find((entry) => entry.plugin === target)?.source ?? 'built-in',
      target === selection.target,
    ),
  );
  return { targets, host: { name: selection.target.name, reason: selection.reason } };
}

/** The compatibility rules `check` (and quantize's final check) run. */
export function listRules(): RuleListing[] {
  return builtinRules.map((rule) => ({ name: rule.name, description: rule.description }));
}

const yesNo = (value: boolean) => (value ? 'yes' : 'no');

/** The text `quantkit targets` prints: one block per target, then the host line (and the rules with --rules). */
export function formatTargets(report: TargetsReport, rules?: readonly RuleListing[]): string[] {
  const lines: string[] = [];
  for (const target of report.targets) {
    const notes = [
      target.detected ? 'this host' : '',
      target.strict ? 'strict' : '',
      target.source === 'built-in' ? '' : `from ${target.source}`,
    ].filter((note) => note !== '');
    lines.push(`${target.name}${notes.length === 0 ? '' : `  [${notes.join(', ')}]`}`);
    if (target.description !== '') lines.push(`  ${target.description}`);
    const rows = [
      [
        'activations',
        `${target.activation.dtype} ${target.activation.symmetric ? 'symmetric' : 'asymmetric'}, ${target.activation.bits}-bit`,
      ],
      [
        'weights',
        `${target.weight.dtype} ${target.weight.symmetric ? 'symmetric' : 'asymmetric'}, ` +
          `per-channel ${yesNo(target.weight.perChannel)}, reduce-range ${yesNo(target.weight.reduceRange)}`,
      ],
      ['formats', target.formats.join(', ')],
      ['runtime', target.runtime ?? 'not named'],
      ['precisions', target.precisions.length === 0 ? 'the 8-bit pair only' : target.precisions.join(', ')],
    ];
    lines.push(...formatTable(rows).map((row) => `    ${row}`));
  }
  lines.push(
    `this host: ${report.host.name}, ${reasonAfterName(report.host.name, report.host.reason)}; --target auto picks it`,
  );
  if (rules !== undefined) {
    lines.push('compatibility rules (quantkit check):');
    lines.push(...formatTable(rules.map((rule) => [`  ${rule.name}`, rule.description])));
  }
  return lines;
}

/** `quantkit targets`: see --help. */
export function targetsCommand(io: CliIo): Command {
  return new Command('targets')
    .description('list the hardware targets (what each runs) and mark the one detected for this machine')
    .option('--rules', 'also list the compatibility rules `quantkit check` runs')
    .option('--plugin <path-or-package>', 'also load target plugins from an ES module (repeatable)', collectRepeated)
    .option('--json', 'print one JSON object on stdout instead of text')
    .action(async (flags: { rules?: boolean; plugin?: string[]; json?: boolean }) => {
      const report = await listTargets(flags.plugin ?? [], io.cwd);
      const rules = flags.rules === true ? listRules() : undefined;
      if (flags.json === true) {
        writeJson(io, { ok: true, command: 'targets', ...report, ...(rules !== undefined && { rules }) });
      } else {
        io.stdout.write(`${formatTargets(report, rules).join('\n')}\n`);
      }
    });
}
