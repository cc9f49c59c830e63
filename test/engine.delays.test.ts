import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Network } from '../src/engine/network.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();
const K = 7, N = 5, B = 2, T = 25;

function inputs(seed: number, p = 0.3): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: T }, () => {
    const a = new Float32Array(B * K);
    for (let i = 0; i < a.length; i++) a[i] = rng.uniform() < p ? 1 : 0;
    return a;
  });
}

/** I[t,b,n] = Σ_k x[t − d[k,n]][b,k]·W[k,n] (zero before t = 0), computed by hand. */
function shifted(xs: Float32Array[], w: Float32Array, d: (k: number, n: number) => number, t: number): Float64Array {
  const o = new Float64Array(B * N);
  for (let b = 0; b < B; b++)
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) {
        const ts = t - d(k, n);
        if (ts >= 0) o[b * N + n] += xs[ts][b * K + k] * w[k * N + n];
      }
  return o;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
}

function net(delays: number | Int32Array | undefined, propagation: 'auto' | 'dense' = 'auto'): Network {
  const n = new Network(be, { inputSize: K, dtMs: 1, layers: [{ size: N, delays, propagation, params: { beta: 0.9, threshold: 0.7 } }] }, new Rng(3));
  n.reset(B);
  return n;
}

describe('synaptic delays', () => {
  it('per-connection delays equal a hand-shifted computation', () => {
    const rng = new Rng(9);
    const d = new Int32Array(K * N);
    for (let i = 0; i < d.length; i++) d[i] = rng.int(6);
    const a = net(d);
    expect(a.layers[0].delayLine!.slots).toBe(6);
    const w = be.read(a.layers[0].w);
    const xs = inputs(1);
    for (let t = 0; t < T; t++) {
      a.step(be.fromArray([B, K], xs[t]));
      close(a.layers[0].inputCurrent().data, shifted(xs, w, (k, n) => d[k * N + n], t));
    }
  });

  it('one delay for the projection equals the input shifted by d (event and dense paths)', () => {
    for (const prop of ['auto', 'dense'] as const) {
      const a = net(3, prop);
      const w = be.read(a.layers[0].w);
      const xs = inputs(2);
      for (let t = 0; t < T; t++) {
        a.step(be.fromArray([B, K], xs[t]));
        const cur = a.layers[0].inputCurrent().data;
        if (t < 3) expect(be.sumSquares(a.layers[0].inputCurrent())).toBe(0);
        close(cur, shifted(xs, w, () => 3, t));
      }
    }
  });

  it('delay 0 (number or all-zero array) equals no delay', () => {
    const plain = net(undefined), zero = net(0), zeros = net(new Int32Array(K * N));
    const xs = inputs(4, 0.5);
    let spikes = 0;
    for (let t = 0; t < T; t++) {
      const x = be.fromArray([B, K], xs[t]);
      plain.step(x); zero.step(x); zeros.step(x);
      const u = plain.layers[0].voltage().data;
      expect(Array.from(zero.layers[0].voltage().data)).toEqual(Array.from(u));
      close(zeros.layers[0].voltage().data, u);
      spikes += be.sum(plain.layers[0].output());
    }
    expect(spikes).toBeGreaterThan(0);
  });

  it('reset clears pending input (both paths)', () => {
    for (const d of [2, new Int32Array(K * N).fill(2)]) {
      const a = net(d);
      a.step(be.fromArray([B, K], new Float32Array(B * K).fill(1)));
      a.reset(B);
      for (let t = 0; t < 4; t++) {
        a.step(be.tensor([B, K]));
        expect(be.sumSquares(a.layers[0].inputCurrent())).toBe(0);
      }
      // and pending input is delivered when not reset
      a.step(be.fromArray([B, K], new Float32Array(B * K).fill(1)));
      a.step(be.tensor([B, K]));
      a.step(be.tensor([B, K]));
      expect(be.sumSquares(a.layers[0].inputCurrent())).toBeGreaterThan(0);
    }
  });

  it('rejects bad delays', () => {
    expect(() => net(-1)).toThrow(ParameterError);
    expect(() => net(1.5)).toThrow(/delays/);
    const d = new Int32Array(K * N); d[7] = -2;
    expect(() => net(d)).toThrow(/delays\[7\] \(input 1, neuron 2\) = -2/);
    expect(() => net(new Int32Array(3))).toThrow(ShapeError);
  });
});
