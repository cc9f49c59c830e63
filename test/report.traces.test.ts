import { describe, expect, it } from 'vitest';
import { firingRates, rasterFigure, voltageFigure } from '../src/report/traces.js';
import { meanStd, sampleSurrogates, surrogateAccuracyTable, surrogateBlocks, toSurrogateData } from '../src/report/surrogates.js';
import { surrogateComparison, surrogateNames } from '../surrogates/index.js';
import type { TraceSet } from '../src/report/types.js';
import { lif, makeAccuracyRows, makeSurrogates, makeTraceSet } from './report.fixtures.js';

type T = Record<string, unknown>;

describe('voltage trace figure', () => {
  const set = makeTraceSet('after training');

  it('has voltage, threshold line and spike marks per panel, input and target side by side', () => {
    const fig = voltageFigure(set, 0, 'v0')!;
    const ann = (fig.layout.annotations as T[]).map((a) => a.text as string);
    expect(ann).toHaveLength(4 * 2); // 2 samples × 2 neurons rows, 2 stream columns
    expect(ann[0]).toContain('input stream (h)');
    expect(ann[1]).toContain('target stream (t)');
    expect(ann[0]).toContain('sample 0 (label 7, predicted 7)');
    const theta = fig.data.filter((t) => String(t.name).startsWith('threshold'));
    expect(theta).toHaveLength(8);
    for (const t of theta) expect(t.y).toEqual([1, 1]);
    expect(fig.layout.xaxis).toMatchObject({ domain: [0, expect.any(Number)] });
    expect(JSON.stringify(fig.layout)).toContain('time (ms)');
    expect(JSON.stringify(fig.layout)).toContain('u (a.u.)');
  });

  it('places spike marks at the exact spike times (ms) of the recording', () => {
    const fig = voltageFigure({ ...set, dtMs: 0.5 }, 0, 'v0')!;
    const rec = set.recordings.find((r) => r.layer === 0 && r.var === 's' && r.neuron === 0 && r.sample === 0 && r.stream === 'input')!;
    const expected: number[] = [];
    for (let t = 0; t < rec.values.length; t++) if (rec.values[t] === 1) expected.push(t * 0.5);
    expect(expected.length).toBeGreaterThan(2);
    const marks = fig.data.filter((t) => t.xaxis === 'x' && String(t.name).startsWith('spike'));
    expect(marks).toHaveLength(1);
    expect(marks[0].x).toEqual(expected);
    const legendShown = fig.data.filter((t) => t.showlegend === true).map((t) => String(t.name).split(' ')[0]);
    expect(legendShown.sort()).toEqual(['membrane', 'spike', 'threshold']);
  });

  it('decimates a long recording, keeps every spike mark, and states the decimation in the title and caption', () => {
    const T = 20_000;
    const I = Float32Array.from({ length: T }, (_, t) => 0.12 + 0.05 * Math.sin(t / 300));
    const { u, s } = lif(I);
    const nSpikes = s.reduce((a, b) => a + b, 0);
    const long: TraceSet = {
      label: 'long', dtMs: 1, layers: { 0: { threshold: 1 } },
      recordings: [{ layer: 0, var: 'u', neuron: 3, sample: 0, values: u }, { layer: 0, var: 's', neuron: 3, sample: 0, values: s }],
    };
    const fig = voltageFigure(long, 0, 'v', { maxPointsPerTrace: 1000 })!;
    const v = fig.data.find((t) => String(t.name).startsWith('membrane voltage'))!;
    expect((v.x as number[]).length).toBeLessThanOrEqual(1000);
    expect((fig.layout.title as T).text).toContain('min-max over 40 steps');
    expect(fig.caption).toContain('min-max over 40 steps');
    const marks = fig.data.find((t) => String(t.name).startsWith('spike'))!;
    expect((marks.x as number[]).length).toBe(nSpikes);
    expect(Math.max(...(v.y as number[]))).toBe(Math.max(...u));
  });

  it('returns undefined for a layer with no recordings', () => {
    expect(voltageFigure(set, 7, 'x')).toBeUndefined();
    expect(rasterFigure(set, 7, 'x')).toBeUndefined();
  });
});

describe('raster and firing rates', () => {
  const set = makeTraceSet('before', { neurons: 12 });
  it('has one panel per sample and stream with every spike as a mark', () => {
    const fig = rasterFigure(set, 1, 'r1')!;
    expect(fig.data).toHaveLength(4);
    const recs = set.recordings.filter((r) => r.layer === 1 && r.var === 's' && r.sample === 0 && r.stream === 'target');
    const total = recs.reduce((a, r) => a + Array.from(r.values).filter((v) => v === 1).length, 0);
    expect((fig.data[1].x as number[]).length).toBe(total);
    expect(JSON.stringify(fig.layout)).toContain('neuron index');
  });
  it('firing rates count spikes per neuron per step', () => {
    const T = 10;
    const one: TraceSet = {
      label: 'x', dtMs: 1,
      recordings: [
        { layer: 0, var: 's', neuron: 0, sample: 0, values: Float32Array.from({ length: T }, (_, t) => (t % 2 ? 1 : 0)) },
        { layer: 0, var: 's', neuron: 1, sample: 0, values: new Float32Array(T) },
      ],
    };
    expect(firingRates(one)).toEqual([{ layer: 0, stream: 'input', rate: 0.25, neurons: 2 }]);
  });
});

