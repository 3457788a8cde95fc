import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QuantError } from '@quantkit/core';
import fc from 'fast-check';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadChartScript, writeReportHtml } from './chart-script.js';
import { resolveRecipe } from './options.js';
import type { Histogram, LayerReport, QuantizeReport } from './report.js';
import { parseReportHtml, renderReportHtml } from './report-html.js';
import { createRandom } from './test-models.js';

const EVIL_NAME = '</script><img src=x onerror=alert(1)>';
/** Pure tests do not need the real library; any script without `</script` will do. */
const FAKE_CHART = 'window.Chart = undefined;';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

function histogramOf(values: readonly number[], bins: number): Histogram {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const bin = Math.min(bins - 1, Math.floor(((value - min) / (max - min)) * bins));
    counts[bin]!++;
  }
  return { min, max, counts };
}

/**
 * A report shaped like a real static-mode run: 20 layers with histograms of random data, the clip range inside
 * the observed extremes for some, one layer exact (Infinity SQNR), one flagged, one without a weight (an
 * activation-only op) and one with a hostile node name.
 */
function sampleReport(layerCount = 20, seed = 7): QuantizeReport {
  const random = createRandom(seed);
  const opTypes = ['Conv', 'Relu', 'MatMul', 'Gemm', 'Add'];
  const layers: LayerReport[] = [];
  for (let i = 0; i < layerCount; i++) {
    const opType = opTypes[i % opTypes.length]!;
    const scale = 0.5 + random() * 4;
    const values = Array.from({ length: 2000 }, () => gaussian(random) * scale);
    const observed = histogramOf(values, 64);
    // Percentile-like clipping for every third layer, min-max (nothing clipped) for the others.
    const clip = i % 3 === 0 ? 0.7 : 1;
    const activationMin = observed.min * clip;
    const activationMax = observed.max * clip;
    const clipped = values.filter((v) => v < activationMin || v > activationMax).length / values.length;
    const weights = Array.from({ length: 800 }, () => gaussian(random) * 0.1);
    const hasWeight = opType !== 'Relu' && opType !== 'Add';
    const sqnr = i === 4 ? Number.POSITIVE_INFINITY : 12 + random() * 30;
    const flagged = i === 9;
    layers.push({
      node: i === 2 ? EVIL_NAME : `/block${i >> 2}/${opType.toLowerCase()}_${i}`,
      opType,
      output: `t${i}`,
      sqnr: flagged ? 6.5 : sqnr,
      cosine: i === 4 ? 1 : 0.99 - random() * 0.05,
      maxAbsError: i === 4 ? 0 : random() * 0.2,
      weight: hasWeight
        ? {
            tensor: `w${i}`,
            sqnr: 35 + random() * 10,
            maxAbsError: random() * 1e-3,
            bits: 8,
            granularity: 'channel',
            histogram: histogramOf(weights, 48),
          }
        : undefined,
      activation: {
        tensor: `t${i}`,
        observer: clip < 1 ? 'percentile' : 'minmax',
        min: activationMin,
        max: activationMax,
        clippedShare: clipped,
        histogram: observed,
      },
      flagged,
      suggestion: flagged
        ? {
            why: 'keep it float',
            override: { nodes: { [`/block${i >> 2}/${opType.toLowerCase()}_${i}`]: { float: true } } },
          }
        : undefined,
    });
  }
  const recipe = resolveRecipe({ mode: 'static' });
  return {
    kind: 'quantkit-report',
    version: 1,
    model: 'models/tiny <cnn>.onnx',
    quantkitVersion: '0.1.0',
    recipe,
    summary: {
      mode: 'static',
      sizeBefore: 1_234_567,
      sizeAfter: 345_678,
      weightBytesBefore: 1_100_000,
      weightBytesAfter: 280_000,
      nodes: [
        ...layers.map((layer) => ({
          name: layer.node,
          opType: layer.opType,
          quantized: true,
          reason: 'quantized',
        })),
        { name: 'softmax', opType: 'Softmax', quantized: false, reason: 'op type not quantized' },
      ],
      calibrationSamples: 32,
      calibrationThreads: 1,
      warnings: [],
    },
    samples: 8,
    outputs: [
      { name: 'logits', sqnr: 24.5, cosine: 0.9987, maxAbsError: 0.031, top1Agreement: 0.875 },
      {
        name: 'exact_out',
        sqnr: Number.POSITIVE_INFINITY,
        cosine: 1,
        maxAbsError: 0,
        top1Agreement: undefined,
      },
    ],
    layers,
  };
}

/** Layer indices worst first, computed here rather than taken from the page's ordering code. */
function worstLayers(report: QuantizeReport): number[] {
  return report.layers
    .map((_, i) => i)
    .sort((a, b) => report.layers[a]!.sqnr - report.layers[b]!.sqnr || a - b);
}

