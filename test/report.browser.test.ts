/**
 * Real-browser test of the HTML reports: Debian's headless Chromium (playwright-core) opens the
 * files from disk, every figure must render (plotly SVG with drawn traces), the console must stay
 * free of errors and the page must not try to reach the network. Screenshots are saved to
 * $SIGPROP_SCREENSHOT_DIR or <tmp>/sigprop-report-screens/ and their paths logged.
 * Skips, with a console warning that says how to install Chromium, where none is installed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunReport, writeSurrogateReport, writeTracesPage } from '../src/report/run.js';
import { browserSkipReason, checkReportInBrowser } from './browser.js';
import { lif, makeAccuracyRows, makeRunData, makeSurrogates, makeTraceSet } from './report.fixtures.js';
import type { TraceSet } from '../src/report/types.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[report.browser.test] ${skipReason}`);

const dir = mkdtempSync(join(tmpdir(), 'sigprop-report-browser-'));
const shots = process.env.SIGPROP_SCREENSHOT_DIR ?? join(tmpdir(), 'sigprop-report-screens');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function expectAllRendered(file: string, figureCount: number, name: string): Promise<void> {
  const r = await checkReportInBrowser(file, join(shots, `${name}.png`));
  console.log(`[report.browser.test] ${name}: ${r.renderedDivs}/${figureCount} figures rendered; screenshot ${r.screenshot}`);
  expect(r.consoleErrors).toEqual([]);
  expect(r.networkRequests).toEqual([]);
  expect(r.status).toEqual({ expected: figureCount, rendered: figureCount, errors: [] });
  expect(r.plotDivs).toBe(figureCount);
  expect(r.emptyIds).toEqual([]);
  expect(r.renderedDivs).toBe(figureCount);
  expect(statSync(r.screenshot).size).toBeGreaterThan(10_000);
}

describe.skipIf(!!skipReason)('HTML reports in headless Chromium', () => {
  it('run report: metrics, traces before/after, surrogates, config all render offline', async () => {
    const file = join(dir, 'run.html');
    const w = writeRunReport(file, makeRunData());
    expect(w.figureCount).toBe(17);
    await expectAllRendered(file, w.figureCount, 'run-report');
  });

  it('traces report with a long decimated recording renders', async () => {
    const T = 20_000;
    const { u, s } = lif(Float32Array.from({ length: T }, (_, t) => 0.12 + 0.05 * Math.sin(t / 300)));
    const long: TraceSet = {
      label: 'long recording', dtMs: 0.1, layers: { 0: { name: 'hidden0', threshold: 1 } },
      recordings: [{ layer: 0, var: 'u', neuron: 0, sample: 0, values: u }, { layer: 0, var: 's', neuron: 0, sample: 0, values: s }],
    };
    const file = join(dir, 'traces.html');
    const w = writeTracesPage(file, [makeTraceSet('before training', { gain: 0.15 }), long], { title: 'traces', notes: ['fixture'] });
    expect(w.figureCount).toBe(4 + 2 + 1);
    await expectAllRendered(file, w.figureCount, 'traces-report');
  });

  it('surrogate report renders', async () => {
    const file = join(dir, 'surrogates.html');
    const w = writeSurrogateReport(file, makeSurrogates(), makeAccuracyRows());
    await expectAllRendered(file, w.figureCount, 'surrogate-report');
  });
});