describe('surrogate figures and accuracy table', () => {
  it('samples f and df of surrogate objects on one grid', () => {
    const d = sampleSurrogates([{ name: 'sig', spec: 'sigmoid:k=1', f: (x) => 1 / (1 + Math.exp(-x)), df: (x) => Math.exp(-x) / (1 + Math.exp(-x)) ** 2 }], -1, 1, 5);
    expect(d.x).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(d.curves[0].name).toBe('sigmoid:k=1');
    expect(d.curves[0].f[2]).toBe(0.5);
    expect(d.curves[0].df[2]).toBe(0.25);
  });
  it('mean ± sample std, best first, per-seed column', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    const t = surrogateAccuracyTable(makeAccuracyRows());
    expect(t.rows.map((r) => r[0])).toEqual(['fastSigmoid:k=25', 'atan:alpha=2', 'sigmoid:k=5']);
    const { mean, std } = meanStd([0.93, 0.925, 0.931]);
    expect(t.rows[0][2]).toBe(`${(100 * mean).toFixed(2)} ± ${(100 * std).toFixed(2)}`);
    expect(t.rows[2][2]).toBe('88.00 (1 seed)');
    expect(t.rows[0][1]).toBe('1, 2, 3');
  });
  it('overlay figure has every surrogate in both panels; grid has a panel per surrogate', () => {
    const blocks = surrogateBlocks(makeSurrogates(), makeAccuracyRows());
    const figs = blocks.flatMap((b) => (b.kind === 'figure' ? [b.figure] : []));
    expect(figs.map((f) => f.id)).toEqual(['sg-overlay', 'sg-grid', 'sg-accuracy']);
    const overlay = figs[0];
    expect(overlay.data.filter((t) => t.xaxis === 'x2')).toHaveLength(3);
    expect(overlay.data.filter((t) => t.xaxis === 'x' && t.name !== 'step H(x) (forward spike)')).toHaveLength(3);
    expect((figs[1].layout.annotations as T[]).map((a) => a.text)).toEqual(['sigmoid:k=5', 'atan:alpha=2', 'fastSigmoid:k=25']);
  });
  it("accepts surrogateComparison()'s output: every registered surrogate in both panels and the grid", () => {
    const c = surrogateComparison({ points: 101 });
    const d = toSurrogateData(c);
    expect(d.curves.map((x) => x.name)).toEqual(c.surrogates.map((x) => x.spec));
    expect(d.curves.length).toBe(surrogateNames().length);
    expect(d.curves[0].formulaF).toBe(c.surrogates[0].formula.f);
    const figs = surrogateBlocks(c, undefined).flatMap((b) => (b.kind === 'figure' ? [b.figure] : []));
    expect(figs.map((f) => f.id)).toEqual(['sg-overlay', 'sg-grid']);
    expect(figs[0].data.filter((t) => t.xaxis === 'x2')).toHaveLength(d.curves.length);
    expect(figs[1].layout.annotations as T[]).toHaveLength(d.curves.length);
    expect(toSurrogateData({ x: [0], surrogates: [{ name: 'a', spec: 'a:k=1', f: [0], df: [1], scale: 2 }] }).curves[0].name).toBe('a:k=1 (÷2)');
  });
  it('a single seed shows no spread', () => {
    expect(surrogateAccuracyTable([{ surrogate: 's', seeds: [4], accuracies: [0.5] }]).rows[0][2]).toBe('50.00 (1 seed)');
  });
});

describe('surrogate experiment page', () => {
  it('groups runs by surrogate and writes curves for the resolvable specs', async () => {
    const { accuracyRowsFromRuns, writeSurrogateExperimentReport } = await import('../src/report/surrogate-experiment.js');
    const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const runs = [
      { surrogate: 'atan:alpha=2', seed: 1, testAccuracy: 0.9, trainS: 10 },
      { surrogate: 'erf', seed: 1, testAccuracy: 0.8, trainS: 12 },
      { surrogate: 'atan:alpha=2', seed: 2, testAccuracy: 0.92, trainS: 14 },
      { surrogate: 'nosuch:q=1', seed: 1, testAccuracy: 0.1 },
    ];
    const rows = accuracyRowsFromRuns(runs);
    expect(rows.map((r) => [r.surrogate, r.seeds, r.accuracies, r.trainTimeS])).toEqual([
      ['atan:alpha=2', [1, 2], [0.9, 0.92], 12],
      ['erf', [1], [0.8], 12],
      ['nosuch:q=1', [1], [0.1], undefined],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sgexp-'));
    try {
      writeFileSync(join(dir, 'r.json'), JSON.stringify({ command: 'x', runs }));
      const w = writeSurrogateExperimentReport(join(dir, 'r.json'), join(dir, 'r.html'));
      expect(w.missingCurves).toEqual(['nosuch:q=1']);
      expect(w.figureCount).toBe(3);
      const html = readFileSync(join(dir, 'r.html'), 'utf8');
      expect(html).toContain('91.00 ± 1.41');
      expect(html).toContain('No curve for (spec not in the registry here): nosuch:q=1.');
      expect(() => writeSurrogateExperimentReport({ runs: 'x' } as never, join(dir, 'y.html'))).toThrow(/no "runs" list/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
