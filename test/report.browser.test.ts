/**
 * Real-browser test of the HTML reports: Debian's headless Chromium (playwright-core) opens the
 * files from disk, every figure must render (plotly SVG with drawn traces), the console must stay
 * free of errors and the page must not try to reach the network. Screenshots are saved to
 * $SIGPROP_SCREENSHOT_DIR or <tmp>/sigprop-report-screens/ and their paths logged.
 * (The surrogate page has the same figures as the run report's surrogate section, so it is not
 * opened separately.) Skips, with a console warning that says how to install Chromium, where none is installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunReport, writeTracesPage } from '../src/report/run.js';
import { browserSkipReason, launchReportBrowser, type ReportBrowser } from './browser.js';
import { writeTracesReport } from '../src/report/inspect.js';
import { Rng } from '../src/rng.js';
import { lif, makeRunData, makeTraceSet } from './report.fixtures.js';
import type { TraceSet } from '../src/report/types.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runExperiment } from '../src/runner.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[report.browser.test] ${skipReason}`);

const dir = mkdtempSync(join(tmpdir(), 'sigprop-report-browser-'));
const shots = process.env.SIGPROP_SCREENSHOT_DIR ?? join(tmpdir(), 'sigprop-report-screens');
let browser: ReportBrowser | undefined;
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function expectAllRendered(file: string, figureCount: number, name: string): Promise<void> {
  const r = await browser!.check(file, join(shots, `${name}.png`));
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
  beforeAll(async () => {
    browser = await launchReportBrowser();
  });

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

  it('inspect report (writeTracesReport on in-memory weights) renders', async () => {
    const K = 12, H = 10, C = 2;
    const rng = new Rng(3);
    const rand = (n: number, sc: number) => Float32Array.from({ length: n }, () => sc * rng.normal());
    const images = Float32Array.from({ length: 4 * K }, () => rng.uniform());
    const split = { images, labels: Int32Array.from([0, 1, 0, 1]), n: 4, inputSize: K, numClasses: C };
    const tensors = { 'layer0.W': rand(K * H, 0.6), 'layer0.b': new Float32Array(H), 'target.W': rand(C * K, 1), 'target.b': new Float32Array(K) };
    const file = join(dir, 'inspect', 'traces.html');
    const w = await writeTracesReport({
      weights: { config: { dataset: 'tiny', rule: 'sigprop', mode: 'spiking', steps: 50, layers: [{ size: H, model: 'lif' }, { size: C }] }, tensors, initialTensors: { ...tensors, 'layer0.W': rand(K * H, 0.2) } },
      dataset: { name: 'tiny', inputShape: [K], inputSize: K, numClasses: C, train: split, test: split, normalisation: { kind: 'none' }, source: 'test' },
      outFile: file,
      samples: [0, 1],
    });
    // the rule's own network: its readout is recorded too (with its initial weights, which the report says)
    expect(w.figureCount).toBe(9);
    expect(w.warnings.some((m) => /readout\.W, readout\.b not in the weights given/.test(m))).toBe(true);
    await expectAllRendered(file, w.figureCount, 'inspect-report');
  });

  it('report.html of a real spiking run (training curves, traces before/after, surrogate shape) renders', async () => {
    const cfg = resolveConfig({
      name: 'tiny-lif', dataset: 'moons', trainSize: 64, testSize: 16, layers: [{ size: 8, model: 'lif' }, { size: 2, model: 'lif' }],
      rule: 'sigprop', mode: 'spiking', surrogate: 'fastSigmoid:k=25', steps: 8, epochs: 2, batchSize: 16, learningRate: 0.01, seed: 3, backend: 'reference',
    });
    const r = await runExperiment(cfg, { runDir: join(dir, 'spiking-run'), progress: false, log: () => {} });
    const html = readFileSync(r.reportPath!, 'utf8');
    const ids = [...html.matchAll(/<div class="plot" id="([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(expect.arrayContaining(['t0-v0', 't1-v0', 't-rates', 'sg-shape']));
    await expectAllRendered(r.reportPath!, ids.length, 'spiking-run-report');
  });
});
