/**
 * Importing a NIR network as a spiking sigprop run (importNirRun, `sigprop nir import`): a run
 * exported and imported again keeps its weights and test accuracy; the imported folder is
 * fine-tuned by `sigprop run --resume`; what sigprop cannot train is refused by name.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  evaluateCheckpoint, exportRunToNir, importNirRun, loadCheckpoint, planNir, readNir, resolveConfig, restoreFromCheckpoint, Rng, runExperiment, simulateNir, writeNir,
  type Dataset, type Network, type NirGraph, type NirNode,
} from '../src/index.js';
import { cli } from './cli.helpers.js';

const root = mkdtempSync(join(tmpdir(), 'sigprop-nir-import-'));
const fixture = (name: string): string => join(__dirname, 'fixtures', 'nir', name);
const quiet = { progress: false as const, log: () => {}, report: false };
// 'direct' input: no random encoding, so the test accuracy depends on the weights alone
const settings = { trainSize: 96, testSize: 32, batchSize: 16, learningRate: 0.01, seed: 5, backend: 'reference', steps: 6, encoder: 'direct' };
let original = '', nirFile = '';

beforeAll(async () => {
  original = (await runExperiment(resolveConfig({
    ...settings, dataset: 'moons', rule: 'sigprop', mode: 'spiking', epochs: 1, dtMs: 1,
    layers: [{ size: 16, model: 'lif', params: { beta: 0.9, threshold: 1 } }, { size: 2 }],
  }), { ...quiet, runDir: join(root, 'original') })).runDir;
  nirFile = join(root, 'original.nir');
  await exportRunToNir(original, nirFile, { dtMs: 1 });
}, 60_000);

const relClose = (a: Float32Array, b: Float32Array): number => {
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(1e-6, Math.abs(a[k])));
  return worst;
};

const arr = (n: number, v: number | number[]) => ({ shape: [n], data: Float64Array.from(Array.isArray(v) ? v : new Array(n).fill(v)) });
const affine = (out: number, inp: number, v = 0.5): NirNode => ({
  type: 'Affine', params: { weight: { shape: [out, inp], data: new Float32Array(out * inp).fill(v) }, bias: { shape: [out], data: new Float32Array(out).fill(0.1) } },
});
const lif = (n: number, extra: Record<string, ReturnType<typeof arr>> = {}): NirNode => ({
  type: 'LIF', params: { tau: arr(n, 0.01), r: arr(n, 1), v_leak: arr(n, 0), v_threshold: arr(n, 1), ...extra },
});
const li = (n: number): NirNode => ({ type: 'LI', params: { tau: arr(n, 0.02), r: arr(n, 1), v_leak: arr(n, 0) } });
/** A chain Input(inputs) → nodes in order → Output. */
function chain(inputs: number, nodes: [string, NirNode][], outputs: number): NirGraph {
  const g: NirGraph = { nodes: { input: { type: 'Input', params: { shape: { shape: [1], data: [inputs] } } } }, edges: [] };
  let prev = 'input';
  for (const [name, node] of nodes) {
    g.nodes[name] = node;
    g.edges.push({ src: prev, dst: name });
    prev = name;
  }
  g.nodes.output = { type: 'Output', params: { shape: { shape: [1], data: [outputs] } } };
  g.edges.push({ src: prev, dst: 'output' });
  return g;
}
let fileCount = 0;
async function nirOf(graph: NirGraph): Promise<string> {
  return writeNir(join(root, `g${fileCount++}.nir`), graph);
}
const importOpts = (dir: string) => ({ ...settings, dtMs: 1, dataset: 'moons', runDir: join(root, dir) });

