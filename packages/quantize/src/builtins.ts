import { type Plugin, type Registry, createRegistry } from '@quantkit/core';
import { builtinObservers } from '@quantkit/calibration';
import { binaryQuantizer } from '@quantkit/quantizer-binary';
import { linearQuantizer, powerOfTwoQuantizer } from '@quantkit/quantizer-linear';
import { logQuantizer, nnieLogQuantizer } from '@quantkit/quantizer-log';
import { builtinTargets } from '@quantkit/targets';

/** The plugins quantkit ships with; pass them with your own to createRegistry. */
export const builtinPlugins: readonly Plugin[] = [
  linearQuantizer,
  powerOfTwoQuantizer,
  binaryQuantizer,
  logQuantizer,
  nnieLogQuantizer,
  ...builtinObservers,
  ...builtinTargets,
];

/** The target a run plans for when none is named: onnxruntime on x86 with VNNI (u8 x s8, per-channel, QDQ). */
export const DEFAULT_TARGET = 'x86-vnni';

/**
 * A registry of the built-in plugins plus any extra ones.
 * @example const registry = createDefaultRegistry([myQuantizer]);
 * @throws QuantError PLUGIN_INVALID / PLUGIN_CONFLICT for a bad or clashing extra plugin.
 */
export function createDefaultRegistry(extra: readonly unknown[] = []): Registry {
  return createRegistry([...builtinPlugins, ...extra]);
}
