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

/**
 * The target a run plans for when none is named: onnxruntime on any x86 (u8 x s8, per-channel, QDQ, 7-bit weights).
 * Its reduced weight range is what makes the model exact everywhere: on x86 without VNNI onnxruntime's u8 x s8
 * kernels add pairs of products in a saturating int16, and full 8-bit weights there cost up to 11 dB of output SQNR
 * on the corpus (silero-vad-16k static: 21.3 dB exact, 10.1 in onnxruntime on an AVX2 host). The CLI detects the host and plans for x86-vnni where VNNI is present.
 */
export const DEFAULT_TARGET = 'x86-avx2';

/**
 * A registry of the built-in plugins plus any extra ones.
 * @example const registry = createDefaultRegistry([myQuantizer]);
 * @throws QuantError PLUGIN_INVALID / PLUGIN_CONFLICT for a bad or clashing extra plugin.
 */
export function createDefaultRegistry(extra: readonly unknown[] = []): Registry {
  return createRegistry([...builtinPlugins, ...extra]);
}
