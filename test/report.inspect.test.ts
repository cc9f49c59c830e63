import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCheckpoint } from '../src/checkpoint.js';
import type { ExperimentConfig } from '../src/config/types.js';
import type { Dataset } from '../src/data/types.js';
import { ParameterError, SigpropError } from '../src/errors.js';
import { writeTracesReport } from '../src/report/inspect.js';
import { Network } from '../src/engine/network.js';
import { pickInformativeNeurons, recordNetworkTraces, targetInputs, tracesToRecordings } from '../src/report/record.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Rng } from '../src/rng.js';

const K = 20;
const H = 16;
const C = 3;

/** A tiny dataset: 6 test samples of 20 intensities, 3 classes. */
function dataset(): Dataset {
  const rng = new Rng(5);
  const split = (n: number) => {
    const images = new Float32Array(n * K);
    for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
    return { images, labels: Int32Array.from({ length: n }, (_, i) => i % C), n, inputSize: K, numClasses: C };
  };
  return { name: 'tiny', inputShape: [K], inputSize: K, numClasses: C, train: split(6), test: split(6), normalisation: { kind: 'none' }, source: 'test' };
}

const config: ExperimentConfig = {
  name: 'inspect-test', dataset: 'moons', rule: 'sigprop', mode: 'spiking', steps: 40, encoder: 'rate', seed: 11,
  layers: [{ size: H, model: 'lif', params: { beta: 0.9 } }, { size: C }],
};

function weights(scale: number, seed: number): Record<string, Float32Array> {
  const rng = new Rng(seed);
  const t = (n: number, s: number) => Float32Array.from({ length: n }, () => s * rng.normal());
  return { 'layer0.W': t(K * H, scale), 'layer0.b': new Float32Array(H), 'readout.W': t(H * C, 0.1), 'readout.b': new Float32Array(C), 'target.W': t(C * K, 1), 'target.b': new Float32Array(K).fill(0.2) };
}

