/**
 * `--backend gpu` through the CLI: accepted where backend names are validated; on a machine with
 * no GPU device (Node without the `gl` package) a run exits with the backend's message saying what
 * was tried and what to install, not a stack trace; with SIGPROP_GPU_MODE=cpu it trains.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from './cli.helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sigprop-cli-gpu-'));
const tiny = {
  name: 'tiny', dataset: 'moons', trainSize: 32, testSize: 16, layers: [{ size: 6 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 1, batchSize: 16,
  learningRate: 0.01, backend: 'reference', outDir: join(dir, 'runs'),
};
const tinyPath = join(dir, 'tiny.json');
writeFileSync(tinyPath, JSON.stringify(tiny));

let gl = true;
try {
  await import('gl' as string);
} catch {
  gl = false;
}

const oldMode = process.env.SIGPROP_GPU_MODE;
afterEach(() => {
  if (oldMode === undefined) delete process.env.SIGPROP_GPU_MODE;
  else process.env.SIGPROP_GPU_MODE = oldMode;
});

describe('sigprop CLI --backend gpu', () => {
  it.skipIf(gl)('without a device: a clear message naming what was tried and what to install, no stack trace', async () => {
    delete process.env.SIGPROP_GPU_MODE;
    const r = await cli('run', tinyPath, '--backend', 'gpu');
    expect(r.code).not.toBe(0);
    expect(r.err).not.toMatch(/unknown|must be one of/); // the name is accepted
    expect(r.err).toMatch(/backend "gpu" found no device/);
    expect(r.err).toMatch(/headless-gl/);
    expect(r.err).toMatch(/npm install gl/);
    expect(r.err).toMatch(/WebGPU adapter/);
    expect(r.err).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('SIGPROP_GPU_MODE=cpu: the run trains on gpu.js CPU mode', async () => {
    process.env.SIGPROP_GPU_MODE = 'cpu';
    const r = await cli('run', tinyPath, '--backend', 'gpu');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    expect(r.out).toContain('backend gpu: gpu.js cpu (JavaScript kernels on the CPU)'); // what the run ran on
  }, 60_000);

  it('an unknown backend name is still refused with the list, which includes gpu', async () => {
    const r = await cli('run', tinyPath, '--backend', 'gpux');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/gpu/);
  });
});
