import { defineConfig } from 'vitest/config';

// Packing and an npm install take a while on two cores.
export default defineConfig({ test: { testTimeout: 240_000, hookTimeout: 240_000 } });