const html = (f: string) => readFileSync(f, 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'sigprop-inspect-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeTracesReport', () => {
  it('records before/after, input and target streams, writes HTML and raw JSON/CSV', async () => {
    const out = join(dir, 'traces.html');
    const r = await writeTracesReport({
      weights: { config, tensors: weights(0.5, 1), initialTensors: weights(0.1, 2) },
      dataset: dataset(), outFile: out, samples: [0, 4], record: { neurons: [0, 3], rasterNeurons: 10 },
    });
    expect(r.sets.map((s) => s.label)).toEqual(['before training', 'after training']);
    expect(r.figureCount).toBe(2 * 4 + 1); // per set: input raster, voltage + raster of layer0, readout potentials; plus the rate comparison
    expect(existsSync(out)).toBe(true);
    expect(r.rawFiles.map((f) => f.slice(dir.length + 1))).toEqual(['traces.before.json', 'traces.before.csv', 'traces.after.json', 'traces.after.csv', 'traces.input.json']);
    const raw = JSON.parse(readFileSync(r.rawFiles[2], 'utf8'));
    expect(raw.format).toBe('sigprop-recording');
    expect(raw.steps).toBe(40);
    const after = r.sets[1];
    expect(after.layers?.[0]).toMatchObject({ name: 'layer0 (lif, 16)', threshold: 1, voltageUnit: 'a.u.', size: H });
    const v = after.recordings.filter((x) => x.var === 'voltage' && x.layer === 0);
    expect(v).toHaveLength(2 * 2 * 2); // neurons × samples × streams
    expect(new Set(v.map((x) => x.stream))).toEqual(new Set(['input', 'target']));
    expect(after.recordings.filter((x) => x.var === 'spikes' && x.layer === 0)).toHaveLength(10 * 2 * 2);
    expect(after.recordings.filter((x) => x.layer === -1)).toHaveLength(K * 2 * 2); // input channels × samples × streams
    expect(after.layers?.[1]).toMatchObject({ name: 'readout (leaky integrator, 3)', kind: 'readout' });
    const ro = after.recordings.filter((x) => x.layer === 1);
    expect(ro).toHaveLength(C * 2); // every class unit, input stream only
    expect(new Set(ro.map((x) => x.stream))).toEqual(new Set(['input']));
    expect(html(out)).toContain('potential per class');
    for (const x of after.recordings) expect(x.values.length).toBe(40);
    expect(after.sampleLabels).toEqual({ 0: '0, test #0', 1: '1, test #4' });
    const spikes = after.recordings.filter((x) => x.var === 'spikes').reduce((a, x) => a + Array.from(x.values).reduce((p, q) => p + q, 0), 0);
    expect(spikes).toBeGreaterThan(0);
    expect(html(out)).toContain('target stream (t)');
    expect(html(out)).toContain('traces.after.json');
  });

  it('uses the same input spikes for both sets: identical weights give identical recordings', async () => {
    const w = weights(0.5, 1);
    const r = await writeTracesReport({ weights: { config, tensors: w, initialTensors: w }, dataset: dataset(), outFile: join(dir, 'same.html'), rawDir: false, samples: [1] });
    const [a, b] = r.sets;
    expect(a.recordings.length).toBe(b.recordings.length);
    a.recordings.forEach((x, i) => expect(Array.from(x.values)).toEqual(Array.from(b.recordings[i].values)));
    expect(r.rawFiles).toEqual([]);
    const noInput = await writeTracesReport({ weights: { config, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'same.html'), rawDir: false, samples: [1], record: { input: false } });
    expect(noInput.sets[0].recordings.some((x) => x.layer === -1)).toBe(false);
  });

  it("takes neurons from the config's record section unless given (undefined does not erase it)", async () => {
    const w = weights(0.5, 1);
    const cfg = { ...config, record: { neurons: [5, 7] } };
    const r = await writeTracesReport({ weights: { config: cfg, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'rec.html'), rawDir: false, record: { neurons: undefined, layers: undefined } });
    expect([...new Set(r.sets[0].recordings.filter((x) => x.var === 'voltage' && x.layer === 0).map((x) => x.neuron))]).toEqual([5, 7]);
    const r2 = await writeTracesReport({ weights: { config: cfg, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'rec.html'), rawDir: false, record: { neurons: [1] } });
    expect([...new Set(r2.sets[0].recordings.filter((x) => x.var === 'voltage' && x.layer === 0).map((x) => x.neuron))]).toEqual([1]);
  });

  it('readout potentials equal the leaky integrator of the recorded hidden spikes: U[t] = β·U[t−1] + s[t]·W_o + b_o', async () => {
    const w = weights(0.5, 4);
    w['readout.b'] = Float32Array.from([0.1, -0.2, 0.05]);
    const cfg = { ...config, ruleParams: { readoutBeta: 0.8 } };
    const r = await writeTracesReport({ weights: { config: cfg, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'ro.html'), rawDir: false, samples: [2] });
    const recs = r.sets[0].recordings;
    const spikes = Array.from({ length: H }, (_, j) => recs.find((x) => x.layer === 0 && x.var === 'spikes' && x.neuron === j && x.sample === 0 && x.stream === 'input')!.values);
    const Wo = w['readout.W'];
    let checked = 0;
    for (let c = 0; c < C; c++) {
      const u = recs.find((x) => x.layer === 1 && x.neuron === c && x.sample === 0)!.values;
      let U = 0;
      for (let t = 0; t < 40; t++) {
        let I = w['readout.b'][c];
        for (let j = 0; j < H; j++) I += spikes[j][t] * Wo[j * C + c];
        U = 0.8 * U + I;
        expect(u[t]).toBeCloseTo(U, 4);
        checked++;
      }
    }
    expect(checked).toBe(3 * 40);
    const sums = [0, 1, 2].map((c) => Array.from(recs.find((x) => x.layer === 1 && x.neuron === c)!.values).reduce((a, b) => a + b, 0));
    expect(r.sets[0].samplePredictions?.[0]).toBe(sums.indexOf(Math.max(...sums)));
  });

  it('records the encoded input: target rows spike at the class-signal rates t0 = sigmoid(S[c] + d)', async () => {
    const w = weights(0.5, 1);
    const T = 400;
    const r = await writeTracesReport({ weights: { config: { ...config, steps: T }, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'in.html'), samples: [0, 1] });
    const inp = r.sets[0].recordings.filter((x) => x.layer === -1);
    expect(inp).toHaveLength(K * 2 * 2); // channels × samples × streams
    expect(r.sets[0].layers?.[-1]).toMatchObject({ indexLabel: 'input channel', size: K });
    const labels = [0, 1];
    const t0 = targetInputs(w, labels, K)!;
    for (const s of [0, 1]) {
      for (let k = 0; k < K; k++) {
        const v = inp.find((x) => x.stream === 'target' && x.sample === s && x.neuron === k)!.values;
        const rate = Array.from(v).reduce((a, b) => a + b, 0) / T;
        expect(Math.abs(rate - t0[s * K + k])).toBeLessThan(0.1); // Bernoulli over 400 steps: std <= 0.025
      }
    }
    const raw = JSON.parse(html(join(dir, 'in.input.json')));
    expect(raw.format).toBe('sigprop-input-spikes');
    expect(raw.events.length).toBe(inp.reduce((a, x) => a + Array.from(x.values).reduce((p, q) => p + q, 0), 0));
  });

  it('zero weights give zero voltage and no spikes', async () => {
    const w = weights(0, 1);
    const r = await writeTracesReport({ weights: { config, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'zero.html'), rawDir: false });
    expect(r.sets).toHaveLength(1);
    for (const x of r.sets[0].recordings.filter((y) => y.layer >= 0)) expect(Math.max(...Array.from(x.values, Math.abs))).toBe(0);
  });

  it('loads a checkpoint from a run folder', async () => {
    const runDir = join(dir, 'run');
    const t = weights(0.5, 3);
    saveCheckpoint(join(runDir, 'checkpoint.ckpt'), {
      epoch: 2, batch: 0, architecture: 'x', rng: {}, meta: { config },
      tensors: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { shape: [v.length], data: v }])),
    });
    const r = await writeTracesReport({ checkpoint: runDir, dataset: dataset(), outFile: join(runDir, 'traces.html'), before: false });
    expect(r.sets.at(-1)!.label).toBe('after training (checkpoint.ckpt)');
    expect(readFileSync(join(runDir, 'traces.html'), 'utf8')).toContain('(epoch 2)');
    expect(r.rawFiles).toHaveLength(3);
  });

  it('refuses rate-mode runs, missing weights and samples outside the test split', async () => {
    await expect(writeTracesReport({ weights: { config: { ...config, mode: 'rate' }, tensors: weights(1, 1) }, dataset: dataset(), outFile: join(dir, 'x.html') })).rejects.toThrow(/mode = 'rate'/);
    await expect(writeTracesReport({ weights: { config, tensors: { 'readout.W': new Float32Array(3) } }, before: false, dataset: dataset(), outFile: join(dir, 'x.html') })).rejects.toThrow(SigpropError);
    await expect(writeTracesReport({ weights: { config, tensors: weights(1, 1) }, before: false, samples: [6], dataset: dataset(), outFile: join(dir, 'x.html') })).rejects.toThrow(/sample 6 is not in the test split \(0\.\.5\)/);
    await expect(writeTracesReport({ outFile: join(dir, 'x.html') })).rejects.toThrow(ParameterError);
  });
});

