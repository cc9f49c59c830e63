/**
 * The run report written by the run loop (src/runner.ts): a spiking run's report.html holds the
 * training curves plus voltage traces and rasters before and after training and the shape of the
 * run's surrogate, with the raw recordings in the run folder; a rate run's report has none of
 * that; --no-report writes nothing; a failure to record traces leaves a visible warning and a
 * report without traces. Tiny synthetic runs on the reference backend (about a second each).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../src/config/resolve.js';
import { createRule } from '../src/learning/index.js';
import type { RuleFactory } from '../src/learning/rule.js';
import { pickTraceSamples, surrogateWindow } from '../src/report/run-extras.js';
import { surrogateBlocks } from '../src/report/surrogates.js';
import { runExperiment, type RunExperimentOptions } from '../src/runner.js';
import { getSurrogate } from '../surrogates/registry.js';
import { makeSurrogates } from './report.fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'sigprop-run-report-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A tiny spiking sigprop run on 'moons' (reference backend, 8 steps). */
const tinySpikingConfig = resolveConfig({
  name: 'tiny-lif', dataset: 'moons', trainSize: 64, testSize: 16, layers: [{ size: 8, model: 'lif' }, { size: 2, model: 'lif' }],
  rule: 'sigprop', mode: 'spiking', surrogate: 'fastSigmoid:k=25', steps: 8, epochs: 1, batchSize: 16, learningRate: 0.01, seed: 3, backend: 'reference',
});

function quiet(lines: string[], extra: RunExperimentOptions = {}): RunExperimentOptions {
  return { progress: false, log: (l) => lines.push(l), ...extra };
}

/** Section headings of a report page. */
function sectionTitles(html: string): string[] {
  return [...html.matchAll(/<h2[^>]*>([^<]*)/g)].map((m) => m[1]);
}

/** Ids of the plotly figures in a report page (the divs the bootstrap draws into). */
function figureIds(html: string): string[] {
  return [...html.matchAll(/<div class="plot" id="([^"]+)"/g)].map((m) => m[1]);
}

describe('run report of a training run', () => {
  it('spiking run: curves, traces before/after training, rasters, the surrogate shape; raw recordings in the run folder', async () => {
    const lines: string[] = [];
    const t0 = performance.now();
    const r = await runExperiment(tinySpikingConfig, quiet(lines, { runDir: join(root, 'spk') }));
    const seconds = (performance.now() - t0) / 1000;
    expect(r.status).toBe('complete');
    expect(lines.filter((l) => /warning/i.test(l))).toEqual([]);
    expect(r.reportPath).toBe(join(r.runDir, 'report.html'));
    const html = readFileSync(r.reportPath!, 'utf8');
    const ids = figureIds(html);
    expect(ids).toEqual(expect.arrayContaining(['m-accuracy', 'm-loss', 't0-v0', 't0-r0', 't1-v0', 't1-r0', 't-rates', 'sg-shape']));
    expect(ids).not.toContain('sg-grid'); // one surrogate: the detailed figure, not the comparison
    const during = ['during training: epoch 1, batch 1 of 4', 'during training: epoch 1, batch 4 of 4'];
    expect(sectionTitles(html)).toEqual([
      'Summary', 'Training', 'Traces: before training', ...during.map((d) => `Traces: ${d}`), 'Traces: after training (1 epoch)',
      `Firing rates: before training vs ${during.join(' vs ')} vs after training (1 epoch)`, 'Surrogates', 'Configuration',
    ]);
    // the training windows come from the training network itself: both streams, raw recordings in the run folder
    for (const tag of ['first', 'last']) {
      const rec = JSON.parse(readFileSync(join(r.runDir, `traces.training-${tag}.json`), 'utf8')) as { steps: number; traces: { layerName: string; sample: number }[] };
      expect(rec.steps).toBe(8);
      expect(new Set(rec.traces.filter((t) => t.layerName === 'layer0').map((t) => t.sample)).size).toBe(4); // 2 input rows + 2 target rows
    }
    expect(html).toContain('during training: epoch 1, batch 4 of 4, target');
    expect(html).toContain('membrane voltage, after training (1 epoch)');
    expect(html).toContain('threshold θ = 1 a.u.');
    expect(html).toContain('Surrogate used in this run: fastSigmoid:k=25');
    expect(html).toContain('time (ms)');
    // 4 samples, one of each class first: both moons classes are traced
    const note = /Traces: test samples ([\d, ]+) run through/.exec(html);
    expect(note?.[1].split(', ').map(Number)).toHaveLength(4);
    for (const f of ['traces.before.json', 'traces.before.csv', 'traces.after.json', 'traces.after.csv', 'traces.input.json']) expect(existsSync(join(r.runDir, f)), f).toBe(true);
    expect(existsSync(join(r.runDir, 'traces.html'))).toBe(false); // the run report holds the traces; no second page
    const after = JSON.parse(readFileSync(join(r.runDir, 'traces.after.json'), 'utf8')) as { format: string; steps: number; traces: { var: string; sample: number }[] };
    expect(after.format).toBe('sigprop-recording');
    expect(after.steps).toBe(8);
    expect([...new Set(after.traces.map((t) => t.var))].sort()).toEqual(['spikes', 'voltage']);
    expect(new Set(after.traces.map((t) => t.sample)).size).toBe(8); // 4 samples + their 4 target-stream rows
    expect(readdirSync(r.runDir).some((f) => f.endsWith('.tmp'))).toBe(false);
    console.log(`[report.run.test] tiny spiking run with traces: ${seconds.toFixed(2)} s`);
  });

  it('rate run: training curves only, no traces, no surrogate, no raw recordings', async () => {
    const cfg = resolveConfig({ ...tinySpikingConfig, name: 'tiny-rate', mode: 'rate', layers: [{ size: 8 }, { size: 2 }] });
    const r = await runExperiment(cfg, quiet([], { runDir: join(root, 'rate') }));
    const html = readFileSync(r.reportPath!, 'utf8');
    const ids = figureIds(html);
    expect(ids).toContain('m-accuracy');
    expect(ids.filter((id) => id.startsWith('t') || id.startsWith('sg'))).toEqual([]);
    expect(sectionTitles(html)).toEqual(['Summary', 'Training', 'Configuration']);
    expect(readdirSync(r.runDir).filter((f) => f.startsWith('traces.'))).toEqual([]);
  });

  it('report: false (--no-report) writes neither the report nor traces', async () => {
    const r = await runExperiment(tinySpikingConfig, quiet([], { runDir: join(root, 'none'), report: false }));
    expect(r.reportPath).toBeUndefined();
    expect(readdirSync(r.runDir).filter((f) => f.startsWith('traces.') || f === 'report.html')).toEqual([]);
  });

  it('a run stopped mid-epoch (Ctrl-C / abort) still gets traces of the checkpointed weights', async () => {
    const controller = new AbortController();
    let n = 0;
    const stopping: RuleFactory = (c, ctx) => {
      const rule = createRule(c, ctx);
      const train = rule.trainBatch.bind(rule);
      rule.trainBatch = (x, l) => {
        if (++n === 2) controller.abort();
        return train(x, l);
      };
      return rule;
    };
    const r = await runExperiment(tinySpikingConfig, quiet([], { runDir: join(root, 'stopped'), signal: controller.signal, createRule: stopping }));
    expect(r.status).toBe('interrupted');
    expect(sectionTitles(readFileSync(r.reportPath!, 'utf8'))).toContain('Traces: after training (0 epochs + 2 of 4 batches)');
  });

  it('when traces cannot be recorded the run still completes and its report says why (warning line, no silent catch)', async () => {
    // A rule whose checkpoint tensors the trace recorder cannot rebuild a network from.
    const odd: RuleFactory = (c, ctx) => {
      const rule = createRule(c, ctx);
      rule.state = () => ({ odd: new Float32Array(3) });
      return rule;
    };
    const lines: string[] = [];
    const r = await runExperiment(tinySpikingConfig, quiet(lines, { runDir: join(root, 'odd'), createRule: odd }));
    expect(r.status).toBe('complete');
    expect(lines.filter((l) => l.startsWith('warning: voltage traces not recorded:'))).toHaveLength(1);
    const html = readFileSync(r.reportPath!, 'utf8');
    expect(html).toContain('Warning: voltage traces not recorded:');
    const ids = figureIds(html);
    expect(ids).toContain('m-accuracy');
    expect(ids).toContain('sg-shape');
    // the checkpoint's traces are missing; the training windows, recorded from the training network itself, are not
    expect(sectionTitles(html).filter((t) => t.startsWith('Traces'))).toEqual(['Traces: during training: epoch 1, batch 1 of 4', 'Traces: during training: epoch 1, batch 4 of 4']);
  });
});

