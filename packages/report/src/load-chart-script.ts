import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuantError } from '@quantkit/core';

const UMD_FILE = 'chart.umd.min.js';

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Where chart.js's UMD build lives. chart.js's `exports` map hides `dist/chart.umd.min.js` (and its package.json),
 * so the file is found next to the entry point `require` does resolve, or failing that under each node_modules
 * folder Node would search.
 */
async function chartScriptPath(): Promise<string> {
  const require = createRequire(import.meta.url);
  const candidates: string[] = [];
  try {
    candidates.push(join(dirname(require.resolve('chart.js')), UMD_FILE));
  } catch {
    // Resolution can fail under unusual exports handling; the node_modules walk below still finds the file.
  }
  for (const folder of require.resolve.paths('chart.js') ?? [])
    candidates.push(join(folder, 'chart.js', 'dist', UMD_FILE));
  for (const candidate of candidates) {
    if (await isFile(candidate)) return candidate;
  }
  throw new QuantError(
    'NOT_FOUND',
    `cannot find chart.js/dist/${UMD_FILE} in node_modules above ${dirname(fileURLToPath(import.meta.url))}; ` +
      'install chart.js 4 (a dependency of @quantkit/report)',
  );
}

/** The page's chart code is written against Chart.js 4; another major version would fail in the browser instead. */
async function checkVersion(scriptPath: string): Promise<void> {
  const manifest = join(dirname(scriptPath), '..', 'package.json');
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(manifest, 'utf8')) as { version?: unknown }).version;
  } catch {
    return;
  }
  if (typeof version !== 'string' || !version.startsWith('4.')) {
    throw new QuantError(
      'UNSUPPORTED',
      `chart.js at ${manifest} is version ${String(version)}; the report needs chart.js 4`,
    );
  }
}

/**
 * Reads Chart.js 4's UMD build from node_modules, for renderReportHtml's `chartScript`.
 *
 * @example
 * const html = renderReportHtml(report, { chartScript: await loadChartScript() });
 * @throws QuantError NOT_FOUND when chart.js is not installed, UNSUPPORTED for a chart.js other than 4.x,
 *   IO_ERROR when the file cannot be read.
 */
export async function loadChartScript(): Promise<string> {
  const path = await chartScriptPath();
  await checkVersion(path);
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new QuantError('IO_ERROR', `cannot read ${path}`, { cause: error });
  }
}
