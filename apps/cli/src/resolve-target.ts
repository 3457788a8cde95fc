import { QuantError, type Registry, type TargetPlugin, listChoices } from '@quantkit/core';
import type { TargetSelection } from '@quantkit/targets';
import { selectHostTarget } from '@quantkit/targets/node';

/** The --target value that asks quantkit to detect the host. */
export const AUTO_TARGET = 'auto';

/** The target a command works with, and how it was chosen. */
export interface ChosenTarget {
  readonly target: TargetPlugin;
  /** True when --target auto picked it from the host; false when the user named it. */
  readonly detected: boolean;
  /** Why this target: the detector's reason, or that --target named it. */
  readonly reason: string;
}

/** The values --target accepts with this registry: 'auto', then every target plugin (built-ins and --plugin). */
export function targetChoices(registry: Registry): string[] {
  return [AUTO_TARGET, ...registry.list('target').map((target) => target.name)];
}

/**
 * Detects the host's target among the registry's targets (built-ins first, so a --plugin target wins only where no
 * built-in matches). Commands that list targets call this once and mark the result.
 *
 * @example const { target, reason } = await detectRegistryTarget(registry);
 * @throws QuantError UNSUPPORTED when no target matches and none is named 'wasm' (only with a custom registry).
 */
export function detectRegistryTarget(registry: Registry): Promise<TargetSelection> {
  return selectHostTarget({ targets: registry.list('target') });
}

/**
 * Turns a --target value into a target plugin: 'auto' (or no flag) detects the host, any other value must name a
 * target in the registry.
 *
 * @example const chosen = await resolveTarget(registry, 'gpu-tensorrt'); // chosen.target.qdqPerConsumer === true
 * @throws QuantError PLUGIN_NOT_FOUND naming --target and listing the valid values.
 */
export async function resolveTarget(registry: Registry, value: string | undefined): Promise<ChosenTarget> {
  if (value === undefined || value === AUTO_TARGET) {
    const selection = await detectRegistryTarget(registry);
    return { target: selection.target, detected: true, reason: selection.reason };
  }
  const target = registry.find('target', value);
  if (target === undefined) {
    const choices = targetChoices(registry);
    throw new QuantError(
      'PLUGIN_NOT_FOUND',
      `--target must be ${listChoices(choices)} (or a target loaded with --plugin), got ${JSON.stringify(value)}`,
      { details: { kind: 'target', name: value, available: choices } },
    );
  }
  return { target, detected: false, reason: 'named with --target' };
}

/**
 * A detector's reason without the target's name in front ("x86-vnni matches the host (...)" -> "matches the host
 * (...)"), for lines that name the target already.
 */
export function reasonAfterName(name: string, reason: string): string {
  return reason.startsWith(`${name} `) ? reason.slice(name.length + 1) : reason;
}

/**
 * How a chosen target reads in a summary line: `x86-vnni (detected: matches the host (node, x64, ...))` or
 * `gpu-tensorrt (named with --target)`.
 */
export function describeTarget(chosen: ChosenTarget): string {
  const reason = reasonAfterName(chosen.target.name, chosen.reason);
  return `${chosen.target.name} (${chosen.detected ? `detected: ${reason}` : reason})`;
}

/** The --target help text: every built-in name, and where the others come from. */
export function targetHelp(registry: Registry): string {
  const names = registry.list('target').map((target) => `"${target.name}"`);
  return `hardware target: "auto" (the default: detect this machine), ${names.join(', ')}, or a target from --plugin; see \`quantkit targets\``;
}

/** A chosen target as --json prints it. */
export function chosenTargetJson(chosen: ChosenTarget) {
  return { name: chosen.target.name, detected: chosen.detected, reason: chosen.reason };
}
