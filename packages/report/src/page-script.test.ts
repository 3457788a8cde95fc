import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OUTPUT, pageScriptModule } from '../scripts/build-page-script.mjs';
import { PAGE_SCRIPT } from './generated/page-script.js';

describe('the generated page script', () => {
  it('is what src/page/ compiles to (run `pnpm --filter @quantkit/report generate` after changing it)', async () => {
    expect(await readFile(OUTPUT, 'utf8')).toBe(await pageScriptModule());
  });

  it('is a script a <script> element can hold, with no chart.js code of its own', () => {
    expect(PAGE_SCRIPT).not.toMatch(/<\/script|<!--/i);
    // Chart.js is inlined separately; its code here would mean a second copy in the page.
    expect(PAGE_SCRIPT).not.toMatch(/class\s+Chart\b|registerables/);
    expect(PAGE_SCRIPT.length).toBeLessThan(30_000);
  });
});
