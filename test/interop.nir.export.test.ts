/**
 * Writing NIR files (writeNir) and exporting a trained spiking sigprop run: the file layout,
 * a write/read round trip, and export then import giving the same spikes as the trained
 * weights run with NIR's semantics.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  lifMlpToNir, loadCheckpoint, loadH5wasm, planNir, readNir, recurrentEdges, resolveConfig, runExperiment, runToNir, Rng, simulateNir, writeNir, exportRunToNir, type NirGraph,
} from '../src/index.js';
import { cli } from './cli.helpers.js';

const root = mkdtempSync(join(tmpdir(), 'sigprop-nir-export-'));
const quiet = { progress: false as const, log: () => {}, report: false };
const base = { dataset: 'moons', trainSize: 96, testSize: 32, rule: 'sigprop', epochs: 1, batchSize: 16, learningRate: 0.01, seed: 5, backend: 'reference' };
let spikingRun = '', rateRun = '', recurrentRun = '';
/** A recurrent synaptic LIF layer with a delay of 2 steps (CubaLIF, a loop and a Delay node in NIR). */
const recurrentLayers = [{ size: 6, model: 'synaptic', recurrent: 'all-to-all', delays: 2, params: { alpha: 0.7, beta: 0.9, threshold: 1 } }, { size: 2 }];

beforeAll(async () => {
  spikingRun = (await runExperiment(resolveConfig({ ...base, mode: 'spiking', steps: 6, dtMs: 1, layers: [{ size: 10, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 2, model: 'lif' }] }), { ...quiet, runDir: join(root, 'spk') })).runDir;
  recurrentRun = (await runExperiment(resolveConfig({ ...base, mode: 'spiking', steps: 6, dtMs: 1, layers: recurrentLayers }), { ...quiet, runDir: join(root, 'rec') })).runDir;
  rateRun = (await runExperiment(resolveConfig({ ...base, mode: 'rate', layers: [{ size: 4 }, { size: 2 }] }), { ...quiet, runDir: join(root, 'rate') })).runDir;
}, 30_000);

describe('writeNir', () => {
  it('round trip: float32, float64 and integer arrays, scalars, strings, edges and a nested graph', async () => {
    const inner: NirGraph = { nodes: { i: { type: 'Input', params: { shape: { shape: [1], data: [3] } } } }, edges: [] };
    const graph: NirGraph = {
      nodes: {
        in: { type: 'Input', params: { shape: { shape: [2], data: [2, 3] } } },
        fc: { type: 'Affine', params: { weight: { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6.5) }, bias: { shape: [2], data: Float32Array.of(-1, 0.25) } } },
        li: { type: 'LI', params: { tau: { shape: [2], data: Float64Array.of(0.01, 1 / 3) }, r: { shape: [], data: Float64Array.of(2) } }, strings: { note: 'hello' } },
        sub: { type: 'NIRGraph', params: {}, graph: inner },
      },
      edges: [{ src: 'in', dst: 'fc' }, { src: 'fc', dst: 'li' }],
    };
    const file = join(root, 'rt.nir');
    await writeNir(file, graph);
    const back = await readNir(file);
    expect(back.version).toBe('0.2.0');
    expect(back.graph).toEqual(graph);
    expect(back.graph.nodes.li.params.tau.data[1]).toBe(1 / 3); // float64 kept exactly
  });
});