/** Spikes of every hidden layer and the readout voltage of a run's network (its checkpoint) on input x [T, n], batch 1. */
async function runTraces(runDir: string, x: Float32Array, T: number): Promise<{ spikes: number[][]; readout: number[] }> {
  const r = await restoreFromCheckpoint(runDir);
  const net = (r.rule as unknown as { network: Network }).network;
  const be = net.backend, n = x.length / T;
  net.reset(1);
  const input = net.inputTensor();
  const spikes: number[][] = net.layers.slice(0, -1).map(() => []), readout: number[] = [];
  for (let t = 0; t < T; t++) {
    be.write(input, x.subarray(t * n, (t + 1) * n));
    net.step(input);
    net.layers.slice(0, -1).forEach((l, i) => spikes[i].push(...be.read(l.output())));
    readout.push(...be.read(net.layers[net.layers.length - 1].voltage()));
  }
  r.rule.dispose?.();
  return { spikes, readout };
}
const randomSpikes = (T: number, n: number, p: number, seed: number): Float32Array => {
  const rng = new Rng(seed), x = new Float32Array(T * n);
  for (let k = 0; k < x.length; k++) x[k] = rng.uniform() < p ? 1 : 0;
  return x;
};

describe('importNirRun', () => {
  it('round trip: a trained run exported and imported again gives identical spikes and readout on the same input', async () => {
    const r = await importNirRun(nirFile, importOpts('roundtrip'));
    const x = randomSpikes(200, 2, 0.4, 3);
    const a = await runTraces(original, x, 200), b = await runTraces(r.runDir, x, 200);
    expect(a.spikes[0].reduce((s, v) => s + v, 0)).toBeGreaterThan(50); // the hidden layer fires
    expect(b.spikes).toEqual(a.spikes);
    let worst = 0;
    a.readout.forEach((v, k) => { worst = Math.max(worst, Math.abs(v - b.readout[k])); });
    expect(worst).toBeLessThan(1e-5); // the readout weights pass through (1 − β)·R = 1 in float64: equal up to float32 rounding
  }, 30_000);

  it('round trip of a recurrent synaptic LIF layer with delays (CubaLIF, a loop and a Delay node in NIR): identical spikes', async () => {
    const run = (await runExperiment(resolveConfig({
      ...settings, dataset: 'moons', rule: 'sigprop', mode: 'spiking', epochs: 1, dtMs: 1,
      layers: [{ size: 12, model: 'synaptic', recurrent: 'all-to-all', delays: 2, params: { alpha: 0.7, beta: 0.9, threshold: 1 } }, { size: 2 }],
    }), { ...quiet, runDir: join(root, 'rec-original') })).runDir;
    const file = join(root, 'rec.nir');
    await exportRunToNir(run, file, { dtMs: 1 });
    const r = await importNirRun(file, importOpts('rec-reimported'));
    expect(r.config.layers[0]).toEqual({ size: 12, model: 'synaptic', recurrent: 'all-to-all', delays: 2, params: { alpha: 0.7, beta: 0.9, threshold: 1, reset: 'subtract' } });
    const x = randomSpikes(200, 2, 0.4, 5);
    const a = await runTraces(run, x, 200), b = await runTraces(r.runDir, x, 200);
    expect(a.spikes[0].reduce((s, v) => s + v, 0)).toBeGreaterThan(30);
    expect(b.spikes).toEqual(a.spikes);
  }, 30_000);

  it('braille (snnTorch): the recurrent CubaLIF comes back as a recurrent synaptic layer; with reset zero the run spikes as the NIR simulation', async () => {
    const file = fixture('braille_noDelay_bias_zero.nir'), dtMs = 0.1, T = 20;
    const r = await importNirRun(file, {
      ...settings, dtMs, dataset: 'spike-patterns', datasetParams: { inputs: 12, classes: 7, timeSteps: T }, encoder: 'raster', steps: T, trainSize: 14, testSize: 7, batchSize: 7,
      reset: 'zero', runDir: join(root, 'braille'),
    });
    expect(r.hiddenNodes).toEqual(['lif1.lif']);
    expect(r.readoutNode).toBe('lif2');
    const layer = r.config.layers[0];
    expect(layer).toMatchObject({ size: 38, model: 'synaptic', recurrent: 'all-to-all', params: { threshold: 1, reset: 'zero', resetDelay: false } });
    expect((layer.params as { alpha: number }).alpha).toBeCloseTo(Math.exp(-0.1 / 0.2222222281), 9);
    expect((layer.params as { beta: number }).beta).toBeCloseTo(Math.exp(-0.1 / 0.9999997616), 9);
    const plan = planNir((await readNir(file)).graph, dtMs);
    const ck = loadCheckpoint(r.checkpointPath);
    expect(Array.from(ck.tensors['layer0.R'].data)).toEqual(Array.from(plan.layers[0].wRec!));
    expect(r.warnings.join('\n')).toMatch(/lif2: the CubaLIF readout becomes a leaky integrator/);
    expect(r.warnings.join('\n')).toMatch(/lif2: the readout's synaptic current filter \(τ_syn\) is dropped/);
    expect(r.warnings.join('\n')).not.toMatch(/resets to 0 in the spike's step/);
    const record = JSON.parse(readFileSync(join(r.runDir, 'nir-import.json'), 'utf8'));
    expect(record.layers[0]).toEqual({ layer: 'layer0', node: 'lif1.lif', type: 'CubaLIF', linear: ['fc1'], recurrent: ['lif1.w_rec'] });
    expect(record.graph.recurrent).toEqual([['lif1.w_rec', 'lif1.lif'], ['lif1.lif', 'lif1.w_rec']]);
    expect(record.graph.nodes.find((n: { name: string }) => n.name === 'fc1')).toEqual({ name: 'fc1', type: 'Affine', params: { bias: [38], weight: [38, 12] } });
    // the imported run's engine network and the NIR simulation: the same hidden spikes, step for step
    const x = randomSpikes(300, 12, 0.3, 4);
    const run = await runTraces(r.runDir, x, 300);
    const sim = simulateNir((await readNir(file)).graph, x, { dtMs });
    expect(run.spikes[0].reduce((s, v) => s + v, 0)).toBeGreaterThan(20);
    expect(run.spikes[0]).toEqual(Array.from(sim.nodes[0].spikes!));
    expect((await evaluateCheckpoint(r.runDir)).samples).toBe(7);
  }, 30_000);
  it('a run exported and imported again has the same hidden and readout weights and the same test accuracy', async () => {
    const r = await importNirRun(nirFile, importOpts('reimported'));
    expect(r.hiddenNodes).toEqual(['lif0']);
    expect(r.readoutNode).toBe('readout');
    expect(r.config.layers[0]).toEqual({ size: 16, model: 'lif', params: { beta: 0.9, threshold: 1, reset: 'subtract' } });
    expect((r.config.ruleParams as { readoutBeta: number }).readoutBeta).toBe(0.9);
    expect(r.warnings.join('\n')).toMatch(/lif0: NIR's LIF resets to 0 in the spike's step; the imported layers reset by subtracting θ/);
    const a = loadCheckpoint(join(original, 'checkpoint.ckpt')), b = loadCheckpoint(r.checkpointPath);
    for (const k of ['layer0.W', 'layer0.b', 'readout.W', 'readout.b']) {
      expect(b.tensors[k].data.length, k).toBe(a.tensors[k].data.length);
      expect(relClose(a.tensors[k].data, b.tensors[k].data), k).toBeLessThan(1e-6);
    }
    expect(b.epoch).toBe(0);
    expect(b.batch).toBe(0);
    expect(b.tensors['target.W']).toBeDefined(); // a fresh target projection
    const accA = await evaluateCheckpoint(original), accB = await evaluateCheckpoint(r.runDir);
    expect(accB.samples).toBe(32);
    expect(accB.accuracy).toBe(accA.accuracy);
    const state = JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8'));
    expect(state).toMatchObject({ status: 'interrupted', epoch: 0, batch: 0 });
    expect(existsSync(join(r.runDir, 'config.json'))).toBe(true);
    expect(existsSync(join(r.runDir, 'run.lock'))).toBe(false);
    expect(JSON.parse(readFileSync(join(r.runDir, 'nir-import.json'), 'utf8')).layers.map((l: { node: string }) => l.node)).toEqual(['lif0', 'readout']);
  }, 30_000);

  it('maps NIR parameters with planNir\'s gains: W′ = (1 − β)·R·W, v_leak into the bias, θ = v_threshold; the LI readout loses R(1 − β)', async () => {
    const beta = Math.exp(-1 / 10), betaO = Math.exp(-1 / 20);
    const file = await nirOf(chain(2, [
      ['fc', affine(3, 2, 0.5)], ['l', lif(3, { r: arr(3, 2), v_leak: arr(3, 0.3), v_threshold: arr(3, 0.7) })],
      ['fo', affine(2, 3, -0.25)], ['ro', { type: 'LI', params: { tau: arr(2, 0.02), r: arr(2, 4), v_leak: arr(2, 0.5) } }],
    ], 2));
    const r = await importNirRun(file, importOpts('mapped'));
    const p = r.config.layers[0].params as { beta: number; threshold: number };
    expect(p.beta).toBeCloseTo(beta, 10);
    expect(p.threshold).toBeCloseTo(0.7, 12);
    const ck = loadCheckpoint(r.checkpointPath);
    expect(ck.tensors['layer0.W'].data[0]).toBeCloseTo((1 - beta) * 2 * 0.5, 6);
    expect(ck.tensors['layer0.b'].data[1]).toBeCloseTo((1 - beta) * (2 * 0.1 + 0.3), 6);
    expect(ck.tensors['readout.W'].data[0]).toBeCloseTo((1 - betaO) * 4 * -0.25, 6);
    expect(ck.tensors['readout.b'].data[0]).toBeCloseTo((1 - betaO) * (4 * 0.1 + 0.5), 6);
    expect((r.config.ruleParams as { readoutBeta: number }).readoutBeta).toBeCloseTo(betaO, 10);
  });

  it('per-neuron thresholds are folded into the weights (threshold 1), with a warning; the spikes stay NIR\'s', async () => {
    const r = await importNirRun(await nirOf(chain(2, [['fc', affine(3, 2, 0.5)], ['l', lif(3, { v_threshold: arr(3, [1, 1, 2]) })], ['fo', affine(2, 3)], ['ro', li(2)]], 2)), importOpts('thr'));
    expect(r.config.layers[0].params).toMatchObject({ threshold: 1 });
    expect(r.warnings.join('\n')).toMatch(/l: its neurons' thresholds differ; they are folded into the weights/);
    const W = loadCheckpoint(r.checkpointPath).tensors['layer0.W'].data, g = -Math.expm1(-0.1);
    expect(W[0]).toBeCloseTo(g * 0.5, 6);
    expect(W[2]).toBeCloseTo((g * 0.5) / 2, 6); // neuron 2: input divided by its threshold 2
  });

  it('an IF hidden node becomes a LIF layer with β = 1 and input gain dt·R', async () => {
    const ifNode: NirNode = { type: 'IF', params: { r: arr(3, 200), v_threshold: arr(3, 0.5) } };
    const r = await importNirRun(await nirOf(chain(2, [['fc', affine(3, 2, 0.5)], ['i', ifNode], ['fo', affine(2, 3)], ['ro', li(2)]], 2)), importOpts('if'));
    expect(r.config.layers[0].params).toEqual({ beta: 1, threshold: 0.5, reset: 'subtract' });
    expect(loadCheckpoint(r.checkpointPath).tensors['layer0.W'].data[0]).toBeCloseTo(0.001 * 200 * 0.5, 6);
    expect(r.warnings.join('\n')).toMatch(/^i: NIR's IF resets to 0 in the spike's step; the imported layers reset by subtracting θ/);
  });

  it('a Threshold hidden node becomes a LIF layer without memory or reset (β = 0, reset none); reset zero keeps NIR\'s reset for LIF', async () => {
    const thr: NirNode = { type: 'Threshold', params: { threshold: arr(3, 0.4) } };
    const r = await importNirRun(await nirOf(chain(2, [['fc', affine(3, 2, 0.5)], ['t', thr], ['fo', affine(2, 3)], ['ro', li(2)]], 2)), importOpts('threshold'));
    expect(r.config.layers[0]).toEqual({ size: 3, model: 'lif', params: { beta: 0, threshold: 0.4, reset: 'none' } });
    expect(r.warnings.join('\n')).not.toMatch(/resets to 0/);
    const z = await importNirRun(await nirOf(chain(2, [['fc', affine(3, 2, 0.5)], ['l', lif(3)], ['fo', affine(2, 3)], ['ro', li(2)]], 2)), { ...importOpts('zero'), reset: 'zero' });
    expect(z.config.layers[0].params).toMatchObject({ reset: 'zero', resetDelay: false });
  });

  it('refuses what spiking sigprop cannot train, naming the node, the parameter and the reason', async () => {
    const refused = async (graph: NirGraph | string, dir: string, opts: Partial<Parameters<typeof importNirRun>[1]> = {}) => {
      const file = typeof graph === 'string' ? graph : await nirOf(graph);
      const err = await importNirRun(file, { ...importOpts(dir), ...opts }).then(() => null, (e: Error) => e);
      expect(err, dir).not.toBeNull();
      expect(existsSync(join(root, dir)), `${dir} is left behind`).toBe(false);
      return err!.message;
    };
    expect(await refused(fixture('cnn_sinabs.nir'), 'x-conv')).toMatch(/not supported yet: node 0 of type Conv2d: convolutions and pooling cannot be imported: spiking sigprop trains fully connected layers/);
    const integ: NirNode = { type: 'I', params: { r: arr(3, 1) } };
    expect(await refused(chain(2, [['fc', affine(3, 2)], ['i', integ], ['fo', affine(2, 3)], ['ro', li(2)]], 2), 'x-int')).toMatch(/node i of type I is a hidden layer; spiking sigprop's hidden layers spike/);
    const delayed = chain(2, [['d', { type: 'Delay', params: { delay: arr(2, [0.001, 0.002]) } }], ['fc', affine(3, 2)], ['l', lif(3)], ['fo', affine(2, 3)], ['ro', li(2)]], 2);
    expect(await refused(delayed, 'x-delays')).toMatch(/the Delay nodes before l \(d\) delay its connections by different amounts; a run config holds one delay per layer/);
    expect(await refused(chain(2, [['fc', affine(3, 2)], ['l', lif(3, { tau: arr(3, [0.01, 0.02, 0.01]) })], ['fo', affine(2, 3)], ['ro', li(2)]], 2), 'x-tau'))
      .toMatch(/node l of type LIF: parameter tau differs between neurons \(0.01 to 0.02\); one value per node/);
    expect(await refused(chain(2, [['fc', affine(3, 2)], ['l', lif(3, { v_reset: arr(3, 0.2) })], ['fo', affine(2, 3)], ['ro', li(2)]], 2), 'x-reset'))
      .toMatch(/node l of type LIF: parameter v_reset is not 0/);
    expect(await refused(chain(3, [['fc', affine(3, 3)], ['l', lif(3)], ['fo', affine(2, 3)], ['ro', li(2)]], 2), 'x-in'))
      .toMatch(/the input size \(node input\) is 3 but dataset moons has 2; import it with a dataset of 3 input channels/);
    expect(await refused(chain(2, [['fc', affine(3, 2)], ['l', lif(3)], ['fo', affine(4, 3)], ['ro', li(4)]], 4), 'x-classes'))
      .toMatch(/the readout node ro has 4 neurons: the class count is 4 but dataset moons has 2/);
    expect(await refused(chain(2, [['fo', affine(2, 2)], ['ro', li(2)]], 2), 'x-nohidden')).toMatch(/one neuron node \(ro\); spiking sigprop needs at least one spiking hidden layer/);
    expect(await refused(chain(2, [['fc', affine(3, 2)], ['h', li(3)], ['fo', affine(2, 3)], ['ro', li(2)]], 2), 'x-lihidden')).toMatch(/node h of type LI is a hidden layer/);
    expect(await refused(nirFile, 'x-dt', { dtMs: 0 })).toMatch(/dtMs = 0: the step size in ms must be a finite number > 0/);
  });

  it('refuses a folder that already holds a run', async () => {
    await expect(importNirRun(nirFile, { ...importOpts('x'), runDir: original })).rejects.toThrow(/already holds a run; choose another folder/);
  });

  it('two_lif_neurons.nir (Linear nodes without bias, a LIF readout of 1 neuron): imports onto a 1-channel, 1-class dataset, and no registered dataset fits it', async () => {
    expect(await importNirRun(fixture('two_lif_neurons.nir'), importOpts('x-two')).then(() => '', (e: Error) => e.message))
      .toMatch(/the readout node lif2 has 1 neuron: the class count is 1 but dataset moons has 2/);
    const split = (n: number) => ({ images: Float32Array.from({ length: n }, (_, i) => (i % 2) * 0.8), labels: new Int32Array(n), n, inputSize: 1, numClasses: 1 });
    const data: Dataset = { name: 'one', inputShape: [1], inputSize: 1, numClasses: 1, train: split(8), test: split(4), normalisation: { kind: 'none' }, source: 'test' };
    const r = await importNirRun(fixture('two_lif_neurons.nir'), { ...importOpts('two'), dataset: 'one', datasetData: data });
    expect(r.hiddenNodes).toEqual(['lif1']);
    expect(r.readoutNode).toBe('lif2');
    expect(r.warnings.join('\n')).toMatch(/lif2: the LIF readout becomes a leaky integrator without threshold or spikes/);
    const ck = loadCheckpoint(r.checkpointPath);
    const g = -Math.expm1(-0.1); // 1 − β for τ = 10 ms at dt = 1 ms
    expect(r.config.layers[0].params).toMatchObject({ threshold: 1, reset: 'subtract' });
    expect(ck.tensors['layer0.W'].data[0]).toBeCloseTo(g * 1 * 1, 7); // (1 − β)·R·w
    expect(ck.tensors['layer0.b'].data[0]).toBeCloseTo(g * 1.2, 7); // Linear has no bias: only v_leak = 1.2
    expect(ck.tensors['readout.W'].data[0]).toBeCloseTo(g, 7); // the LIF readout's gain; its threshold 20 is dropped
    expect(ck.tensors['readout.b'].data[0]).toBe(0);
  });
});

describe('sigprop nir import', () => {
  it('imports, prints the reset warning, and `run --resume --epochs 2` fine-tunes the run to completion', async () => {
    const dir = join(root, 'cli');
    const r = await cli('nir', 'import', nirFile, '--dt-ms', '1', '--dataset', 'moons', '-o', dir, '--epochs', '1', '--seed', '5', '--learning-rate', '0.005', '--backend', 'reference', '--steps', '6', '--encoder', 'direct', '--test-size', '200', '--batch-size', '32');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/^warning: lif0: NIR's LIF resets to 0/);
    expect(r.out).toContain('imported lif0 -> readout (16-2) as a spiking sigprop run at epoch 0');
    expect(r.out).toMatch(/fine-tune it with: .*run --resume .*cli --epochs N/);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ dataset: 'moons', rule: 'sigprop', mode: 'spiking', dtMs: 1, epochs: 1, seed: 5, learningRate: 0.005, backend: 'reference', steps: 6, encoder: 'direct', testSize: 200, batchSize: 32 });
    const before = loadCheckpoint(join(dir, 'checkpoint.ckpt')).tensors;
    const res = await cli('run', '--resume', dir, '--epochs', '2', '--no-report');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/resuming .* at epoch 1, batch 1/);
    expect(res.out).toMatch(/run complete: .*cli, test accuracy \d+\.\d\d% on 200 samples/);
    const state = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    expect(state).toMatchObject({ status: 'complete', epoch: 2, epochs: 2 });
    const after = loadCheckpoint(join(dir, 'checkpoint.ckpt'));
    expect(after.epoch).toBe(2);
    for (const k of ['layer0.W', 'readout.W']) expect(relClose(before[k].data, after.tensors[k].data), k).toBeGreaterThan(1e-4);
    expect(JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'))).toHaveLength(2);
  }, 60_000);

  it('braille (recurrent CubaLIF) on a synthetic 12-channel, 7-class task: import with --reset zero, eval, traces, fine-tune with run --resume; the report shows the NIR graph', async () => {
    const dir = join(root, 'cli-braille');
    const r = await cli('nir', 'import', fixture('braille_noDelay_bias_zero.nir'), '--dt-ms', '0.1', '--dataset', 'spike-patterns', '--dataset-param', 'inputs=12,classes=7,timeSteps=10',
      '--encoder', 'raster', '--steps', '10', '--reset', 'zero', '--train-size', '28', '--test-size', '14', '--batch-size', '7', '--epochs', '1', '--backend', 'reference', '--seed', '2', '-o', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('imported lif1.lif -> lif2 (38-7) as a spiking sigprop run at epoch 0');
    expect(r.err).toMatch(/warning: lif2: the CubaLIF readout becomes a leaky integrator/);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).layers[0]).toMatchObject({ model: 'synaptic', recurrent: 'all-to-all' });
    expect(r.out).toMatch(/report \(the NIR graph and the config\): .*cli-braille\/report\.html/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('NIR graph (imported network)'); // at epoch 0, before any training
    const ev = await cli('eval', dir, '--json');
    expect(ev.code, ev.err).toBe(0);
    expect(JSON.parse(ev.out)).toMatchObject({ samples: 14 });
    const tr = await cli('traces', dir, '--samples', '0', '--steps', '10');
    expect(tr.code, tr.err).toBe(0);
    const before = loadCheckpoint(join(dir, 'checkpoint.ckpt')).tensors;
    const res = await cli('run', '--resume', dir, '--epochs', '2');
    expect(res.code, res.err).toBe(0);
    expect(res.out).toMatch(/run complete: .*cli-braille, test accuracy \d+\.\d\d% on 14 samples/);
    const after = loadCheckpoint(join(dir, 'checkpoint.ckpt'));
    expect(after.epoch).toBe(2);
    for (const k of ['layer0.W', 'layer0.R', 'readout.W']) expect(relClose(before[k].data, after.tensors[k].data), k).toBeGreaterThan(1e-5);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('NIR graph (imported network)');
    expect(html).toMatch(/lif1\.w_rec<\/td>\s*<td[^>]*>Affine<\/td>\s*<td[^>]*>bias \[38\], weight \[38, 38\]<\/td>\s*<td[^>]*>layer0 \(recurrent weights\)/);
    expect(html).toMatch(/recurrent/);
  }, 120_000);

  it('usage errors: --dt-ms, --dataset and -o are required; a refusal is printed without a stack trace', async () => {
    const noDs = await cli('nir', 'import', nirFile, '--dt-ms', '1', '-o', join(root, 'u1'));
    expect(noDs.code).toBe(2);
    expect(noDs.err).toContain("'sigprop nir import' needs --dataset NAME");
    const noOut = await cli('nir', 'import', nirFile, '--dt-ms', '1', '--dataset', 'moons');
    expect(noOut.code).toBe(2);
    expect(noOut.err).toContain("'sigprop nir import' needs -o DIR");
    expect((await cli('nir', 'import', nirFile, '--dataset', 'moons', '-o', join(root, 'u2'))).err).toContain("'sigprop nir import' needs --dt-ms");
    const conv = await cli('nir', 'import', fixture('cnn_sinabs.nir'), '--dt-ms', '1', '--dataset', 'moons', '-o', join(root, 'u3'));
    expect(conv.code).toBe(1);
    expect(conv.err).toMatch(/not supported yet: node 0 of type Conv2d: convolutions and pooling cannot be imported/);
    expect(conv.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(root, 'u3'))).toBe(false);
  });
});
