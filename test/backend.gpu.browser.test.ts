/**
 * The gpu backend in a real browser: test/fixtures/gpu-browser-entry.ts is bundled for the browser
 * with esbuild (gpu.js resolves to its browser bundle), served from a local HTTP server, and opened
 * in headless Chromium (playwright-core) with WebGL on the SwiftShader software renderer. The page
 * runs a set of kernels in gpu.js webgl2 mode (and again in webgl mode) and on `reference` with
 * equal inputs; every case must agree (float32 tolerance), WebGL textures must not leak, the
 * console must stay free of errors, and a few batches of spiking and rate sigprop on webgl2 must
 * give the weights of reference.
 *
 * Chromium's GPU process is left on here (no --disable-gpu, unlike test/browser.ts's report
 * checks): WebGL2 with EXT_color_buffer_float on SwiftShader is what the backend needs, and the
 * test fails, saying so, when the page has none. It skips (with a warning) only where no Chromium
 * is installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserShimPlugin } from '../src/web/build.js';
import { browserSkipReason, findChromium, GPU_CHROMIUM_ARGS } from './browser.js';
import type { EngineCaseResult, GpuPageReport } from './fixtures/gpu-browser-entry.js';

const skipReason = browserSkipReason();
if (skipReason) console.warn(`[backend.gpu.browser.test] ${skipReason}`);


const dir = mkdtempSync(join(tmpdir(), 'sigprop-gpu-browser-'));
let server: Server | undefined;
let origin = '';

beforeAll(async () => {
  if (skipReason) return;
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await build({
    entryPoints: [join(root, 'test/fixtures/gpu-browser-entry.ts')],
    bundle: true, platform: 'browser', format: 'esm', outfile: join(dir, 'entry.js'), logLevel: 'silent', target: 'es2022',
    plugins: [browserShimPlugin()], // the Node-only modules' browser stand-ins, as the library's own bundle
  });
  expect(result.errors).toEqual([]);
  writeFileSync(join(dir, 'index.html'), '<!doctype html><html><head><meta charset="utf-8"><title>gpu backend</title><link rel="icon" href="data:,"></head><body><script type="module" src="/entry.js"></script></body></html>');
  const files: Record<string, [string, string]> = { '/': ['index.html', 'text/html'], '/index.html': ['index.html', 'text/html'], '/entry.js': ['entry.js', 'text/javascript'] };
  server = createServer((req, res) => {
    const f = files[(req.url ?? '/').split('?')[0]];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[1] }).end(readFileSync(join(dir, f[0])));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 120_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

type Browser = Awaited<ReturnType<typeof import('playwright-core').chromium.launch>>;
type Page = Awaited<ReturnType<Browser['newPage']>>;

describe.skipIf(!!skipReason)('gpu backend in headless Chromium (WebGL and WebGPU on SwiftShader)', () => {
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  beforeAll(async () => {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: GPU_CHROMIUM_ARGS });
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await page.goto(`${origin}/`, { waitUntil: 'load' });
    await page.waitForFunction(() => typeof (window as unknown as { runGpuChecks?: unknown }).runGpuChecks === 'function', undefined, { timeout: 30_000 });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
  });

  /** Run the page's kernel cases in `mode` and check them. */
  async function kernels(mode: 'webgl2' | 'webgl' | 'webgpu'): Promise<GpuPageReport> {
    const report = (await page.evaluate((m) => (window as unknown as { runGpuChecks(m: string): Promise<unknown> }).runGpuChecks(m), mode)) as GpuPageReport;
    if (mode !== 'webgpu') {
      if (!report.webgl2) expect.fail('the page reports no WebGL2 context (Chromium launched with SwiftShader flags); the gpu backend cannot be tested in this browser');
      if (!report.colorBufferFloat) expect.fail(`WebGL2 is there (${report.renderer}) but without EXT_color_buffer_float: gpu.js single precision needs float render targets`);
    }
    expect(report.error, `creating the backend in ${mode} mode (Chromium launched with --enable-unsafe-webgpu and a SwiftShader adapter)`).toBeUndefined();
    console.log(
      `[backend.gpu.browser.test] ${report.describe}; ${report.cases.length} kernel cases on ${report.deviceArray}s ` +
      (mode === 'webgpu' ? `(WebGPU buffers alive ${report.gpuBuffersBefore} → ${report.gpuBuffersAfter}` : `(WebGL textures alive ${report.glTexturesBefore} → ${report.glTexturesAfter}`) +
      ` over 100 steps); worst error/tolerance ${Math.max(...report.cases.map((c) => c.worst)).toFixed(3)}`,
    );
    const failed = report.cases.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    expect(failed).toEqual([]);
    expect(report.cases.length).toBeGreaterThan(40);
    expect(report.describe).toContain(`gpu.js ${mode} (`);
    expect(report.deviceArray).not.toBe('Float32Array'); // kernels ran on WebGL, not a CPU fallback
    expect(report.deviceArray).not.toBe('none');
    expect(report.liveAfter).toBe(report.liveBefore);
    if (mode === 'webgpu') {
      expect(report.gpuBuffersBefore).toBeGreaterThan(0);
      expect(report.gpuBuffersAfter, 'WebGPU buffers alive after 100 more steps').toBe(report.gpuBuffersBefore);
    } else {
      expect(report.glTexturesBefore).toBeGreaterThan(0);
      expect(report.glTexturesAfter, 'WebGL textures alive after 100 more steps').toBe(report.glTexturesBefore);
    }
    expect(consoleErrors).toEqual([]);
    return report;
  }

  /** Train the page's rule cases in `mode` against reference and check the weights. */
  async function engine(mode: 'webgl2' | 'webgpu', n: number): Promise<void> {
    const res = (await page.evaluate((m) => (window as unknown as { runEngineChecks(m: string): Promise<unknown> }).runEngineChecks(m), mode)) as EngineCaseResult[];
    expect(res.length).toBe(n);
    for (const e of res) {
      console.log(`[backend.gpu.browser.test] ${mode} ${e.name}: weights within ${e.relDiff.toExponential(2)} of reference (relative to each entry's largest value; worst at ${e.where}); loss ${e.lossGpu} vs ${e.lossRef}`);
      expect(e.error, e.name).toBeUndefined();
      expect(e.relDiff, `${e.name}: largest weight difference, at ${e.where}`).toBeLessThan(1e-3);
      expect(Math.abs(e.lossGpu - e.lossRef), `${e.name}: last batch loss`).toBeLessThan(1e-3 * Math.max(1, Math.abs(e.lossRef)));
    }
    expect(consoleErrors).toEqual([]);
  }

  it('webgl2: every kernel case agrees with reference, textures do not leak, no console errors; auto picks WebGPU where an adapter answers', async () => {
    const report = await kernels('webgl2');
    expect(report.autoDescribe).toMatch(/gpu\.js webgpu/); // 'auto' in a browser whose WebGPU adapter answers
  }, 120_000);

  it('webgl2: three batches of spiking sigprop, rate sigprop and DFA give the weights of reference', async () => {
    await engine('webgl2', 3);
  }, 120_000);

  it('webgpu (SwiftShader adapter): every kernel case agrees with reference after a sync, buffers do not leak, no console errors', async () => {
    const report = await kernels('webgpu');
    expect(report.describe).toMatch(/fallback adapter/); // SwiftShader, as Chromium was told to use
  }, 120_000);

  it('webgpu: three batches of spiking sigprop, rate sigprop and DFA through trainBatchAsync give the weights of reference', async () => {
    await engine('webgpu', 3);
  }, 120_000);

  it('webgl (WebGL1): every kernel case agrees with reference', async () => {
    await kernels('webgl');
  }, 120_000);
});