describe('export of a trained spiking sigprop run', () => {
  it('layout: /version, /node NIRGraph, node type strings, parameter shapes and dtypes, edges [E, 2]', async () => {
    const file = join(root, 'layout.nir');
    await exportRunToNir(spikingRun, file, { dtMs: 1 });
    const h5 = await loadH5wasm();
    const f = new h5.File(file, 'r');
    try {
      const ds = (p: string) => f.get(p) as InstanceType<typeof h5.Dataset>;
      expect(ds('version').value).toBe('0.2.0');
      expect(ds('node/type').value).toBe('NIRGraph');
      const types = Object.fromEntries(['input', 'fc0', 'lif0', 'fc_out', 'readout', 'output'].map((n) => [n, ds(`node/nodes/${n}/type`).value]));
      expect(types).toEqual({ input: 'Input', fc0: 'Affine', lif0: 'LIF', fc_out: 'Affine', readout: 'LI', output: 'Output' });
      expect(ds('node/nodes/fc0/weight').shape).toEqual([10, 2]); // [out, in], as PyTorch and NIR
      expect(ds('node/nodes/fc0/weight').dtype).toBe('<f');
      expect(ds('node/nodes/fc0/bias').shape).toEqual([10]);
      expect(ds('node/nodes/fc_out/weight').shape).toEqual([2, 10]);
      for (const p of ['tau', 'r', 'v_leak', 'v_threshold']) {
        expect(ds(`node/nodes/lif0/${p}`).shape).toEqual([10]);
        expect(ds(`node/nodes/lif0/${p}`).dtype).toBe('<d');
      }
      expect(ds('node/nodes/readout/tau').shape).toEqual([2]);
      expect(ds('node/nodes/input/shape').dtype).toBe('<q');
      expect(Array.from(ds('node/nodes/input/shape').value as BigInt64Array, Number)).toEqual([2]);
      expect(ds('node/edges').shape).toEqual([5, 2]);
      expect(ds('node/edges').value).toEqual(['input', 'fc0', 'fc0', 'lif0', 'lif0', 'fc_out', 'fc_out', 'readout', 'readout', 'output']);
    } finally {
      f.close();
    }
  });

  it('layout of a recurrent synaptic layer with delays: Delay [in] s, CubaLIF, a loop lif0 -> rec0 -> lif0 with the recurrent weights [out, in]', async () => {
    const file = join(root, 'layout-rec.nir');
    const r = await exportRunToNir(recurrentRun, file, { dtMs: 0.5 });
    const ck = loadCheckpoint(join(recurrentRun, 'checkpoint.ckpt'));
    const h5 = await loadH5wasm();
    const f = new h5.File(file, 'r');
    try {
      const ds = (p: string) => f.get(p) as InstanceType<typeof h5.Dataset>;
      const types = Object.fromEntries(['input', 'delay0', 'fc0', 'lif0', 'rec0', 'fc_out', 'readout', 'output'].map((n) => [n, ds(`node/nodes/${n}/type`).value]));
      expect(types).toEqual({ input: 'Input', delay0: 'Delay', fc0: 'Affine', lif0: 'CubaLIF', rec0: 'Affine', fc_out: 'Affine', readout: 'LI', output: 'Output' });
      expect(ds('node/nodes/delay0/delay').shape).toEqual([2]);
      expect(Array.from(ds('node/nodes/delay0/delay').value as Float64Array)).toEqual([0.001, 0.001]); // 2 steps of 0.5 ms, in seconds
      for (const p of ['tau_syn', 'tau_mem', 'r', 'v_leak', 'v_threshold', 'w_in']) expect(ds(`node/nodes/lif0/${p}`).shape, p).toEqual([6]);
      expect((ds('node/nodes/lif0/tau_syn').value as Float64Array)[0]).toBeCloseTo(-0.0005 / Math.log(0.7), 12);
      expect((ds('node/nodes/lif0/w_in').value as Float64Array)[0]).toBeCloseTo(1 / 0.3, 12);
      expect(ds('node/nodes/rec0/weight').shape).toEqual([6, 6]);
      const R = ck.tensors['layer0.R'].data, rw = ds('node/nodes/rec0/weight').value as Float32Array;
      expect(rw[1 * 6 + 4]).toBe(R[4 * 6 + 1]); // [to, from] in NIR, [from, to] in the engine
      const edges = ds('node/edges').value as string[];
      const pairs = Array.from({ length: edges.length / 2 }, (_, k) => `${edges[2 * k]}>${edges[2 * k + 1]}`);
      expect(pairs).toEqual(['input>delay0', 'delay0>fc0', 'fc0>lif0', 'lif0>rec0', 'rec0>lif0', 'lif0>fc_out', 'fc_out>readout', 'readout>output']);
    } finally {
      f.close();
    }
    expect(r.warnings.join('\n')).toMatch(/layer0: the run's synaptic LIF resets by subtracting θ at the step after a spike; NIR's CubaLIF resets to 0/);
    const back = await readNir(file);
    expect(recurrentEdges(back.graph)).toHaveLength(2);
  });

  it('a one-to-one recurrent layer is written as a Scale loop and planned back as one-to-one with the same diagonal', () => {
    const n = 3, R = new Float32Array(n * n);
    R[0] = 0.5; R[4] = -0.25; R[8] = 0.125;
    const g = lifMlpToNir([{ w: new Float32Array(2 * n).fill(0.3), inSize: 2, outSize: n, beta: 0.8, threshold: 1, recurrent: R, recurrence: 'one-to-one' }],
      { w: new Float32Array(n * 2).fill(0.1), inSize: n, outSize: 2, beta: 0.9 }, 1);
    expect(g.nodes.rec0.type).toBe('Scale');
    expect(Array.from(g.nodes.rec0.params.scale.data)).toEqual([0.5, -0.25, 0.125]);
    const plan = planNir(g, 1);
    expect(plan.layers[0].spec.recurrent).toBe('one-to-one');
    expect(Array.from(plan.layers[0].wRec!).map((v) => +v.toFixed(6))).toEqual(Array.from(R));
  });

  it('parameters: weights are the checkpoint\'s, transposed; τ = −dt/ln β, r = 1/(1 − β); the reset difference is a warning', async () => {
    const ck = loadCheckpoint(join(spikingRun, 'checkpoint.ckpt'));
    const r = await runToNir(spikingRun, { dtMs: 0.5 });
    const g = r.doc.graph;
    const W = ck.tensors['layer0.W'].data; // [in 2, out 10]
    const w = g.nodes.fc0.params.weight.data;
    for (let i = 0; i < 2; i++) for (let o = 0; o < 10; o++) expect(w[o * 2 + i]).toBe(W[i * 10 + o]);
    expect(Array.from(g.nodes.fc0.params.bias.data)).toEqual(Array.from(ck.tensors['layer0.b'].data));
    expect(g.nodes.lif0.params.tau.data[0]).toBeCloseTo(-0.0005 / Math.log(0.9), 12);
    expect(g.nodes.lif0.params.r.data[3]).toBeCloseTo(10, 9);
    expect(g.nodes.lif0.params.v_threshold.data[0]).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/layer0: the run's LIF resets by subtracting θ at the step after a spike; NIR's LIF resets to 0/);
    expect(r.warnings.join('\n')).toMatch(/the run used dt = 1 ms; the NIR time constants are for dt = 0.5 ms/);
  });

  it('round trip: export then import gives the same spikes and readout as the trained weights run with NIR semantics', async () => {
    const file = join(root, 'rt-run.nir');
    await exportRunToNir(spikingRun, file, { dtMs: 1 });
    const doc = await readNir(file);
    const T = 300, rng = new Rng(3);
    const x = new Float32Array(T * 2);
    for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < 0.4 ? 1 : 0; // input spikes, as the run's rate encoder gives
    const sim = simulateNir(doc.graph, x, { dtMs: 1 });
    // the same network written out directly from the checkpoint: U = β·U + x·W + b, reset to 0 in the spike's step
    const ck = loadCheckpoint(join(spikingRun, 'checkpoint.ckpt'));
    const W = ck.tensors['layer0.W'].data, b = ck.tensors['layer0.b'].data, Wo = ck.tensors['readout.W'].data, bo = ck.tensors['readout.b'].data;
    const u = new Float32Array(10), uo = new Float32Array(2);
    const spikes: number[] = [], expected: number[] = [];
    let maxErr = 0;
    for (let t = 0; t < T; t++) {
      const s = new Float32Array(10);
      for (let j = 0; j < 10; j++) {
        let I = b[j];
        for (let i = 0; i < 2; i++) I += x[t * 2 + i] * W[i * 10 + j];
        u[j] = 0.9 * u[j] + I;
        if (u[j] > 1) { s[j] = 1; u[j] = 0; }
      }
      for (let c = 0; c < 2; c++) {
        let I = bo[c];
        for (let j = 0; j < 10; j++) I += s[j] * Wo[j * 2 + c];
        uo[c] = 0.9 * uo[c] + I;
        maxErr = Math.max(maxErr, Math.abs(sim.nodes[1].voltage[t * 2 + c] - uo[c]));
      }
      expected.push(...s);
      spikes.push(...sim.nodes[0].spikes!.subarray(t * 10, (t + 1) * 10));
    }
    expect(expected.reduce((a, v) => a + v, 0)).toBeGreaterThan(20); // the layer does fire
    expect(spikes).toEqual(expected);
    expect(maxErr).toBeLessThan(1e-4);
  });

  it('sigprop nir export: writes the file, prints the reset warning, refuses to overwrite and non-spiking runs', async () => {
    const out = join(root, 'cli.nir');
    const r = await cli('nir', 'export', spikingRun, '-o', out, '--dt-ms', '1');
    expect(r.code, r.err).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.out).toContain('input (Input) -> fc0 (Affine) -> lif0 (LIF) -> fc_out (Affine) -> readout (LI) -> output (Output)');
    expect(r.err).toMatch(/^warning: layer0: the run's LIF resets by subtracting θ/);
    const again = await cli('nir', 'export', spikingRun, '-o', out, '--dt-ms', '1');
    expect(again.code).toBe(1);
    expect(again.err).toContain('already exists; choose another -o FILE, or pass --force');
    expect((await cli('nir', 'export', spikingRun, '-o', out, '--dt-ms', '1', '--force')).code).toBe(0);
    const rate = await cli('nir', 'export', rateRun, '-o', join(root, 'rate.nir'), '--dt-ms', '1');
    expect(rate.code).toBe(1);
    expect(rate.err).toMatch(/a sigprop run in mode rate; NIR export supports spiking sigprop runs/);
    const noDt = await cli('nir', 'export', spikingRun, '-o', join(root, 'x.nir'));
    expect(noDt.code).toBe(2);
    expect(noDt.err).toContain("'sigprop nir export' needs --dt-ms");
    const notRun = join(root, 'empty');
    writeFileSync(notRun, 'x');
    expect((await cli('nir', 'export', notRun, '-o', join(root, 'y.nir'), '--dt-ms', '1')).code).toBe(1);
  });
});
