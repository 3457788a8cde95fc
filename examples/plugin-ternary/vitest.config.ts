import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The CLI tests spawn `node apps/cli/dist/bin.js`, which loads onnxruntime-node on each run.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
