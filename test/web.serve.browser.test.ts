/**
 * `sigprop serve` in a real browser: the server runs in-process, Debian's headless Chromium
 * (playwright-core) opens the page, chooses the synthetic spike-pattern task and starts training
 * in the page; the test waits until the page reports >= 90% test accuracy (window.__sigpropLive),
 * checks that the accuracy, voltage-trace and raster plots drew, that the console stayed free of
 * errors and that no request left 127.0.0.1, then stops training, clicks "Download checkpoint"
 * and parses the downloaded bytes back. A full-page screenshot taken while training is saved to
 * $SIGPROP_SCREENSHOT_DIR or <tmp>/sigprop-report-screens/serve.png. A second run chooses the gpu
 * backend in a Chromium with WebGPU on SwiftShader: the page trains on WebGPU (asynchronous
 * read-back), draws traces recorded from the trained weights and downloads a checkpoint.
 * Skips where no Chromium is installed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../src/checkpoint.js';
import { startServer, type SigpropServer } from '../src/web/server.js';
import { browserSkipReason, CHROMIUM_ARGS, findChromium, GPU_CHROMIUM_ARGS } from './browser.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[web.serve.browser.test] ${skipReason}`);
const shots = process.env.SIGPROP_SCREENSHOT_DIR ?? join(tmpdir(), 'sigprop-report-screens');

interface Live {
  state: string;
  backend?: string;
  backendReport?: string;
  backendNotes: string[];
  batch: number;
  testAccuracy?: number;
  secondsTo90?: number;
  samplesPerSecond: number;
  epoch: number;
  points: unknown[];
  draws: { accuracy: number; traces: number; raster: number };
  error?: string;
}

let srv: SigpropServer | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await srv?.close();
});

/** A page in a fresh headless Chromium profile (closed and removed after the tests), collecting console errors. */
async function openPage(args: string[]) {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'sigprop-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: findChromium(), headless: true, args, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
  });
  cleanups.push(async () => {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
  return { page, consoleErrors };
}

describe.skipIf(!!skipReason)('sigprop serve in headless Chromium', () => {
  it('trains the synthetic task live to >= 90% test accuracy, draws its plots, stays on 127.0.0.1, downloads a checkpoint', async () => {
    srv = await startServer();
    const { page, consoleErrors } = await openPage(CHROMIUM_ARGS);
    const requests: string[] = [];
    page.on('request', (r) => void requests.push(r.url()));

    await page.goto(srv.url);
    await page.waitForFunction(() => (window as unknown as { __sigpropLive?: Live }).__sigpropLive?.state === 'idle', undefined, { timeout: 20_000 });
    const live = () => page.evaluate(() => (window as unknown as { __sigpropLive: Live }).__sigpropLive);
    await page.selectOption('#preset', 'spike-patterns');
    const t0 = Date.now();
    await page.click('#start');
    // a screenshot while training
    await page.waitForFunction(() => {
      const s = (window as unknown as { __sigpropLive: Live }).__sigpropLive;
      return s.points.length >= 6 || s.state === 'error';
    }, undefined, { timeout: 30_000 });
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'serve.png'), fullPage: true });
    await page.waitForFunction(() => {
      const s = (window as unknown as { __sigpropLive: Live }).__sigpropLive;
      return (s.testAccuracy ?? 0) >= 0.9 || s.state === 'error' || s.state === 'done';
    }, undefined, { timeout: 45_000 });
    const reached = await live();
    const seconds = (Date.now() - t0) / 1000;
    console.log(
      `[web.serve.browser.test] backend ${reached.backend}: test ${(100 * (reached.testAccuracy ?? 0)).toFixed(1)}% after ${seconds.toFixed(1)} s ` +
      `(page: 90% after ${reached.secondsTo90?.toFixed(1)} s of training, ${reached.samplesPerSecond.toFixed(0)} samples/s); screenshot ${join(shots, 'serve.png')}`,
    );
    expect(reached.error).toBeUndefined();
    expect(reached.testAccuracy).toBeGreaterThanOrEqual(0.9);
    // 'auto' asks for gpu first; where it cannot start, the page says why and falls back to wasm
    expect(['gpu', 'wasm']).toContain(reached.backend);
    if (reached.backend !== 'gpu') expect(reached.backendNotes.join(' ')).toMatch(/^gpu: /);
    expect(await page.textContent('#status')).toMatch(/backend (gpu|wasm).* samples\/s .* test \d+\.\d%/);

    // the plots drew: plotly SVG with data in each of the three
    expect(reached.draws.accuracy).toBeGreaterThan(1);
    expect(reached.draws.traces).toBeGreaterThan(0);
    expect(reached.draws.raster).toBeGreaterThan(0);
    for (const id of ['plot-accuracy', 'plot-traces', 'plot-raster']) {
      const traces = await page.locator(`#${id} .scatterlayer .trace`).count();
      expect(traces, id).toBeGreaterThanOrEqual(2);
    }
    expect(await page.locator('#plot-traces .xtitle').textContent()).toBe('time (ms)');
    expect(await page.locator('#plot-raster .xtitle').textContent()).toBe('time (ms)');

    // the page stays responsive while training; Stop ends after the current batch
    await page.click('#stop');
    await page.waitForFunction(() => (window as unknown as { __sigpropLive: Live }).__sigpropLive.state === 'stopped', undefined, { timeout: 10_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toMatch(/^sigprop-spike-patterns-epoch\d+\.ckpt$/);
    const ck = decodeCheckpoint(readFileSync((await download.path())!), download.suggestedFilename());
    expect(ck.architecture).toBe('rule=sigprop;mode=spiking;in=4000;layers=default:64,default:10');
    expect(ck.meta.backend).toBe(reached.backend);
    expect(ck.tensors['readout.W'].data.length).toBe(640);

    expect(consoleErrors).toEqual([]);
    const origin = srv.url.replace(/\/$/, '');
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    const paths = new Set(requests.filter((u) => u.startsWith('http')).map((u) => new URL(u).pathname));
    for (const p of ['/', '/style.css', '/plotly.min.js', '/app.js', '/sigprop.js', '/info.json']) expect(paths).toContain(p);
    for (const p of paths) expect(srv.paths).toContain(p);
  }, 90_000);

  it('trains on the gpu backend (WebGPU on SwiftShader) when chosen: traces, checkpoint, no console errors', async () => {
    srv ??= await startServer();
    const { page, consoleErrors } = await openPage(GPU_CHROMIUM_ARGS);
    await page.goto(srv.url);
    await page.waitForFunction(() => (window as unknown as { __sigpropLive?: Live }).__sigpropLive?.state === 'idle', undefined, { timeout: 20_000 });
    await page.selectOption('#preset', 'spike-patterns');
    await page.selectOption('#backend', 'gpu');
    const t0 = Date.now();
    await page.click('#start');
    // two test measurements: the untrained network and the one after the first 8 batches
    await page.waitForFunction(() => {
      const s = (window as unknown as { __sigpropLive: Live }).__sigpropLive;
      return (s.points.length >= 2 && s.draws.traces > 0) || s.state === 'error';
    }, undefined, { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForFunction(() => ['stopped', 'done', 'error'].includes((window as unknown as { __sigpropLive: Live }).__sigpropLive.state), undefined, { timeout: 20_000 });
    const s = await page.evaluate(() => (window as unknown as { __sigpropLive: Live }).__sigpropLive);
    console.log(`[web.serve.browser.test] ${s.backendReport}: ${s.points.length} test measurements, ${s.samplesPerSecond.toFixed(0)} samples/s, test ${(100 * (s.testAccuracy ?? 0)).toFixed(1)}% after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(s.error).toBeUndefined();
    expect(s.backend).toBe('gpu');
    expect(s.backendReport).toMatch(/webgpu/);
    expect(s.draws.traces).toBeGreaterThan(0);
    expect(await page.locator('#plot-traces .scatterlayer .trace').count()).toBeGreaterThanOrEqual(2);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const ck = decodeCheckpoint(readFileSync((await download.path())!), download.suggestedFilename());
    expect(ck.meta.backend).toBe('gpu');
    expect(ck.tensors['readout.W'].data.some((v) => v !== 0)).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 120_000);
});
