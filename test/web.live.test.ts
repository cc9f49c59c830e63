/**
 * Live training (src/web/live.ts) in Node: what the page runs. The synthetic preset reaches 90%
 * test accuracy, training yields after every batch, stop and continue pick up where training
 * stopped, the recorder reads traces and spikes of one test sample, and the checkpoint the page
 * downloads is one `sigprop eval` (evaluateCheckpoint) reads, with the same accuracy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/backend/registry.js';
import { decodeCheckpoint } from '../src/checkpoint.js';
import '../src/learning/index.js';
import { evaluateCheckpoint } from '../src/runner.js';
import { LIVE_PRESETS, LiveTrainer, livePreset, syntheticLiveDataset } from '../src/web/live.js';

const dir = mkdtempSync(join(tmpdir(), 'sigprop-web-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('live training (the page, without the page)', () => {
  it('the synthetic preset reaches >= 90% test accuracy; its checkpoint evaluates the same in sigprop eval', async () => {
    const backend = await createBackend('auto', { onFallback: false });
    const preset = livePreset('spike-patterns');
    const trainer = new LiveTrainer(backend, syntheticLiveDataset(preset), preset);
    let yields = 0, progress = 0;
    const t0 = Date.now();
    await trainer.run({
      yieldFn: async () => {
        yields++;
        await new Promise((r) => setTimeout(r, 0));
      },
      onProgress: () => void progress++,
      shouldStop: () => (trainer.points.at(-1)?.testAccuracy ?? 0) >= 0.9,
    });
    const last = trainer.points.at(-1)!;
    console.log(`[web.live.test] ${backend.name}: ${(100 * last.testAccuracy).toFixed(1)}% test after ${last.epoch.toFixed(2)} epochs, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(last.testAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(trainer.points[0]).toMatchObject({ epoch: 0 });
    expect(trainer.points[0].testAccuracy).toBeLessThan(0.3); // chance is 10%
    expect(yields).toBe(trainer.epoch * trainer.batchesPerEpoch + trainer.batch);
    expect(progress).toBeGreaterThanOrEqual(yields);

    const rec = await trainer.record(0);
    expect(rec.timeMs).toHaveLength(preset.config.steps);
    expect(rec.voltage).toHaveLength(preset.traceNeurons);
    expect(rec.spikeTimesMs).toHaveLength(64);
    expect(rec.spikeTimesMs.flat().length).toBeGreaterThan(0);
    expect(rec.inputSpikeTimesMs).toHaveLength(100);
    expect(rec.threshold).toBe(1);

    const file = join(dir, 'browser.ckpt');
    writeFileSync(file, await trainer.checkpointBytes());
    const ck = decodeCheckpoint(await trainer.checkpointBytes());
    expect(ck.meta.backend).toBe(backend.name);
    const r = await evaluateCheckpoint(file, { backend: backend.name });
    expect(r.accuracy).toBeCloseTo(await trainer.evaluate(), 6);
    trainer.dispose();
  });

  it('stop after a batch, then continue: the epoch resumes at the next batch', async () => {
    const backend = await createBackend('reference');
    const preset = livePreset('spike-patterns');
    const data = syntheticLiveDataset({ ...preset, config: { ...preset.config, trainSize: 96, testSize: 20 } });
    const trainer = new LiveTrainer(backend, data, preset, { epochs: 2, learningRate: 0.002, surrogate: 'atan' });
    expect(trainer.config).toMatchObject({ learningRate: 0.002, surrogate: 'atan', epochs: 2, trainSize: 96, testSize: 20 });
    let n = 0;
    await trainer.run({ shouldStop: () => ++n === 2 });
    expect([trainer.epoch, trainer.batch]).toEqual([0, 2]);
    await trainer.run();
    expect([trainer.epoch, trainer.batch]).toEqual([2, 0]);
    expect(trainer.points.at(-1)!.epoch).toBe(2);
  });

  it('every preset names its dataset, a spiking sigprop network and a valid evaluation cadence', () => {
    for (const p of LIVE_PRESETS) {
      expect(p.config).toMatchObject({ rule: 'sigprop', mode: 'spiking' });
      expect(p.evalEvery).toBeGreaterThan(0);
    }
  });
});
