import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChartScript } from './load-chart-script.js';
import { parseReportHtml } from './parse-report-html.js';
import { sampleReport } from './test-report.js';
import { writeReportHtml } from './write-report-html.js';

describe('loadChartScript and writeReportHtml', () => {
  it('reads Chart.js 4 from node_modules', async () => {
    const script = await loadChartScript();
    expect(script).toMatch(/^\/\*!\s*\n\s*\* Chart\.js v4\./);
    expect(script.length).toBeGreaterThan(100_000);
  });

  it('fails with NOT_FOUND for a missing folder and leaves nothing behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'quantkit-report-'));
    try {
      await expect(
        writeReportHtml(join(dir, 'missing', 'report.html'), sampleReport(2)),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await writeReportHtml(join(dir, 'report.html'), sampleReport(2));
      expect(await readdir(dir)).toEqual(['report.html']);
      expect(parseReportHtml(await readFile(join(dir, 'report.html'), 'utf8'))).toEqual(sampleReport(2));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
