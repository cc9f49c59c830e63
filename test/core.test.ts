import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';
import { checkNumber, ParameterError, ShapeError } from '../src/errors.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();

describe('reference backend kernels (hand-computed)', () => {
  it('matmul with every transpose combination', () => {
    // a = [[1,2,3],[4,5,6]] (2x3), b = [[1,0],[0,1],[1,1]] (3x2) => a·b = [[4,5],[10,11]]
    const a = be.fromArray([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = be.fromArray([3, 2], [1, 0, 0, 1, 1, 1]);
    const out = be.tensor([2, 2]);
    be.matmul(out, a, b);
    expect([...out.data]).toEqual([4, 5, 10, 11]);
    const aT = be.fromArray([3, 2], [1, 4, 2, 5, 3, 6]);
    const bT = be.fromArray([2, 3], [1, 0, 1, 0, 1, 1]);
    be.matmul(out, aT, b, { transA: true });
    expect([...out.data]).toEqual([4, 5, 10, 11]);
    be.matmul(out, a, bT, { transB: true });
    expect([...out.data]).toEqual([4, 5, 10, 11]);
    // alpha/beta: out = 2·a·b + 1·out
    be.matmul(out, aT, bT, { transA: true, transB: true, alpha: 2, beta: 1 });
    expect([...out.data]).toEqual([12, 15, 30, 33]);
  });

  it('matmul rejects mismatched inner dimensions with a message naming them', () => {
    const a = be.tensor([2, 3]);
    const b = be.tensor([2, 2]);
    expect(() => be.matmul(be.tensor([2, 2]), a, b)).toThrow(ShapeError);
    expect(() => be.matmul(be.tensor([2, 2]), a, b)).toThrow(/inner dimensions/);
  });

  it('a number or array where a tensor belongs (arguments in the wrong order) gets a message naming the kernel and the argument, on reference and wasm', async () => {
    for (const be of [new ReferenceBackend(), await createBackend('wasm', { threads: 1 })]) {
      const x = be.tensor([2, 3]), y = be.tensor([2, 3]);
      expect(() => be.axpby(x, 0.5 as never, 1, 0.9)).toThrow(/axpby: x must be a tensor of this backend .*got the number 0\.5; check the order of the arguments/);
      expect(() => be.matmul(x, [1, 2] as never, y)).toThrow(/matmul: a must be a tensor .*got an array/);
      expect(() => be.spikeMatmul(x, y, null as never)).toThrow(/spikeMatmul: w must be a tensor .*got null/);
      expect(() => be.lifStep(x, y, undefined as never, { beta: 0.9, threshold: 1 } as never)).toThrow(/lifStep: .* must be a tensor .*got the undefined/);
    }
  });

  it('spikeMatmul equals dense matmul on sparse spikes and only reads active rows', () => {
    const rng = new Rng(3);
    const B = 5, K = 37, N = 11;
    const s = be.tensor([B, K]);
    for (let i = 0; i < s.size; i++) s.data[i] = rng.bernoulli(0.1);
    const w = be.tensor([K, N]);
    rng.fillNormal(w.data);
    const dense = be.tensor([B, N]);
    const ev = be.tensor([B, N]);
    be.matmul(dense, s, w);
    be.spikeMatmul(ev, s, w);
    for (let i = 0; i < dense.size; i++) expect(ev.data[i]).toBeCloseTo(dense.data[i], 5);
    // rows of W for silent inputs may hold NaN without affecting the result
    const silent = [...Array(K).keys()].filter((k) => [...Array(B).keys()].every((b) => s.data[b * K + k] === 0));
    expect(silent.length).toBeGreaterThan(0);
    for (const k of silent) w.data.fill(NaN, k * N, k * N + N);
    be.spikeMatmul(ev, s, w);
    for (let i = 0; i < dense.size; i++) expect(ev.data[i]).toBeCloseTo(dense.data[i], 5);
  });

  it('spikeOuter equals matmul(transA) accumulation', () => {
    const rng = new Rng(4);
    const B = 3, K = 9, N = 4;
    const s = be.tensor([B, K]);
    for (let i = 0; i < s.size; i++) s.data[i] = rng.bernoulli(0.3);
    const g = be.fromArray([B, N], rng.fillNormal(new Float32Array(B * N)));
    const w1 = be.fromArray([K, N], rng.fillNormal(new Float32Array(K * N)));
    const w2 = be.fromArray([K, N], w1.data);
    be.spikeOuter(w1, s, g, -0.5);
    be.matmul(w2, s, g, { transA: true, alpha: -0.5, beta: 1 });
    for (let i = 0; i < w1.size; i++) expect(w1.data[i]).toBeCloseTo(w2.data[i], 5);
  });

  it('lifStep: subtract reset one step after the spike (snnTorch Leaky)', () => {
    const u = be.tensor([1, 1]), s = be.tensor([1, 1]), I = be.fromArray([1, 1], [0.6]);
    const p = { beta: 0.5, threshold: 1, reset: 'subtract' as const, resetDelay: true };
    const trace: number[][] = [];
    for (let t = 0; t < 4; t++) {
      be.lifStep(u, s, I, p);
      trace.push([u.data[0], s.data[0]]);
    }
    // U1 = 0.6; U2 = 0.3+0.6 = 0.9; U3 = 0.45+0.6 = 1.05 -> spike; U4 = 0.525+0.6-1 = 0.125
    expect(trace[0][0]).toBeCloseTo(0.6, 6);
    expect(trace[1][0]).toBeCloseTo(0.9, 6);
    expect(trace[2][0]).toBeCloseTo(1.05, 6);
    expect(trace[3][0]).toBeCloseTo(0.125, 6);
    expect(trace.map((r) => r[1])).toEqual([0, 0, 1, 0]);
  });

  it('sumRows, addRow, axpby, mul, sums', () => {
    const x = be.fromArray([2, 3], [1, 2, 3, 4, 5, 6]);
    const v = be.fromArray([3], [10, 20, 30]);
    const o = be.fromArray([3], [1, 1, 1]);
    be.sumRows(o, x, 2, 1);
    expect([...o.data]).toEqual([11, 15, 19]);
    be.addRow(x, v);
    expect([...x.data]).toEqual([11, 22, 33, 14, 25, 36]);
    const y = be.fromArray([3], [1, 2, 3]);
    be.axpby(y, v, 0.5, 2);
    expect([...y.data]).toEqual([7, 14, 21]);
    be.mul(y, y, o);
    expect([...y.data]).toEqual([77, 210, 399]);
    expect(be.sum(v)).toBe(60);
    expect(be.sumSquares(v)).toBe(1400);
  });
});

describe('Rng', () => {
  it('fillDropMask draws what a loop over uniform() draws and leaves the same state', () => {
    const a = new Rng(9), b = new Rng(9);
    const got = a.fillDropMask(new Float32Array(1001), 0.3, 1 / 0.7);
    const want = Float32Array.from({ length: 1001 }, () => (b.uniform() < 0.3 ? 0 : 1 / 0.7));
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(a.getState()).toEqual(b.getState());
  });
  it('is deterministic per seed and restores its state', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 5 }, () => a.uniform());
    const xb = Array.from({ length: 5 }, () => b.uniform());
    const xc = Array.from({ length: 5 }, () => c.uniform());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
    const st = a.getState();
    const n1 = [a.normal(), a.normal(), a.uniform()];
    a.setState(st);
    expect([a.normal(), a.normal(), a.uniform()]).toEqual(n1);
  });

  it('lend: a holder keeps the state; the next draw, getState or fillDropMask takes it back once, setState replaces it', () => {
    // a holder that "drew" k numbers on a device: the state after them, as a plain generator has it
    const after = (seed: number, k: number) => {
      const r = new Rng(seed);
      for (let i = 0; i < k; i++) r.nextU32();
      return r;
    };
    let reclaims = 0;
    const holder = (seed: number, k: number) => ({ reclaim: () => (reclaims++, after(seed, k).getState().s) });
    const a = new Rng(5), h = holder(5, 7);
    a.lend(h);
    expect(a.heldBy(h)).toBe(true);
    expect(a.heldBy(holder(5, 7))).toBe(false);
    const want = after(5, 7);
    expect([a.uniform(), a.nextU32(), a.normal()]).toEqual([want.uniform(), want.nextU32(), want.normal()]);
    expect(reclaims).toBe(1);
    expect(a.heldBy(h)).toBe(false);
    // getState and fillDropMask take it back too
    const b = new Rng(6);
    b.lend(holder(6, 3));
    expect(b.getState()).toEqual(after(6, 3).getState());
    const c = new Rng(6);
    c.lend(holder(6, 3));
    expect(Array.from(c.fillDropMask(new Float32Array(9), 0.5, 2))).toEqual(Array.from(after(6, 3).fillDropMask(new Float32Array(9), 0.5, 2)));
    // setState replaces the held state without asking the holder
    const d = new Rng(1), st = new Rng(77).getState();
    d.lend({ reclaim: () => { throw new Error('not asked'); } });
    d.setState(st);
    expect(d.uniform()).toBe(new Rng(77).uniform());
    expect(reclaims).toBe(3);
  });

  it('uniform, normal and bernoulli have the right moments', () => {
    const r = new Rng(1);
    const n = 20000;
    let su = 0, sn = 0, sn2 = 0, sb = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      su += u;
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      sb += r.bernoulli(0.2);
    }
    // tolerances ~5 standard errors
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(sb / n - 0.2)).toBeLessThan(5 * Math.sqrt(0.16 / n));
  });
});

describe('parameter validation and backend registry', () => {
  it('checkNumber names the parameter and the allowed range', () => {
    expect(() => checkNumber('tauMs', -1, { min: 0, minExclusive: true, unit: 'ms' })).toThrow(ParameterError);
    expect(() => checkNumber('tauMs', -1, { min: 0, minExclusive: true, unit: 'ms' })).toThrow(/tauMs = -1 .*0 < value/);
    expect(() => checkNumber('beta', NaN, { min: 0, max: 1 })).toThrow(/beta .*not a finite number/);
    expect(checkNumber('beta', 0.5, { min: 0, max: 1 })).toBe(0.5);
  });

  it('createBackend knows reference and rejects unknown names', async () => {
    expect((await createBackend('reference')).name).toBe('reference');
    await expect(createBackend('tpu')).rejects.toThrow(/backend = "tpu" is not known/);
  });
});
