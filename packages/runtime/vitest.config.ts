import { defineConfig } from 'vitest/config';

// fast-check properties run from the repository's fixed seed (see tooling/build/vitest-setup.js).
export default defineConfig({ test: { setupFiles: ['@quantkit/tooling-build/vitest-setup'] } });
