/**
 * runExperiment's altPrediction option: the other prediction method's test accuracy per epoch
 * (sigprop's readout vs nearest class signal), in the metrics, the epoch line and metrics.csv,
 * without changing training.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadCheckpoint } from '../src/checkpoint.js';
import { resolveConfig } from '../src/config/resolve.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { accuracy, alternativePredictMethod, runExperiment, RUN_FILES, type RunEpochMetrics } from '../src/runner.js';
import { createRule } from '../src/learning/index.js';
import { loadDataset } from '../src/data/index.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

async function run(config: ExperimentConfig, altPrediction?: boolean) {
  const lines: string[] = [];
  const outDir = mkdtempSync(join(tmpdir(), 'sigprop-alt-'));
  const r = await runExperiment(resolveConfig({ ...config, outDir }), { backend: be, log: (l) => lines.push(l), progress: false, report: false, altPrediction });
  return { r, lines };
}

const withoutTime = (ms: RunEpochMetrics[]) => ms.map(({ timeS: _t, testAccuracyAlt: _a, ...m }) => m);

describe('runExperiment altPrediction', () => {
  const spiking: ExperimentConfig = {
    dataset: 'mnist', trainSize: 96, testSize: 40, rule: 'sigprop', mode: 'spiking', layers: [{ size: 16 }, { size: 10 }],
    steps: 4, learningRate: 0.003, epochs: 2, batchSize: 32, seed: 3,
  };

  it('measures the other method each epoch and trains exactly as without it', async () => {
    const off = await run(spiking);
    const on = await run(spiking, true);
    expect(off.r.metrics.every((m) => m.testAccuracyAlt === undefined)).toBe(true);
    expect(withoutTime(on.r.metrics)).toEqual(withoutTime(off.r.metrics));
    const a = loadCheckpoint(on.r.checkpointPath), b = loadCheckpoint(off.r.checkpointPath);
    for (const k of Object.keys(b.tensors)) expect(Array.from(a.tensors[k].data), k).toEqual(Array.from(b.tensors[k].data));
    expect(a.rng).toEqual(b.rng);
    for (const m of on.r.metrics) {
      expect(m.testAccuracyAlt?.method).toBe('classSignal');
      expect(m.testAccuracyAlt!.accuracy).toBeGreaterThanOrEqual(0);
      expect(m.testAccuracyAlt!.accuracy).toBeLessThanOrEqual(1);
    }
    expect(on.lines.filter((l) => /^epoch \d\/2: .*test acc .*\(classSignal: \d+\.\d\d%\)/.test(l))).toHaveLength(2);
    expect(off.lines.some((l) => /classSignal/.test(l))).toBe(false);
    const csv = readFileSync(join(on.r.runDir, RUN_FILES.csv), 'utf8').trim().split('\n');
    const head = csv[0].split(',');
    expect(head).toContain('testAccuracyAlt');
    expect(csv[1].split(',')[head.indexOf('testAccuracyAltMethod')]).toBe('classSignal');
    expect(Number(csv[2].split(',')[head.indexOf('testAccuracyAlt')])).toBe(on.r.metrics[1].testAccuracyAlt!.accuracy);
    expect(readFileSync(join(off.r.runDir, RUN_FILES.csv), 'utf8')).not.toMatch(/testAccuracyAlt/);
    const saved = JSON.parse(readFileSync(join(on.r.runDir, RUN_FILES.metrics), 'utf8')) as RunEpochMetrics[];
    expect(saved[1].testAccuracyAlt).toEqual(on.r.metrics[1].testAccuracyAlt);
  }, 30000);

  it('predicting with the class signal, the other method is the readout; rules with one method get none', async () => {
    const on = await run({ ...spiking, mode: 'rate', steps: 1, epochs: 1, ruleParams: { predict: 'classSignal' } }, true);
    expect(on.r.metrics[0].testAccuracyAlt?.method).toBe('readout');
    const bp = await run({ ...spiking, rule: 'bp', mode: 'rate', steps: 1, epochs: 1 }, true);
    expect(bp.r.metrics[0].testAccuracyAlt).toBeUndefined();
  }, 30000);

  it('accuracy with an explicit method equals predictWith', () => {
    const ds = loadDataset('mnist', { trainSize: 20, testSize: 20, seed: 1 });
    const cfg = resolveConfig({ ...spiking, mode: 'rate', steps: 1 });
    const rule = createRule(cfg, { backend: be, rng: new Rng(1), inputSize: ds.inputSize, numClasses: ds.numClasses });
    expect(alternativePredictMethod(rule)).toBe('classSignal');
    const pred = (rule as unknown as { predictWith(x: Float32Array, B: number, m: string): Int32Array }).predictWith(ds.test.images, ds.test.n, 'classSignal');
    const expected = Array.from(pred).filter((p, i) => p === ds.test.labels[i]).length / ds.test.n;
    expect(accuracy(rule, ds.test, 7, 'classSignal')).toBe(expected);
    expect(accuracy(rule, ds.test, 7)).toBe(accuracy(rule, ds.test, 20));
  });
});
