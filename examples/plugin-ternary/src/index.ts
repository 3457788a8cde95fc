import { ternaryQuantizer } from './ternary-quantizer.js';

export { TERNARY_PACKED_FORMAT, packedTernaryBytes, ternaryPacking } from './ternary-packing.js';
export {
  DEFAULT_THRESHOLD_FACTOR,
  TERNARY_BITS,
  type TernaryQuantizerSettings,
  createTernaryQuantizer,
  ternaryQuantizer,
} from './ternary-quantizer.js';

/** The plugin under the name `quantkit --plugin` looks for (besides the default export). */
export const plugin = ternaryQuantizer;

// `quantkit --plugin <module>` registers the default export (or `plugin` / `plugins`); a plugin package that is
// meant to be loaded that way needs one of them, unlike the built-in packages, which export names only.
export default ternaryQuantizer;