describe('inspect helpers', () => {
  it('targetInputs = sigmoid(S[c] + d) row per label', () => {
    const S = Float32Array.from([0, 1, -1, 2]); // 2 classes × 2 inputs
    const d = Float32Array.from([0.5, 0]);
    const t = targetInputs({ 'target.W': S, 'target.b': d }, [1, 0], 2)!;
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    expect(Array.from(t)).toEqual([sig(-0.5), sig(2), sig(0.5), sig(1)].map(Math.fround));
    expect(targetInputs({}, [0], 2)).toBeUndefined();
  });
  it('maps batch rows n.. to the target stream', () => {
    const v = new Float32Array(2);
    const rec = tracesToRecordings([{ layer: 0, layerName: 'l', var: 'voltage', neuron: 1, sample: 3, values: v }, { layer: 0, layerName: 'l', var: 'voltage', neuron: 1, sample: 1, values: v }], 2, true);
    expect(rec.map((r) => [r.stream, r.sample])).toEqual([['target', 1], ['input', 1]]);
  });
  it("feeds pre-encoded rasters ('raster' encoder) step by step and rate-codes the target rows", () => {
    const T = 6, n = 2;
    const w = weights(0.5, 1);
    const net = new Network(new ReferenceBackend(), {
      inputSize: K, dtMs: 1, layers: [{ size: H, model: 'lif', params: { beta: 0.9 }, bias: true }, { size: C, model: 'li', bias: true, name: 'readout' }],
    }, new Rng(1));
    net.setWeights([{ w: w['layer0.W'], bias: w['layer0.b'] }, { w: w['readout.W'], bias: w['readout.b'] }]);
    const rng = new Rng(9);
    const x = Float32Array.from({ length: n * T * K }, () => (rng.uniform() < 0.3 ? 1 : 0));
    const { set, input } = recordNetworkTraces(net, {
      samples: { x, labels: [0, 2] }, targetX: targetInputs(w, [0, 2], K), steps: T, encoder: 'raster', seed: 1, label: 'raster',
    });
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < K; k++) {
        const v = set.recordings.find((r) => r.layer === -1 && r.stream === 'input' && r.sample === b && r.neuron === k)!.values;
        expect(Array.from(v)).toEqual(Array.from({ length: T }, (_, t) => x[(b * T + t) * K + k]));
      }
    }
    expect(input!.rows.map((r) => r.stream)).toEqual(['input', 'input', 'target', 'target']);
    expect(() => recordNetworkTraces(net, { samples: { x: new Float32Array(K), labels: [0] }, steps: T, encoder: 'raster', seed: 1, label: 'x' })).toThrow(/steps × inputSize/);
  });
});