describe('run report helpers', () => {
  it('trace samples: one of each class first, then the following ones; config.record.samples wins', () => {
    expect(pickTraceSamples([0, 0, 0, 1, 1, 2], 3)).toEqual([0, 3, 5]);
    expect(pickTraceSamples([0, 0, 0, 1], 3)).toEqual([0, 1, 3]);
    expect(pickTraceSamples([5, 5], 4)).toEqual([0, 1]);
    expect(pickTraceSamples([0, 1, 2], 4, [2, 7, -1])).toEqual([2]);
  });
  it('surrogate window: narrow surrogates get a narrow x range', () => {
    const w = (spec: string) => surrogateWindow((x) => getSurrogate(spec).df(x));
    expect(w('fastSigmoid:k=25')).toBe(1);
    expect(w('fastSigmoid:k=100')).toBe(0.25);
    expect(w('atan:alpha=2')).toBe(4);
    expect(w('straightThrough')).toBe(4);
  });
  it('a single surrogate gets one detailed f / f′ figure; several get the comparison', () => {
    const x = [-1, -0.5, 0, 0.5, 1];
    const shape = (f: number[], df: number[]) =>
      surrogateBlocks({ x, curves: [{ name: 's', f, df, formulaF: 'f', formulaDf: 'df' }] }, undefined).flatMap((b) => (b.kind === 'figure' ? [b.figure] : []));
    const narrow = shape([0, 0.01, 0.04, 0.07, 0.08], [0, 0.1, 1, 0.1, 0]); // f spans 0..0.08 (fastSigmoid-like): no 0..1 step
    expect(narrow.map((f) => f.id)).toEqual(['sg-shape']);
    expect(narrow[0].data.map((t) => t.name)).toEqual(['primitive f(x)', "surrogate gradient f'(x)"]);
    expect(narrow[0].caption).toMatch(/from 0 to 0\.08 .*peaks at 1 at x = 0/);
    const cdf = shape([0.05, 0.2, 0.5, 0.8, 0.95], [0.1, 0.5, 1, 0.5, 0.1]);
    expect(cdf[0].data[0].name).toBe('step H(x) (forward spike)');
    expect(surrogateBlocks(makeSurrogates(), undefined).flatMap((b) => (b.kind === 'figure' ? [b.figure.id] : []))).toEqual(['sg-overlay', 'sg-grid']);
  });
});
