import { packageConfig } from '@quantkit/tooling-build/tsup';

// The CLI runs only on Node and imports its built-ins, so it is bundled for the node platform.
export default packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }, { platform: 'node' });
