import { packageConfig } from '@quantkit/tooling-build/tsup';

export default packageConfig({ index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' });
