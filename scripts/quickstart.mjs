// The README's first command ends here: quantize a real third-party model (a wake-word classifier shipped inside
// the npm package openwakeword-js) with the built `quantkit` CLI and show what changed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'apps/cli/dist/bin.js');
const require = createRequire(join(root, 'apps/cli/package.json'));
// openwakeword-js's `exports` hides its package.json, so find its folder the way Node searches node_modules.
const model = require.resolve
  .paths('openwakeword-js')
  .map((dir) => join(dir, 'openwakeword-js/models/hello_deepa.onnx'))
  .find((path) => existsSync(path));
if (model === undefined) throw new Error('openwakeword-js is not installed; run npm run setup');
const work = join(root, '.quickstart');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });

const run = (...args) => execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root });
const output = join(work, 'hello_deepa.int8.onnx');

console.log(`\n== quantkit quickstart: ${model}\n`);
// Static INT8 needs calibration data. The package ships none, so write 32 seeded samples shaped like its input
// (mel-spectrogram embeddings): real audio features would calibrate better; this shows the workflow.
const { encodeNpy } = await import(pathToFileURL(join(root, 'packages/calibration/dist/index.js')).href);
const calib = join(work, 'calib');
mkdirSync(calib);
let seed = 1;
const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
for (let i = 0; i < 32; i++) {
  const data = Float32Array.from({ length: 25 * 96 }, random);
  writeFileSync(join(calib, `sample_${i}.npy`), encodeNpy({ dtype: 'float32', shape: [1, 25, 96], data }));
}
run('quantize', model, '-o', output, '--calib', calib);
console.log('');
run('compare', model, output, '--data', calib);
