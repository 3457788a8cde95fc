// The written page in headless Chromium: the page script (src/page/, compiled into src/generated/) with the real
// Chart.js, offline.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { EVIL_NAME, chartCount, measuredReport, sampleReport, worstLayers } from './test-report.js';
import { writeReportHtml } from './write-report-html.js';

const CHROMIUM = '/usr/bin/chromium';
/** The colours the page script fills bars with; a chart whose bars were drawn contains them exactly. */
const BAR_COLORS = {
  sqnr: [0x3b, 0x78, 0xc2],
  flagged: [0xc0, 0x39, 0x2b],
  activation: [0x4e, 0x79, 0xa7],
  weight: [0x59, 0xa1, 0x4f],
};

describe('report page in Chromium', () => {
  it(
    'draws every chart offline, without console errors, lazily for closed layers',
    { timeout: 30_000 },
    async () => {
      if (!existsSync(CHROMIUM)) {
        throw new Error(
          `${CHROMIUM} is missing: the report page test needs Debian's Chromium (apt-get install -y chromium)`,
        );
      }
      const report = sampleReport();
      const dir = await mkdtemp(join(tmpdir(), 'quantkit-report-'));
      const file = join(dir, 'report.html');
      await writeReportHtml(file, report);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const external = new Set<string>();
        const errors: string[] = [];
        const dialogs: string[] = [];
        const isLocal = (url: string) => url.startsWith('file://') || url.startsWith('data:');
        await page.route('**/*', (route) => {
          const url = route.request().url();
          if (isLocal(url)) return route.continue();
          external.add(url);
          return route.abort();
        });
        page.on('request', (request) => {
          if (!isLocal(request.url())) external.add(request.url());
        });
        page.on('console', (message) => {
          if (message.type() === 'error') errors.push(message.text());
        });
        page.on('pageerror', (error) => errors.push(error.message));
        page.on('dialog', (dialog) => {
          dialogs.push(dialog.message());
          void dialog.dismiss();
        });

        await page.goto(pathToFileURL(file).href);
        await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined, undefined, {
          timeout: 10_000,
        });
        const everyLayer = report.layers.map((_, i) => i);
        const total = 1 + chartCount(report, everyLayer);
        const initial = 1 + chartCount(report, worstLayers(report).slice(0, 12));
        expect(initial).toBeLessThan(total);
        expect(await page.evaluate(() => document.body.dataset.chartsDrawn)).toBe(String(initial));

        // The embedded data decodes in the page as it does in Node.
        expect(
          await page.evaluate(() => (window as unknown as { quantkitReport: unknown }).quantkitReport),
        ).toEqual(report);

        await page.evaluate(() => {
          for (const details of document.querySelectorAll('details')) details.open = true;
        });
        await page.waitForFunction((n) => document.body.dataset.chartsDrawn === String(n), total, {
          timeout: 10_000,
        });

        const canvases = await page.evaluate((colors) => {
          return Array.from(document.querySelectorAll('canvas'), (canvas) => {
            const { width, height } = canvas;
            const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data;
            const seen = new Set<number>();
            let distinct = 0;
            for (let i = 0; i < pixels.length; i += 4) {
              const key = (pixels[i]! << 16) | (pixels[i + 1]! << 8) | pixels[i + 2]!;
              if (pixels[i + 3] === 255) seen.add(key);
              if (
                pixels[i] !== pixels[0] ||
                pixels[i + 1] !== pixels[1] ||
                pixels[i + 2] !== pixels[2] ||
                pixels[i + 3] !== pixels[3]
              ) {
                distinct++;
              }
            }
            const has = (rgb: number[]) => seen.has((rgb[0]! << 16) | (rgb[1]! << 8) | rgb[2]!);
            return {
              kind: canvas.dataset.chart,
              drawn: canvas.dataset.drawn,
              width,
              height,
              distinct,
              colors: Object.fromEntries(Object.entries(colors).map(([name, rgb]) => [name, has(rgb)])),
            };
          });
        }, BAR_COLORS);
        expect(canvases).toHaveLength(total);
        for (const canvas of canvases) {
          expect(canvas.drawn).toBe('true');
          expect(canvas.width).toBeGreaterThan(100);
          expect(canvas.height).toBeGreaterThan(100);
          expect(canvas.distinct).toBeGreaterThan(500);
          if (canvas.kind === 'sqnr') expect(canvas.colors).toMatchObject({ sqnr: true, flagged: true });
          else expect(canvas.colors[canvas.kind as 'activation' | 'weight']).toBe(true);
        }

        expect(await page.locator('td.name', { hasText: EVIL_NAME }).count()).toBe(1);
        expect(await page.locator('img').count()).toBe(0);
        expect(await page.locator('tr.flagged td.num').first().textContent()).toBe('6.50');
        expect(await page.locator('td.num', { hasText: '∞' }).count()).toBeGreaterThan(0);
        expect(errors).toEqual([]);
        expect(dialogs).toEqual([]);
        expect([...external]).toEqual([]);

        // The recorder does see requests: an image from the network is caught and aborted.
        await page.evaluate(() => {
          const probe = new Image();
          probe.src = 'http://192.0.2.1/probe.png';
        });
        await expect.poll(() => [...external]).toEqual(['http://192.0.2.1/probe.png']);
      } finally {
        await browser.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'sorts the layer table on a header click and filters it by text and status',
    { timeout: 30_000 },
    async () => {
      const report = measuredReport();
      const dir = await mkdtemp(join(tmpdir(), 'quantkit-report-'));
      const file = join(dir, 'report.html');
      await writeReportHtml(file, report);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox'],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto(pathToFileURL(file).href);
        await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined);
        const visibleNames = () =>
          page.evaluate(() =>
            Array.from(document.querySelectorAll<HTMLTableRowElement>('#layer-table tbody tr'))
              .filter((row) => !row.hidden)
              .map((row) => row.dataset.name ?? ''),
          );
        const total = report.layers.length + 3;
        expect(await page.locator('#layer-count').textContent()).toBe(`${total} of ${total} rows shown`);

        // SQNR comes sorted ascending; a click reverses it, exact (∞) layers first, the float rows still last.
        const sqnrHeader = page.locator('#layer-table th', { hasText: 'SQNR (dB)' }).first();
        await sqnrHeader.locator('button').click();
        expect(await sqnrHeader.getAttribute('aria-sort')).toBe('descending');
        const descending = await visibleNames();
        expect(descending[0]).toBe(report.layers[4]!.node);
        expect(descending.slice(-3)).toEqual(['softmax', 'dense_kept', 'dense_slow']);

        // Sensitivity sorts numerically: the floor's kept node first.
        await page.locator('#layer-table th', { hasText: 'sensitivity' }).locator('button').click();
        expect((await visibleNames())[0]).toBe('dense_kept');

        await page.locator('#layer-status').selectOption('float');
        expect(await visibleNames()).toEqual(['dense_kept', 'softmax', 'dense_slow']);
        await page.locator('#layer-status').selectOption('all');
        await page.locator('#layer-filter').fill('BLOCK4 gemm');
        const gemms = report.layers.filter((l) => l.node.startsWith('/block4/') && l.opType === 'Gemm');
        expect(await visibleNames()).toEqual(gemms.map((l) => l.node));
        expect(await page.locator('#layer-count').textContent()).toBe(
          `${gemms.length} of ${total} rows shown`,
        );
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
