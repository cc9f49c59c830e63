/**
 * The browser build (src/web/build.ts): src/browser.ts bundles for platform 'browser' (esbuild
 * cannot resolve a `node:` module there, so a Node built-in on a browser path fails the build),
 * the bundle holds no `node:` import, the Node-only modules' stand-ins export the same names, and
 * the written bundle runs: a network trains with it. Also the environment-neutral pieces it
 * relies on: SHA-256 and the image-subset format.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { BROWSER_SHIMS, buildBrowserBundle, buildPageScript, KERNELS_WASM, modulePath, ROOT, writeBrowserBuild } from '../src/web/build.js';
import { sha256 } from '../src/sha256.js';
import { decodeImageSubset, encodeImageSubset, imageSubsetSplit } from '../src/data/mnist-subset.js';
import { DataError } from '../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sigprop-web-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('browser bundle', () => {
  let code = '';
  it('builds with platform browser and contains no node: import', async () => {
    code = await buildBrowserBundle({ minify: false });
    expect(code.length).toBeGreaterThan(50_000);
    expect(code).not.toMatch(/["'`]node:/);
    // no CommonJS require left for the page to call; gpu.js carries two inside code it generates as
    // text (a headless-gl kernel's toString() and its Node worker source), never run in a page
    const requires = code.match(/\brequire\([^)]*\)/g) ?? [];
    expect(requires.filter((r) => r !== "require('gl')" && r !== "require('worker_threads')")).toEqual([]);
    for (const r of requires) expect(code).toMatch(new RegExp(`[\`'"][^\`'"]*${r.replace(/[()]/g, '\\$&')}`)); // inside a string
    // the page script imports the bundle instead of including it
    const app = await buildPageScript({ minify: false });
    expect(app).toMatch(/from ["']\.\/sigprop\.js["']/);
    expect(app.length).toBeLessThan(code.length / 4);
  });

  it('fails (esbuild cannot resolve node: for the browser) when a browser path imports a Node built-in', async () => {
    await expect(build({ stdin: { contents: "import { readFileSync } from 'node:fs'; console.log(readFileSync);", resolveDir: ROOT }, bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent' }))
      .rejects.toThrow(/node:fs/);
  });

  it('each Node-only module and its browser stand-in export the same names', async () => {
    for (const [nodePath, shimPath] of Object.entries(BROWSER_SHIMS)) {
      const real = await import(pathToFileURL(modulePath(nodePath)).href);
      const shim = await import(pathToFileURL(modulePath(shimPath)).href);
      // wasmCandidates lists file paths on disk: Node only
      expect(Object.keys(shim).sort(), `${shimPath} vs ${nodePath}`).toEqual(Object.keys(real).filter((k) => k !== 'wasmCandidates').sort());
    }
  });

  it('npm run build:web writes sigprop.js with kernels.wasm beside it; the bundle trains a network', async () => {
    const files = await writeBrowserBuild(dir, { minify: true });
    expect(files[0]).toBe(join(dir, 'sigprop.js'));
    if (existsSync(KERNELS_WASM)) expect(readFileSync(join(dir, 'kernels.wasm'))).toEqual(readFileSync(KERNELS_WASM));
    const lib = await import(pathToFileURL(files[0]).href);
    const backend = await lib.createBackend('reference');
    const preset = lib.livePreset('spike-patterns');
    const data = lib.loadSynthetic('spike-patterns', { seed: 0, params: preset.config.datasetParams, trainSize: 64, testSize: 32 });
    const trainer = new lib.LiveTrainer(backend, data, preset, { epochs: 1 });
    await trainer.run();
    expect(trainer.points.length).toBeGreaterThanOrEqual(2);
    const ck = lib.decodeCheckpoint(await trainer.checkpointBytes());
    expect(ck.epoch).toBe(1);
    expect(Object.keys(ck.tensors)).toContain('readout.W');
    expect(lib.listSurrogates().length).toBeGreaterThan(5);
  });
});

describe('environment-neutral pieces', () => {
  it('sha256 equals node:crypto at block boundaries and on larger inputs', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_001]) {
      const d = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      expect(Buffer.from(sha256(d)).toString('hex')).toBe(createHash('sha256').update(d).digest('hex'));
    }
  });

  it('image subsets round-trip and are validated', () => {
    const labels = Uint8Array.from([3, 1, 4, 1, 5]);
    const pixels = Uint8Array.from({ length: 5 * 4 }, (_, i) => (i * 13) & 255);
    const bytes = encodeImageSubset({ n: 4, rows: 2, cols: 2, numClasses: 10, labels, pixels });
    const back = decodeImageSubset(bytes);
    expect([back.n, back.rows, back.cols, back.numClasses]).toEqual([4, 2, 2, 10]);
    expect(Array.from(back.labels)).toEqual([3, 1, 4, 1]);
    expect(Array.from(back.pixels)).toEqual(Array.from(pixels.subarray(0, 16)));
    const split = imageSubsetSplit(bytes);
    expect(split.inputSize).toBe(4);
    expect(split.images[1]).toBeCloseTo(13 / 255, 6);
    expect(() => decodeImageSubset(bytes.subarray(0, bytes.length - 1), 'cut.bin')).toThrow(/cut\.bin: .* needs/);
    expect(() => decodeImageSubset(new Uint8Array(30))).toThrow(DataError);
    const bad = bytes.slice();
    bad[24] = 12; // a label beyond the classes
    expect(() => decodeImageSubset(bad)).toThrow(/label 12/);
  });
});