function chartCount(report: QuantizeReport, indices: readonly number[]): number {
  return indices.reduce((sum, i) => {
    const layer = report.layers[i]!;
    return sum + (layer.activation ? 1 : 0) + (layer.weight ? 1 : 0);
  }, 0);
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('renderReportHtml', () => {
  const report = sampleReport();
  const html = renderReportHtml(report, { chartScript: FAKE_CHART });

  it('embeds the report so it parses back unchanged, Infinity SQNR included', () => {
    const parsed = parseReportHtml(html);
    expect(parsed).toEqual(report);
    expect(parsed.layers[4]!.sqnr).toBe(Number.POSITIVE_INFINITY);
    expect(parsed.outputs[1]!.sqnr).toBe(Number.POSITIVE_INFINITY);
  });

  it('round-trips any names and any numbers, including non-finite ones and names that look like the encoding', () => {
    const name = fc.oneof(
      fc.string(),
      fc.constantFrom('Infinity', 'NaN', '{"$number":"Infinity"}', '</script>', '<!--'),
    );
    const number = fc.double().map((value) => (Object.is(value, -0) ? 0 : value));
    fc.assert(
      fc.property(name, number, number, (node, sqnr, cosine) => {
        const base = sampleReport(2, 1);
        const layers = [{ ...base.layers[0]!, node, sqnr, cosine }, base.layers[1]!];
        const custom = { ...base, layers };
        const page = renderReportHtml(custom, { chartScript: FAKE_CHART });
        expect(parseReportHtml(page)).toEqual(custom);
        // Whatever the name, it opens and closes no script element.
        expect(count(page.toLowerCase(), '<script')).toBe(3);
        expect(count(page.toLowerCase(), '</script')).toBe(3);
      }),
      { numRuns: 60 },
    );
  });

  it('escapes node names in the HTML', () => {
    expect(html).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<img');
    expect(html).not.toContain(EVIL_NAME);
    expect(count(html, '</script>')).toBe(3);
    expect(html).toContain('<p class="model">models/tiny &lt;cnn&gt;.onnx</p>');
  });

  it('writes ∞ for infinite SQNR and sorts the layer table worst first', () => {
    expect(html).toContain('<td class="num">∞</td>');
    const tableNames = [
      ...html.matchAll(/<tr(?: class="flagged")?><td class="name"><a href="#layer-(\d+)">/g),
    ];
    const rows = tableNames.map((match) => Number(match[1]));
    expect(rows).toEqual(worstLayers(report));
    expect(html).toMatch(/<tr class="flagged"><td class="name"><a href="#layer-9">/);
  });

  it('opens the 12 worst layers and leaves the others closed', () => {
    const open = [...html.matchAll(/<details class="layer[^"]*" id="layer-(\d+)" open>/g)].map((m) =>
      Number(m[1]),
    );
    expect(open).toEqual(worstLayers(report).slice(0, 12));
    expect(count(html, '<details class="layer')).toBe(20);
    const few = renderReportHtml(report, { chartScript: FAKE_CHART, expandedLayers: 3 });
    expect(count(few, '" open>')).toBe(3);
    expect(few).toContain(
      `data-charts-total="${
        1 +
        chartCount(
          report,
          report.layers.map((_, i) => i),
        )
      }"`,
    );
  });

  it('loads nothing from the network', async () => {
    const chartScript = await loadChartScript();
    const page = renderReportHtml(report, { chartScript, title: 'tiny' });
    const ownMarkup = page.split(chartScript).join('');
    const tags = [...ownMarkup.matchAll(/<[a-z][^>]*>/gi)].map((match) => match[0]);
    const references = tags.flatMap((tag) =>
      [...tag.matchAll(/\s(?:src|href|srcset|poster|data|action)\s*=\s*["']?([^"'\s>]*)/gi)].map(
        (match) => match[1]!,
      ),
    );
    expect(references).toEqual(['data:,', ...worstLayers(report).map((index) => `#layer-${index}`)]);
    expect(ownMarkup).not.toMatch(/@import|url\(/i);
    // The inlined library names its home page in a comment; nothing else may mention a URL.
    expect(ownMarkup).not.toMatch(/https?:\/\//i);
  });

  it('rejects a chart script that would end the inline script, and values that are not reports', () => {
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return QuantError.is(error) ? error.code : 'other';
      }
      return 'none';
    };
    expect(codeOf(() => renderReportHtml(report, { chartScript: 'var a = "</SCRIPT>";' }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(codeOf(() => renderReportHtml(report, { chartScript: '' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => renderReportHtml(report, { chartScript: FAKE_CHART, expandedLayers: -1 }))).toBe(
      'INVALID_ARGUMENT',
    );
    const notReport = { ...report, kind: 'something-else' } as unknown as QuantizeReport;
    expect(codeOf(() => renderReportHtml(notReport, { chartScript: FAKE_CHART }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseReportHtml('<html><body>hello</body></html>'))).toBe('INVALID_ARGUMENT');
  });
});

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
});
