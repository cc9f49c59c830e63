/**
 * Browser-test helper: opens an HTML file from disk (file://) in Debian's headless Chromium
 * through playwright-core, waits for the report's bootstrap to finish drawing, and returns what
 * rendered, every console error, every network request the page attempted (all blocked), and a
 * screenshot. Tests skip with a visible message where no Chromium is installed.
 *
 * Install on Debian: apt-get install -y --no-install-recommends chromium fonts-dejavu-core
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Candidate Chromium binaries (Debian's package first); SIGPROP_CHROMIUM=path uses that one only. */
const CANDIDATES = process.env.SIGPROP_CHROMIUM ? [process.env.SIGPROP_CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium binary to use, or undefined when none is installed. */
export function findChromium(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why browser tests would skip ('' when they can run). */
export function browserSkipReason(): string {
  if (findChromium()) return '';
  return (
    'no Chromium found at ' + CANDIDATES.join(', ') +
    '; browser tests of the HTML report are SKIPPED. Install it with: ' +
    'apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core'
  );
}

/** Chromium flags for a quiet, offline, sandbox-free headless run. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Chromium flags for the GPU code paths on the software renderer (no --disable-gpu): WebGL2 with
 * float colour buffers through ANGLE on SwiftShader, and WebGPU with a SwiftShader (fallback)
 * adapter. WebGPU needs a secure context: pages must come from http://127.0.0.1, not file://.
 */
export const GPU_CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan,WebGPU',
  '--use-vulkan=swiftshader',
  '--use-webgpu-adapter=swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What opening a report page found. */
export interface PageCheck {
  /** window.__sigpropReport from the page bootstrap (expected/rendered/errors), or undefined on timeout. */
  status: { expected: number; rendered: number; errors: string[] } | undefined;
  /** Number of `.plot` divs in the page. */
  plotDivs: number;
  /** `.plot` divs that contain a plotly `.main-svg` with drawn plot elements. */
  renderedDivs: number;
  /** Ids of `.plot` divs without drawn plot elements. */
  emptyIds: string[];
  /** Console messages of type 'error' and uncaught page errors. */
  consoleErrors: string[];
  /** URLs the page tried to fetch other than file:// and data: (all were blocked). */
  networkRequests: string[];
  /** Where the full-page screenshot was saved. */
  screenshot: string;
}

/** A started headless Chromium (one fresh, empty profile) that checks report pages. */
export interface ReportBrowser {
  /** Open `htmlFile`, wait for the figures, save a full-page screenshot to `screenshotPath`. */
  check(htmlFile: string, screenshotPath: string, opts?: { timeoutMs?: number }): Promise<PageCheck>;
  close(): Promise<void>;
}

/**
 * Start Debian's Chromium (headless, no sandbox, no GPU, no background networking) with a new
 * empty user-data dir. Throws when no Chromium is installed (call browserSkipReason first).
 */
export async function launchReportBrowser(opts: { widthPx?: number } = {}): Promise<ReportBrowser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(browserSkipReason());
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'sigprop-chromium-'));
  // playwright passes the fresh, empty userDataDir to Chromium as --user-data-dir itself.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: opts.widthPx ?? 1280, height: 900 },
  });
  return {
    check: (file, shot, o = {}) => checkPage(context, file, shot, o.timeoutMs ?? 60000),
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

type Context = Awaited<ReturnType<typeof import('playwright-core').chromium.launchPersistentContext>>;

async function checkPage(context: Context, htmlFile: string, screenshotPath: string, timeoutMs: number): Promise<PageCheck> {
  const page = await context.newPage();
  try {
    const consoleErrors: string[] = [];
    const networkRequests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`));
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
      networkRequests.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load', timeout: timeoutMs });
    let status: PageCheck['status'];
    try {
      await page.waitForFunction(() => (window as unknown as { __sigpropReport?: unknown }).__sigpropReport !== undefined, undefined, { timeout: timeoutMs });
      status = await page.evaluate(() => (window as unknown as { __sigpropReport: PageCheck['status'] }).__sigpropReport);
    } catch {
      status = undefined;
    }
    const divs = await page.evaluate(() =>
      Array.from(document.querySelectorAll('div.plot')).map((d) => ({
        id: d.id,
        drawn: !!d.querySelector('svg.main-svg') && d.querySelectorAll('.scatterlayer .trace, .barlayer .trace, .heatmaplayer .hm').length > 0,
      })),
    );
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    return {
      status,
      plotDivs: divs.length,
      renderedDivs: divs.filter((d) => d.drawn).length,
      emptyIds: divs.filter((d) => !d.drawn).map((d) => d.id),
      consoleErrors,
      networkRequests,
      screenshot: screenshotPath,
    };
  } finally {
    await page.close();
  }
}

/** One-shot: start Chromium, check one page, close. */
export async function checkReportInBrowser(htmlFile: string, screenshotPath: string, opts: { timeoutMs?: number; widthPx?: number } = {}): Promise<PageCheck> {
  const b = await launchReportBrowser(opts);
  try {
    return await b.check(htmlFile, screenshotPath, opts);
  } finally {
    await b.close();
  }
}
