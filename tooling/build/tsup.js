// Shared tsup settings: every package ships ESM + .d.ts built from its src/ entries.
import { defineConfig } from 'tsup';

/**
 * @param {Record<string, string>} entry entry name -> source file, e.g. `{ index: 'src/index.ts' }`
 * @param {Partial<import('tsup').Options>} [overrides]
 */
export function packageConfig(entry, overrides = {}) {
  return defineConfig({
    entry,
    format: ['esm'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    platform: 'neutral',
    splitting: true,
    treeshake: true,
    ...overrides,
  });
}
