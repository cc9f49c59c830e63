/**
 * The engine on every non-reference backend agrees with the reference backend: same seed, same
 * inputs, same voltages (float32 tolerance) and spikes, through event-driven and dense
 * propagation, bias, both delay paths, LIF and synaptic layers, and encoder writes.
 */
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/registry.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createEncoder } from '../src/encoders.js';
import { Network, type NetworkSpec } from '../src/engine/network.js';
import { Recorder } from '../src/recorder.js';
import { Rng } from '../src/rng.js';

const K = 50, B = 3, T = 15;

function spec(): NetworkSpec {
  const d = new Int32Array(K * 20);
  const r = new Rng(99);
  for (let i = 0; i < d.length; i++) d[i] = r.int(4);
  return {
    inputSize: K, dtMs: 1,
    layers: [
      { size: 20, model: 'lif', params: { beta: 0.85, threshold: 0.6 }, bias: true, delays: d, weightScale: 3 },
      { size: 12, model: 'synaptic', params: { alpha: 0.7, beta: 0.8, threshold: 0.5 }, delays: 2, weightScale: 3 },
      { size: 6, model: 'lif', propagation: 'dense', weightScale: 3 },
    ],
  };
}

function simulate(be: Backend): { u: Float32Array[]; s: Float32Array[]; rec: Float32Array } {
  const net = new Network(be, spec(), new Rng(5));
  net.reset(B);
  const enc = createEncoder('rate:gain=0.8', { rng: new Rng(8) });
  const x = new Float32Array(B * K);
  new Rng(3).fillUniform(x);
  enc.setInput(x, B, K);
  const rec = new Recorder({ layer: 1, vars: ['current'], neurons: [0, 5], samples: 'all' });
  const u: Float32Array[] = [], s: Float32Array[] = [];
  net.run({ steps: T, encoder: enc, recorder: rec, onStep: (_t, n) => n.layers.forEach((l) => { u.push(be.read(l.voltage())); s.push(be.read(l.output())); }) });
  return { u, s, rec: rec.get(1, 'current', 5, 2) };
}

describe('engine on other backends', () => {
  it.each([
    ['wasm', {}],
    ['gpu (gpu.js CPU mode: the kernel sources of the device modes)', { gpuMode: 'cpu' as const }],
  ])('%s agrees with reference', async (name, opts) => {
    const ref = simulate(new ReferenceBackend());
    const be = await createBackend(name.split(' ')[0], opts);
    const got = simulate(be);
    let spikes = 0;
    for (let i = 0; i < ref.u.length; i++) {
      for (let j = 0; j < ref.u[i].length; j++) expect(Math.abs(got.u[i][j] - ref.u[i][j])).toBeLessThan(1e-4);
      expect(Array.from(got.s[i])).toEqual(Array.from(ref.s[i]));
      for (const v of ref.s[i]) spikes += v;
    }
    expect(spikes).toBeGreaterThan(20);
    for (let t = 0; t < T; t++) expect(got.rec[t]).toBeCloseTo(ref.rec[t], 4);
  });
});
