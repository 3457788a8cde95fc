import { defineConfig } from 'vitest/config';

// Quantizing and running 14 real models in 8 modes takes minutes on two cores; each cell is one test.
export default defineConfig({ test: { testTimeout: 300_000, hookTimeout: 300_000 } });