describe('spike ticks of traced neurons', () => {
  it('a traced neuron beyond the raster\'s first neurons still has its spikes recorded (the ticks on its voltage trace)', () => {
    const net = new Network(new ReferenceBackend(), { inputSize: K, dtMs: 1, layers: [{ size: H, model: 'lif', params: { beta: 0.9, threshold: 0.2 }, weightScale: 3 }] }, new Rng(2));
    const x = new Rng(4).fillUniform(new Float32Array(K));
    const { set } = recordNetworkTraces(net, { samples: { x, labels: [0] }, steps: 20, encoder: 'rate', seed: 1, label: 'x', record: { neurons: [12], rasterNeurons: 4 } });
    const spikesOf = (j: number) => set.recordings.filter((r) => r.layer === 0 && r.var === 'spikes' && r.neuron === j);
    expect(spikesOf(12)).toHaveLength(1);
    expect(spikesOf(3)).toHaveLength(1);
    expect(spikesOf(5)).toHaveLength(0);
    const v = set.recordings.find((r) => r.layer === 0 && r.var === 'voltage' && r.neuron === 12)!;
    // every step whose voltage crossed θ (reset by subtraction at t+1) is a recorded spike
    const s = spikesOf(12)[0].values;
    for (let t = 0; t < v.values.length; t++) expect(s[t]).toBe(v.values[t] > 0.2 ? 1 : 0);
  });
});

describe('default traced neurons: ones a reader learns from', () => {
  it('pickInformativeNeurons: the most active, then the most class-selective; never silent ones', () => {
    // 6 neurons × 4 samples of classes 0..3: n0 silent, n1 and n4 busy everywhere, n2 steady (total 8),
    // n3 fires for class 2 only (total 6: less active than n2, but selective)
    const act = [
      [0, 10, 2, 0, 9, 1],
      [0, 10, 2, 0, 9, 1],
      [0, 10, 2, 6, 9, 1],
      [0, 10, 2, 0, 9, 1],
    ];
    expect(pickInformativeNeurons(act, [0, 1, 2, 3])).toEqual([1, 3, 4]);
    // one class only: selectivity is undefined, so the next most active (n2)
    expect(pickInformativeNeurons(act, [0, 0, 0, 0])).toEqual([1, 2, 4]);
    expect(pickInformativeNeurons([[0, 0, 0, 0, 5, 0]], [0], { active: 2, selective: 1 })).toEqual([4]);
    expect(pickInformativeNeurons([[0, 0, 0, 0]], [0])).toEqual([0, 1, 2]);
  });

  it('writeTracesReport traces active neurons by default, names them, and keeps given neurons', async () => {
    const w = weights(0.5, 1);
    // silence neurons 0..3 (strong negative drive): the old default 0, 1, 2 would show flat lines
    for (let k = 0; k < K; k++) for (let j = 0; j < 4; j++) w['layer0.W'][k * H + j] = -5;
    const r = await writeTracesReport({ weights: { config, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'auto.html'), rawDir: false, samples: [0, 1, 2] });
    const recs = r.sets[0].recordings.filter((x) => x.layer === 0 && x.stream === 'input');
    const traced = [...new Set(recs.filter((x) => x.var === 'voltage').map((x) => x.neuron))];
    expect(traced.length).toBe(3);
    expect(traced.every((j) => j >= 4)).toBe(true);
    // each traced neuron spikes on the traced samples
    for (const j of traced) expect(recs.filter((x) => x.var === 'spikes' && x.neuron === j).some((x) => Array.from(x.values).some((v) => v > 0)), `neuron ${j}`).toBe(true);
    expect(r.neuronChoice).toContain(`layer 0: ${traced.join(', ')}`);
    expect(html(join(dir, 'auto.html'))).toContain('most active');
    const given = await writeTracesReport({ weights: { config, tensors: w }, before: false, dataset: dataset(), outFile: join(dir, 'given.html'), rawDir: false, samples: [0], record: { neurons: [0, 1] } });
    expect([...new Set(given.sets[0].recordings.filter((x) => x.var === 'voltage' && x.layer === 0).map((x) => x.neuron))]).toEqual([0, 1]);
    expect(given.neuronChoice).toBeUndefined();
  });
});
