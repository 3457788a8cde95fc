import { packageConfig } from '@quantkit/tooling-build/tsup';

export default packageConfig({
  index: 'src/index.ts',
  node: 'src/node.ts',
  // Loaded by path from node.js when calibration runs on worker threads.
  'calibration-worker': 'src/calibration-worker.ts',
  // Loaded by path when `quantkit auto` measures assignments on worker threads.
  'auto-worker': 'src/auto/auto-worker.ts',
});
