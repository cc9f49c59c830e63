// The wasm backend with two threads gives the same numbers as with one: the shapes here are above
// the parallel thresholds, so every kernel is really split between the calling thread and a worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/backend/registry.js';
import { PARALLEL_THRESHOLDS, WasmBackend } from '../src/backend/wasm/backend.js';
import type { ThreadedOp } from '../src/backend/wasm/module.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import type { Backend } from '../src/backend/backend.js';

let one: WasmBackend;
let two: WasmBackend;

beforeAll(async () => {
  one = (await createBackend('wasm', { threads: 1 })) as WasmBackend;
  two = (await createBackend('wasm', { threads: 2 })) as WasmBackend;
});
afterAll(async () => {
  await one?.dispose();
  await two?.dispose();
});

function both(shape: number[], data: Float32Array): [Tensor, Tensor] {
  return [one.fromArray(shape, data), two.fromArray(shape, data)];
}
function same(a: Tensor, b: Tensor): void {
  const x = one.read(a), y = two.read(b);
  expect(x.length).toBe(y.length);
  let diff = 0;
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) diff++;
  expect(diff).toBe(0);
}

describe('wasm threads = 2 equals threads = 1', () => {
  const rng = new Rng(21);
  const randn = (n: number) => rng.fillNormal(new Float32Array(n));

  it('reports its thread count', () => {
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
  });

  for (const [M, K, N] of [[64, 129, 203], [301, 77, 45], [138, 1000, 10]]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`matmul M=${M} K=${K} N=${N} transA=${transA} transB=${transB} (split ${N >= M ? 'columns' : 'rows'})`, () => {
          expect(2 * M * N * K).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.gemmFlops);
          const [a1, a2] = both(transA ? [K, M] : [M, K], randn(M * K));
          const [b1, b2] = both(transB ? [N, K] : [K, N], randn(K * N));
          const C = randn(M * N);
          const [c1, c2] = both([M, N], C);
          one.matmul(c1, a1, b1, { transA, transB, alpha: 0.7, beta: 0.2 });
          two.matmul(c2, a2, b2, { transA, transB, alpha: 0.7, beta: 0.2 });
          same(c1, c2);
        });
      }
    }
  }

  /** spikeMatmul then spikeOuter on random spikes [B, K] of the given density, on one and two threads: the same numbers. */
  function spikeKernelsAgree(B: number, K: number, N: number, density: number): { w: [Tensor, Tensor]; g: [Tensor, Tensor] } {
    const S = new Float32Array(B * K).map(() => (rng.uniform() < density ? 1 : 0));
    const [s1, s2] = both([B, K], S);
    const [w1, w2] = both([K, N], randn(K * N));
    const [o1, o2] = both([B, N], randn(B * N));
    one.spikeMatmul(o1, s1, w1, 0.5);
    two.spikeMatmul(o2, s2, w2, 0.5);
    same(o1, o2);
    const [g1, g2] = both([B, N], randn(B * N));
    one.spikeOuter(w1, s1, g1, 0.01);
    two.spikeOuter(w2, s2, g2, 0.01);
    same(w1, w2);
    return { w: [w1, w2], g: [g1, g2] };
  }

  it('spikeMatmul and spikeOuter', () => {
    const [B, K, N] = [67, 300, 333];
    expect(B * K * N).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.spikeWork);
    const { w: [w1, w2], g: [g1, g2] } = spikeKernelsAgree(B, K, N, 0.1);
    // dense presynaptic values (eligibility trace): the GEMM path
    const E = randn(B * K);
    const [e1, e2] = both([B, K], E);
    one.spikeOuter(w1, e1, g1, 0.01);
    two.spikeOuter(w2, e2, g2, 0.01);
    same(w1, w2);
  });

  it('spikeOuterPair: a readout\'s narrow update beside a wide sparse one in one split call, the same numbers as the two spikeOuter calls on one thread; dense rows, one thread and a shared weight tensor take the two calls', () => {
    // mnist-lif's end of window: the readout's update (138 rows of 1000 hidden spikes, 10 classes) beside layer 0's (784 inputs, x − r at ~5%, 1000 units)
    const [B, K1, N1, K2, N2] = [138, 1000, 10, 784, 1000];
    const spikes = (n: number, p: number) => new Float32Array(n).map(() => (rng.uniform() < p ? (rng.uniform() < 0.8 ? 1 : -1) : 0));
    const [s1a, s1b] = both([B, K1], spikes(B * K1, 0.12)), [g1a, g1b] = both([B, N1], randn(B * N1));
    const [s2a, s2b] = both([B, K2], spikes(B * K2, 0.05)), [g2a, g2b] = both([B, N2], randn(B * N2));
    const [w1a, w1b] = both([K1, N1], randn(K1 * N1)), [w2a, w2b] = both([K2, N2], randn(K2 * N2));
    const pairs = () => two.threadStats().get('spikeOuterPair')?.calls ?? 0;
    const before = pairs();
    for (const narrowFirst of [true, false]) {
      // one thread: the two calls; two threads: the pair, in either order of its arguments
      one.spikeOuter(w1a, s1a, g1a, 0.03);
      one.spikeOuter(w2a, s2a, g2a, -0.02);
      const n = { w: w1b, s: s1b, g: g1b, alpha: 0.03 }, wide = { w: w2b, s: s2b, g: g2b, alpha: -0.02 };
      if (narrowFirst) two.spikeOuterPair(n, wide);
      else two.spikeOuterPair(wide, n);
      same(w1a, w1b);
      same(w2a, w2b);
    }
    expect(pairs()).toBe(before + 2);
    // dense rows in the wide update (an eligibility trace: GEMM) and a pair on one thread: the two calls, same numbers
    const E = randn(B * K2);
    const [ea, eb] = both([B, K2], E);
    one.spikeOuterPair({ w: w1a, s: s1a, g: g1a, alpha: 0.5 }, { w: w2a, s: ea, g: g2a, alpha: 0.01 });
    two.spikeOuterPair({ w: w1b, s: s1b, g: g1b, alpha: 0.5 }, { w: w2b, s: eb, g: g2b, alpha: 0.01 });
    same(w1a, w1b);
    same(w2a, w2b);
    expect(pairs()).toBe(before + 2);
    // the same weight tensor twice: one update after the other
    const [wa, wb] = both([K2, N2], randn(K2 * N2));
    one.spikeOuter(wa, s2a, g2a, 0.1);
    one.spikeOuter(wa, s2a, g2a, 0.2);
    two.spikeOuterPair({ w: wb, s: s2b, g: g2b, alpha: 0.1 }, { w: wb, s: s2b, g: g2b, alpha: 0.2 });
    same(wa, wb);
    expect(pairs()).toBe(before + 2);
  });

  it('spikeMatmul and spikeOuter at a width that takes the padded copy (N = 1024): split copy, same numbers', () => {
    const pads = two.threadStats().get('padRows')?.calls ?? 0;
    spikeKernelsAgree(70, 200, 1024, 0.15); // both copies (W 200 rows, g 70 rows) above the elementwise threshold
    expect(two.threadStats().get('padRows')?.calls).toBe(pads + 2);
  });

  it('narrow outputs (a readout, N ≤ 16): spikeMatmul splits by batch rows, spikeOuter by weight rows', () => {
    // mnist-lif's readout: 138 rows of 1000 hidden units, 10 classes; spikes for the forward pass,
    // a trace-like operand (real values on the first 128 rows) for the update
    const [B, K, N] = [138, 1000, 10];
    expect(B * K).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.narrowWork);
    const S = new Float32Array(B * K).map(() => (rng.uniform() < 0.12 ? 1 : 0));
    const E = new Float32Array(B * K).map((_, i) => (rng.uniform() < 0.3 ? (i < 128 * K ? rng.uniform() : 1) : 0));
    const [s1, s2] = both([B, K], S), [e1, e2] = both([B, K], E);
    const [w1, w2] = both([K, N], randn(K * N));
    const [g1, g2] = both([B, N], randn(B * N));
    const calls = (op: ThreadedOp) => two.threadStats().get(op)?.calls ?? 0;
    const fwd = calls('spikeMatmulNarrow'), upd = calls('spikeOuterNarrow');
    for (const beta of [0, 0.9]) {
      const [o1, o2] = both([B, N], randn(B * N));
      one.spikeMatmul(o1, s1, w1, beta);
      two.spikeMatmul(o2, s2, w2, beta);
      same(o1, o2);
    }
    one.spikeOuter(w1, e1, g1, -0.02);
    two.spikeOuter(w2, e2, g2, -0.02);
    same(w1, w2);
    expect(calls('spikeMatmulNarrow')).toBe(fwd + 2);
    expect(calls('spikeOuterNarrow')).toBe(upd + 1);
  });

  it('rateSpikes splits by rows and jumps the generator: the spikes and the final state of one thread (and of reference)', async () => {
    const { ReferenceBackend } = await import('../src/backend/reference.js');
    const ref = new ReferenceBackend();
    // mnist-lif's input: 128 image rows (~19% non-zero, some negative: no draw) and 10 dense target rows
    const [B, K] = [138, 784];
    expect(B * K).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.elements);
    const P = new Float32Array(B * K).map((_, i) => (i >= 128 * K ? rng.uniform() : rng.uniform() < 0.19 ? rng.uniform() : rng.uniform() < 0.01 ? -0.3 : 0));
    const [p1, p2] = both([B, K], P);
    const [o1, o2] = both([B, K], new Float32Array(B * K).fill(5));
    const pr = ref.fromArray([B, K], P), or = ref.tensor([B, K]);
    const before = two.threadStats().get('rateSpikes')?.calls ?? 0;
    for (const seed of [3, 4]) {
      const r1 = new Rng(seed), r2 = new Rng(seed), r3 = new Rng(seed);
      for (let rep = 0; rep < 2; rep++) {
        one.rateSpikes(o1, p1, r1);
        two.rateSpikes(o2, p2, r2);
        ref.rateSpikes(or, pr, r3);
        same(o1, o2);
        expect(Array.from(two.read(o2))).toEqual(Array.from(or.data));
      }
      expect(r2.getState()).toEqual(r1.getState());
      expect(r2.getState()).toEqual(r3.getState());
    }
    expect(two.threadStats().get('rateSpikes')?.calls).toBe(before + 4);
  });

  it('rateSpikes keeps the generator state in wasm memory from call to call (Rng.lend): host draws, setState, another backend and dispose in between see one stream', async () => {
    const { ReferenceBackend } = await import('../src/backend/reference.js');
    const ref = new ReferenceBackend();
    const [B, K] = [138, 784];
    const P = new Float32Array(B * K).map(() => (rng.uniform() < 0.3 ? rng.uniform() : 0));
    const [p1, p2] = both([B, K], P);
    const [o1, o2] = both([B, K], new Float32Array(B * K));
    const pr = ref.fromArray([B, K], P), or = ref.tensor([B, K]);
    const r1 = new Rng(11), r2 = new Rng(11), r3 = new Rng(11);
    const draw = () => {
      one.rateSpikes(o1, p1, r1);
      two.rateSpikes(o2, p2, r2);
      ref.rateSpikes(or, pr, r3);
      same(o1, o2);
      expect(Array.from(two.read(o2))).toEqual(Array.from(or.data));
    };
    draw();
    draw(); // from the state the last call left in wasm memory
    // a host draw takes the state back; the next call starts from the state after it
    const u = r3.uniform();
    expect([r1.uniform(), r2.uniform()]).toEqual([u, u]);
    draw();
    // setState replaces the state a backend holds
    for (const r of [r1, r2, r3]) r.setState(new Rng(99).getState());
    draw();
    // a backend that draws from a generator another backend holds takes the state from it
    two.rateSpikes(o2, p2, r2);
    ref.rateSpikes(or, pr, r3);
    one.rateSpikes(o1, p1, r2);
    ref.rateSpikes(or, pr, r3);
    expect(Array.from(one.read(o1))).toEqual(Array.from(or.data));
    expect(r2.getState()).toEqual(r3.getState());
    // a backend disposed while it holds the state: the generator goes on with the stream
    const three = (await createBackend('wasm', { threads: 2 })) as WasmBackend;
    three.rateSpikes(three.tensor([B, K]), three.fromArray([B, K], P), r2);
    ref.rateSpikes(or, pr, r3);
    await three.dispose();
    expect(r2.getState()).toEqual(r3.getState());
  });

  it('dropoutMask: the host draws of dropoutMask (Rng.fillDropMask) on every backend and thread count, ones on the other rows', async () => {
    const { ReferenceBackend } = await import('../src/backend/reference.js');
    const { dropoutMask } = await import('../src/learning/sigprop-common.js');
    const ref = new ReferenceBackend();
    for (const [R, N, rows, p] of [[138, 784, 128, 0.2], [138, 1000, 138, 0.5], [7, 13, 5, 0.3], [4, 9, 0, 0.1]]) {
      const want = new Float32Array(R * N).fill(1);
      const host = new Rng(R + N);
      const m = dropoutMask(host, rows, N, p);
      if (m && rows > 0) want.set(m);
      const rngs = [new Rng(R + N), new Rng(R + N), new Rng(R + N)];
      const outs = [one.tensor([R, N]), two.tensor([R, N]), ref.tensor([R, N])];
      one.dropoutMask(outs[0], rows, p, rngs[0]);
      two.dropoutMask(outs[1], rows, p, rngs[1]);
      ref.dropoutMask(outs[2], rows, p, rngs[2]);
      expect(Array.from(one.read(outs[0]))).toEqual(Array.from(want));
      same(outs[0], outs[1]);
      expect(Array.from(outs[2].data)).toEqual(Array.from(want));
      const after = rows > 0 ? host.getState() : new Rng(R + N).getState();
      for (const r of rngs) expect(r.getState()).toEqual(after);
    }
    expect(two.threadStats().get('dropMask')?.calls).toBeGreaterThanOrEqual(2);
    expect(() => one.dropoutMask(one.tensor([2, 3]), 3, 0.2, new Rng(1))).toThrow(/rows/);
  });

  it('spikeMatmul splits by batch rows: each thread builds its rows\' lists (binary, one-value and mixed rows; beta)', () => {
    // 138 rows as sigprop's layer 0: 128 input rows of dropout-scaled spikes (one value), 5 binary
    // rows, 5 rows of mixed values; dense rows stay sparse-classified below 40% non-zero
    const [B, K, N] = [138, 784, 1000];
    const S = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        if (rng.uniform() >= 0.12) continue;
        S[b * K + k] = b < 128 ? 1.25 : b < 133 ? 1 : rng.uniform() + 0.1;
      }
    }
    const [s1, s2] = both([B, K], S);
    const [w1, w2] = both([K, N], randn(K * N));
    const O = randn(B * N);
    for (const beta of [0, 0.9]) {
      const [o1, o2] = both([B, N], O);
      const before = two.threadStats().get('spikeMatmulRows')?.calls ?? 0;
      one.spikeMatmul(o1, s1, w1, beta);
      two.spikeMatmul(o2, s2, w2, beta);
      same(o1, o2);
      expect(two.threadStats().get('spikeMatmulRows')?.calls).toBe(before + 1);
    }
    expect(one.threadStats().size).toBe(0);
  });

  it('elementwise kernels, neuron steps and reductions on 200003 elements', () => {
    const n = 200003;
    expect(n).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.elements);
    const [u1, u2] = both([n], randn(n));
    const [j1, j2] = both([n], randn(n));
    const [s1, s2] = both([n], new Float32Array(n));
    const [i1, i2] = both([n], randn(n));
    const p = { beta: 0.95, threshold: 0.5, reset: 'subtract' as const, resetDelay: true, alpha: 0.8 };
    for (let t = 0; t < 3; t++) {
      one.lifStep(u1, s1, i1, p);
      two.lifStep(u2, s2, i2, p);
      one.synapticStep(u1, j1, s1, i1, p);
      two.synapticStep(u2, j2, s2, i2, p);
    }
    same(u1, u2);
    same(s1, s2);
    same(j1, j2);
    one.axpby(u1, i1, 0.5, 0.25);
    two.axpby(u2, i2, 0.5, 0.25);
    one.mul(j1, u1, i1);
    two.mul(j2, u2, i2);
    same(j1, j2);
    const sg = { name: 'fastSigmoid', params: { k: 25 }, f: (x: number) => (1 + (25 * x) / (1 + 25 * Math.abs(x))) / 25, df: (x: number) => 1 / (1 + 25 * Math.abs(x)) ** 2 };
    one.surrogate(j1, u1, 0.5, sg, true);
    two.surrogate(j2, u2, 0.5, sg, true);
    same(j1, j2);
    expect(two.sum(u2)).toBeCloseTo(one.sum(u1), 6);
    expect(two.sumSquares(u2)).toBeCloseTo(one.sumSquares(u1), 5);
    one.copy(s1, u1);
    two.copy(s2, u2);
    same(s1, s2);
    one.fill(s1, 3);
    two.fill(s2, 3);
    same(s1, s2);
  });

  it('softmaxCrossEntropy splits by rows: the same loss (row terms added in row order) and gradient as one thread, and the reference\'s', async () => {
    const R = 138, C = 10;
    expect(R * C).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.softmaxElements);
    const ref = await createBackend('reference');
    const rng = new Rng(8);
    const P = new Float32Array(R * C);
    for (let i = 0; i < R; i++) P[i * C + Math.floor(rng.uniform() * C)] = 1;
    const y = randn(R * C);
    const calls = two.threadStats().get('softmaxCERange')?.calls ?? 0;
    const run = (be: Backend) => {
      const loss = be.fromArray([1], [0.25]), dy = be.tensor([R, C]);
      be.softmaxCrossEntropy(loss, dy, be.fromArray([R, C], y), be.fromArray([R, C], P), { lossDivisor: 3, gradScale: 2, gradDivisor: 5 });
      return { loss: be.read(loss)[0], dy: [...be.read(dy)] };
    };
    const a = run(one), b = run(two), c = run(ref);
    expect(two.threadStats().get('softmaxCERange')?.calls).toBe(calls + 1);
    expect(b).toEqual(a);
    expect(a.loss).toBeCloseTo(c.loss, 5);
    for (let i = 0; i < R * C; i++) expect(a.dy[i]).toBeCloseTo(c.dy[i], 6);
    // by hand: Σ over rows of −log softmax(y)[label], / 3, plus the 0.25 the loss held
    let rowTerms = 0;
    for (let i = 0; i < R; i++) {
      let mx = -Infinity, z = 0;
      for (let j = 0; j < C; j++) mx = Math.max(mx, y[i * C + j]);
      for (let j = 0; j < C; j++) z += Math.exp(y[i * C + j] - mx);
      for (let j = 0; j < C; j++) if (P[i * C + j] > 0) rowTerms -= y[i * C + j] - (mx + Math.log(z));
    }
    expect(a.loss).toBeCloseTo(0.25 + rowTerms / 3, 4);
  });

  it('workers see memory that grew after they started', () => {
    const before = two.heap.capacityBytes;
    const n = 6_000_000; // 24 MB: beyond the initial 16 MiB
    const [x1, x2] = both([n], randn(n));
    expect(two.heap.capacityBytes).toBeGreaterThan(before);
    const chunks = two.workerChunks;
    one.axpby(x1, x1, 2, 0.5);
    two.axpby(x2, x2, 2, 0.5);
    same(x1, x2);
    expect(two.sum(x2)).toBeCloseTo(one.sum(x1), 3);
    // On a busy machine the calling thread may take every chunk itself; over two large calls on
    // an unloaded machine the worker takes some. Either way the numbers above must agree.
    expect(two.workerChunks).toBeGreaterThanOrEqual(chunks);
    one.free(x1);
    two.free(x2);
  });

  it('the calls above really ran on the worker (threads = 1 never dispatches)', () => {
    expect(two.parallelCalls).toBeGreaterThanOrEqual(20);
    expect(one.parallelCalls).toBe(0);
  });

  it('timeKernels: each kernel\'s milliseconds on the calling thread and on the worker; the same numbers with it on; nothing timed off', () => {
    const n = 4 * PARALLEL_THRESHOLDS.elements;
    const x = rng.fillNormal(new Float32Array(n)), y = rng.fillNormal(new Float32Array(n));
    const [x1, x2] = both([n], x), [y1, y2] = both([n], y);
    expect(two.kernelTimes().size).toBe(0); // off: nothing
    one.timeKernels = two.timeKernels = true;
    try {
      for (let i = 0; i < 40; i++) {
        one.axpby(x1, y1, 0.5, 1.25);
        two.axpby(x2, y2, 0.5, 1.25);
        one.mul(y1, y1, x1);
        two.mul(y2, y2, x2);
      }
      same(x1, x2);
      same(y1, y2);
      const t1 = one.kernelTimes(), t2 = two.kernelTimes();
      // one thread: every call on the calling thread, counted and timed
      expect(t1.get('axpby')).toMatchObject({ localCalls: 40, workerMs: 0 });
      expect(t1.get('axpby')!.callerMs).toBeGreaterThan(0);
      // two threads: split calls, the worker's chunks timed on the worker
      for (const op of ['axpby', 'mul']) {
        const t = t2.get(op)!;
        expect(t.localCalls).toBe(0);
        expect(t.callerMs).toBeGreaterThan(0);
        expect(t.workerMs).toBeGreaterThan(0);
      }
      expect(two.timeKernels).toBe(true);
    } finally {
      one.timeKernels = two.timeKernels = false;
    }
    expect(two.kernelTimes().size).toBe(0);
    two.axpby(x2, y2, 0.5, 1.25);
    one.timeKernels = two.timeKernels = true; // on again: the times start from zero
    expect(two.kernelTimes().get('axpby')).toBeUndefined();
    one.timeKernels = two.timeKernels = false;
  });

  it('a small kernel goes to the worker as one chunk the caller does not wait for; what reads its output waits', () => {
    const x = rng.fillNormal(new Float32Array(10 * 1000)), y = rng.fillNormal(new Float32Array(10 * 1000));
    expect(x.length).toBeLessThan(PARALLEL_THRESHOLDS.elements);
    const [x1, x2] = both([10, 1000], x), [y1, y2] = both([10, 1000], y);
    const before = two.handedOffCalls, split = two.parallelCalls;
    for (let i = 0; i < 5; i++) {
      one.axpby(x1, y1, 0.5, 1.25);
      two.axpby(x2, y2, 0.5, 1.25);
    }
    expect(two.handedOffCalls - before).toBe(5);
    expect(two.parallelCalls).toBe(split); // one chunk each: not split
    expect(one.handedOffCalls).toBe(0);
    same(x1, x2); // read() settles the last one
    expect(Array.from(two.read(x2).subarray(0, 3))).toEqual(Array.from(one.read(x1).subarray(0, 3)));
  });

  it('addRow and sumRows', () => {
    const [B, N] = [257, 700];
    const [x1, x2] = both([B, N], randn(B * N));
    const [v1, v2] = both([N], randn(N));
    one.addRow(x1, v1);
    two.addRow(x2, v2);
    same(x1, x2);
    const [o1, o2] = both([N], randn(N));
    one.sumRows(o1, x1, 0.5, 1);
    two.sumRows(o2, x2, 0.5, 1);
    same(o1, o2);
  });

  it('row normalisation and its backward split by rows ([138, 1000], the second stream from row 128)', () => {
    const [R, N, nh] = [138, 1000, 128];
    expect(nh * N).toBeGreaterThanOrEqual(PARALLEL_THRESHOLDS.rowElements);
    const [x1, x2] = both([R, N], randn(R * N));
    const [d1, d2] = both([nh, N], randn(nh * N));
    const [g1, g2] = both([R, N], randn(R * N));
    const calls = two.parallelCalls;
    for (const [row0, rows] of [[0, nh], [nh, R - nh]]) {
      const [o1, o2] = both([rows, N], new Float32Array(rows * N));
      const [n1, n2] = both([rows], new Float32Array(rows));
      one.normalizeRows(o1, n1, x1, row0, true, 1e-8);
      two.normalizeRows(o2, n2, x2, row0, true, 1e-8);
      same(o1, o2);
      same(n1, n2);
      const dh1 = rows === nh ? d1 : one.fromArray([rows, N], randn(rows * N).fill(0.5));
      const dh2 = rows === nh ? d2 : two.fromArray([rows, N], one.read(dh1));
      one.normalizeRowsBackward(g1, x1, row0, dh1, n1, true);
      two.normalizeRowsBackward(g2, x2, row0, dh2, n2, true);
      same(g1, g2);
    }
    expect(two.parallelCalls - calls).toBe(2); // the 128-row calls split; the 10-row ones stay on the caller
  });
});

describe('similarity loss: fused kernels equal the unfused calls bit for bit', () => {
  const rng = new Rng(31);
  const randn = (n: number) => rng.fillNormal(new Float32Array(n));
  // mnist-lif's shapes: 128 input rows and 10 target rows of 1000; and a small odd width (tails)
  for (const [nh, nt, n] of [[128, 10, 1000], [9, 3, 37]]) {
    for (const normalize of [true, false]) {
      it(`logits and first-stream gradient, ${nh}+${nt} rows of ${n}, normalize ${normalize}, one and two threads`, () => {
        const R = randn((nh + nt) * n).map((v) => Math.max(0, v)), T = randn(nt * n), DY = randn(nh * nt);
        for (const be of [one, two]) {
          expect(be.fusesSimilarity(nt, n)).toBe(true);
          const r = be.fromArray([nh + nt, n], R), tHat = be.fromArray([nt, n], T), dy = be.fromArray([nh, nt], DY);
          const h1 = be.tensor([nh, n]), n1 = be.tensor([nh]), y1 = be.tensor([nh, nt]);
          be.normalizeRows(h1, n1, r, 0, normalize, 1e-6);
          be.matmul(y1, h1, tHat, { transB: true, alpha: 20 });
          const h2 = be.tensor([nh, n]), n2 = be.tensor([nh]), y2 = be.tensor([nh, nt]);
          be.similarityLogits(y2, h2, n2, r, tHat, 20, normalize, 1e-6);
          for (const [a, b] of [[h1, h2], [n1, n2], [y1, y2]]) expect(Array.from(be.read(b))).toEqual(Array.from(be.read(a)));
          const dh = be.tensor([nh, n]), g1 = be.fromArray([nh + nt, n], R), g2 = be.fromArray([nh + nt, n], R);
          be.spikeMatmul(dh, dy, tHat);
          be.normalizeRowsBackward(g1, r, 0, dh, n1, normalize);
          be.similarityBackward(g2, r, dy, tHat, n2, normalize);
          expect(Array.from(be.read(g2))).toEqual(Array.from(be.read(g1))); // the target rows untouched in both
        }
      });
    }
  }

  it('similarityCE (src/learning/losses.ts) with and without the fused kernels: the same loss and gradient', async () => {
    const { similarityCE, sameClassTargets } = await import('../src/learning/losses.js');
    const { Scratch } = await import('../src/learning/scratch.js');
    const [nh, nt, n] = [128, 10, 1000];
    const R = randn((nh + nt) * n).map((v) => Math.max(0, v));
    const labels = Int32Array.from({ length: nh }, (_, i) => i % nt), tl = Int32Array.from({ length: nt }, (_, c) => c);
    const run = (be: Backend) => {
      const sc = new Scratch(be);
      const r = be.fromArray([nh + nt, n], R), g = be.tensor([nh + nt, n]), loss = be.tensor([1]);
      similarityCE(be, sc, r, nh, sameClassTargets(sc, labels, tl), g, { temperature: 0.05, normalize: true }, loss);
      return [be.read(loss), be.read(g)].map((x) => Array.from(x));
    };
    // both count their transposes: the fused path reads dY transposed in its GEMM (dYᵀ·ĥ), the other transposes it
    let transposes = 0;
    const transpose = { value: (out: Tensor, x: Tensor) => (transposes++, two.transpose(out, x)) };
    const fused = Object.create(two, { transpose }) as Backend;
    const unfused = Object.create(two, { fusesSimilarity: { value: () => false }, transpose }) as Backend;
    const calls = two.threadStats().get('simBackwardRange')?.calls ?? 0;
    const a = run(fused);
    expect(transposes).toBe(0);
    const b = run(unfused);
    expect(transposes).toBe(1);
    expect(two.threadStats().get('simBackwardRange')?.calls).toBe(calls + 1); // the fused path ran (split)
    expect(a).toEqual(b);
    expect(run(one)).toEqual(b);
  });
});

/** A 2-thread pool over a fresh shared memory of 32 pages (2 MiB), with the caller's kernel instance. */
async function startPool() {
  const { loadKernelModule, instantiateKernels } = await import('../src/backend/wasm/module.js');
  const { ThreadPool } = await import('../src/backend/wasm/threads.js');
  const module = await loadKernelModule();
  const memory = new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true });
  return { memory, k: instantiateKernels(module, memory), pool: await ThreadPool.start(2, module, memory) };
}

describe('ThreadPool chunk claiming', () => {
  it('a slow calling thread leaves chunks to the worker; every chunk runs exactly once', async () => {
    const { memory, k, pool } = await startPool();
    try {
      const base = 1 << 20, n = 4096;
      const view = new Float32Array(memory.buffer, base, n);
      view.fill(1);
      const cuts = Array.from({ length: 17 }, (_, i) => (i * n) / 16);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      // sum over 16 chunks; the caller sleeps 10 ms before each chunk it takes
      const total = pool.run('sum', [base, 0, 0], (...a: number[]) => {
        Atomics.wait(nap, 0, 0, 10);
        return k.sum(a[0], a[1], a[2]);
      }, { lo: 1, hi: 2, cuts });
      expect(total).toBe(n);
      expect(pool.workerChunks).toBeGreaterThan(0);
      expect(pool.workerChunks).toBeLessThanOrEqual(16);
    } finally {
      await pool.close();
    }
  });

  it('scratchAt: each thread gets its own pointer at that argument position, the others the same list', async () => {
    const { memory, k, pool } = await startPool();
    try {
      // fill(x, value, lo, hi) with x the scratch position: each thread fills its chunks of its own buffer
      const n = 4096, bufs = [1 << 20, (1 << 20) + 4 * n];
      const views = bufs.map((b) => new Float32Array(memory.buffer, b, n));
      const cuts = Array.from({ length: 17 }, (_, i) => (i * n) / 16);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      const calls: number[] = [];
      // a spinning worker can run all 16 tiny chunks before the calling thread claims its first:
      // again (at most 10 times) until both threads ran chunks, every attempt checked
      for (let attempt = 0; attempt < 10 && (calls.length === 0 || calls.length === 16); attempt++) {
        views.forEach((v) => v.fill(0));
        calls.length = 0;
        const w0 = pool.workerChunks;
        pool.run('fill', [0, 3, 0, 0], (...a: number[]) => {
          calls.push(a[0]);
          Atomics.wait(nap, 0, 0, 5);
          k.fill(a[0], a[1], a[2], a[3]);
        }, { lo: 2, hi: 3, cuts, scratchAt: 0, scratch: bufs });
        for (let i = 0; i < n; i++) expect(views[0][i] + views[1][i]).toBe(3); // every element in exactly one of the two
        expect(views[1].filter((v) => v === 3).length).toBe((pool.workerChunks - w0) * (n / 16));
        expect(calls.length + pool.workerChunks - w0).toBe(16);
      }
      expect(new Set(calls)).toEqual(new Set([bufs[0]]));
      expect(calls.length).toBeLessThan(16); // the worker ran chunks too, with its own pointer (bufs[1], counted above)
      expect(() => pool.run('fill', [0, 3, 0, 0], k.fill, { lo: 2, hi: 3, cuts, scratchAt: 0, scratch: [bufs[0]] })).toThrow(/2 scratch pointers/);
    } finally {
      await pool.close();
    }
  });
});

describe('ThreadPool guided claims', () => {
  it('a claim takes ⌈chunks left ÷ guide⌉ chunks as one range: guide 1 runs the call in one kernel call; guide 4 with a slow caller runs every chunk once', async () => {
    const { memory, k, pool } = await startPool();
    try {
      pool.workerSpinUs = 1e5;
      const n = 1 << 16, pb = 1 << 20, chunk = n / 64;
      const view = new Float32Array(memory.buffer, pb, n);
      const cuts = Array.from({ length: 65 }, (_, i) => i * chunk);
      const ranges: [number, number][] = [];
      const nap = new Int32Array(new SharedArrayBuffer(4));
      let napMs = 0;
      const local = (...a: number[]) => {
        if (napMs) Atomics.wait(nap, 0, 0, napMs);
        ranges.push([a[2], a[3]]);
        k.fill(a[0], a[1], a[2], a[3]);
      };
      let value = 0;
      const call = (guide: number, lazy: boolean) => {
        ranges.length = 0;
        value++;
        const w0 = pool.workerChunks;
        expect(pool.run('fill', [pb, value, 0, 0], local, { lo: 2, hi: 3, cuts, guide }, lazy)).toBe(0);
        pool.settle();
        expect(view.every((v) => v === value)).toBe(true);
        const mine = ranges.reduce((sum, [a, b]) => sum + (b - a) / chunk, 0);
        expect(mine + pool.workerChunks - w0).toBe(64); // every chunk ran once, here or on the worker
        return { mine, worker: pool.workerChunks - w0 };
      };
      for (const lazy of [false, true]) {
        // guide 1: the first claim takes every chunk
        const { mine, worker } = call(1, lazy);
        if (mine > 0) expect(ranges).toEqual([[0, n]]);
        else expect(worker).toBe(64);
        // guide 4, the caller napping 2 ms in each of its calls: the worker claims the rest from the back
        napMs = 2;
        const r = call(4, lazy);
        napMs = 0;
        let front = 0;
        for (const [a, b] of ranges) {
          expect(a).toBe(front); // the caller's ranges: contiguous from the front, whole chunks
          expect((b - a) % chunk).toBe(0);
          expect((b - a) / chunk).toBeLessThanOrEqual(Math.ceil((64 - a / chunk) / 4));
          front = b;
        }
        expect(r.worker).toBeGreaterThan(0);
        expect(ranges.length).toBeLessThan(64);
      }
    } finally {
      await pool.close();
    }
  });
});

describe('ThreadPool wake-ups', () => {
  it('a worker that sleeps between calls (no spin) is woken by every call; a caller that sleeps waiting for a long chunk is woken by its end', async () => {
    const { memory, k, pool } = await startPool();
    try {
      pool.workerSpinUs = 0;
      const base = 1 << 20, n = 4096;
      new Float32Array(memory.buffer, base, n).fill(1);
      const cuts = Array.from({ length: 9 }, (_, i) => (i * n) / 8);
      const before = pool.workerChunks;
      let nap = 0;
      for (let i = 0; i < 200; i++) {
        // the caller naps now and then, so the sleeping worker gets to take chunks
        const total = pool.run('sum', [base, 0, 0], (...a: number[]) => {
          if (++nap % 16 === 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
          return k.sum(a[0], a[1], a[2]);
        }, { lo: 1, hi: 2, cuts });
        expect(total).toBe(n);
      }
      expect(pool.workerChunks).toBeGreaterThan(before);
      // one long chunk at the back (taken by the worker, or by the caller when the worker is late):
      // the caller's tiny front chunks end long before it, so it waits past its spin and sleeps
      pool.workerSpinUs = 500;
      const big = 1 << 24, pb = 8 << 20;
      memory.grow(Math.ceil((pb + big * 4 - memory.buffer.byteLength) / 65536) + 1);
      new Float32Array(memory.buffer, pb, big).fill(1);
      const longCuts = [0, 1, 2, 3, big];
      for (let i = 0; i < 3; i++) expect(pool.run('sum', [pb, 0, 0], k.sum, { lo: 1, hi: 2, cuts: longCuts })).toBe(big);
    } finally {
      await pool.close();
    }
  });
});

describe('ThreadPool lazy calls', () => {
  it('return while the worker runs its chunk; settle(), the next call and a failure in the worker come after it; a failure on the calling thread waits for the worker', async () => {
    const { memory, k, pool } = await startPool();
    try {
      pool.workerSpinUs = 1e6;
      const n = 1 << 25, pb = 8 << 20;
      memory.grow(Math.ceil((pb + n * 4 - memory.buffer.byteLength) / 65536) + 1);
      const view = new Float32Array(memory.buffer, pb, n);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      // the caller naps 5 ms before its one tiny chunk, so the spinning worker takes the 128 MB one
      // first (unless the OS keeps it off the CPU that long: then the caller takes both)
      const local = (...a: number[]) => {
        Atomics.wait(nap, 0, 0, 5);
        k.fill(a[0], a[1], a[2], a[3]);
      };
      let early = 0;
      for (let attempt = 1; attempt <= 10; attempt++) {
        const before = pool.workerChunks;
        expect(pool.run('fill', [pb, attempt, 0, 0], local, { lo: 2, hi: 3, cuts: [0, 16, n] }, true)).toBe(0);
        if (!pool.settled) early++;
        pool.settle();
        expect(pool.settled).toBe(true);
        expect(pool.workerChunks - before).toBeLessThanOrEqual(1);
        expect([view[0], view[16], view[n >> 1], view[n - 1]]).toEqual([attempt, attempt, attempt, attempt]);
      }
      // the worker's 128 MB fill takes milliseconds: a lazy call came back before it at least once
      expect(early).toBeGreaterThan(0);
      // the next call settles the pending one before it publishes: a sum sees the whole fill
      pool.run('fill', [pb, 7, 0, 0], local, { lo: 2, hi: 3, cuts: [0, 16, n] }, true);
      expect(pool.run('sum', [pb, 0, 0], k.sum, { lo: 1, hi: 2, cuts: [0, n >> 1, n] })).toBe(7 * n);
      // a chunk that traps in the worker (out of bounds): reported by settle(), not lost
      const past = memory.buffer.byteLength;
      const bad = () => {
        pool.run('fill', [past - 64, 1, 0, 0], local, { lo: 2, hi: 3, cuts: [0, 16, 1 << 20] }, true);
        pool.settle();
      };
      expect(bad).toThrow(/fail|out of bounds/);
      // a chunk that fails on the calling thread: that error is thrown once the worker's chunk is done,
      // by run() where the caller claims its chunks before it returns, by settle() where the call is
      // deferred (the caller's chunks run at the next settle)
      const failing = (...a: number[]) => {
        Atomics.wait(nap, 0, 0, 1); // long enough for the spinning worker to take the 128 MB chunk, not to finish it
        if (a[2] === 0) throw new Error('the front chunk failed');
        k.fill(a[0], a[1], a[2], a[3]);
      };
      for (const defer of [false, true]) {
        pool.deferLazy = defer;
        const before = pool.workerChunks;
        view[16] = 0;
        const call = () => pool.run('fill', [pb, 9, 0, 0], failing, { lo: 2, hi: 3, cuts: [0, 16, n] }, true);
        if (defer) {
          expect(call()).toBe(0);
          expect(pool.settled).toBe(false);
          expect(() => pool.settle()).toThrow('the front chunk failed');
        } else expect(call).toThrow('the front chunk failed');
        expect(pool.settled).toBe(true);
        // where the worker had started its chunk (it fills from the front), the chunk was complete when the error came
        if (view[16] === 9) expect(view[n - 1]).toBe(9);
        else expect(pool.workerChunks).toBe(before); // the worker was late: the caller took its chunk without running it
      }
      expect(pool.run('sum', [pb, 0, 0], k.sum, { lo: 1, hi: 2, cuts: [0, 8, 16] })).toBe(16 * view[0]);
    } finally {
      await pool.close().catch(() => undefined);
    }
  });
});

describe('ThreadPool kernel calls', () => {
  it('pass KERNEL_ARGS arguments: at least every split kernel\'s arity (the rest are ignored)', async () => {
    const { KERNEL_ARGS, THREADED_OPS, loadKernelModule, instantiateKernels } = await import('../src/backend/wasm/module.js');
    const k = instantiateKernels(await loadKernelModule(), new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: true }));
    for (const op of THREADED_OPS) expect((k[op] as (...a: number[]) => unknown).length, op).toBeLessThanOrEqual(KERNEL_ARGS);
  });
});

describe('ThreadPool deferred calls', () => {
  it('a lazy call returns before the caller runs a chunk; the worker starts on it; settle() runs what is left on the caller', async () => {
    const { memory, k, pool } = await startPool();
    try {
      pool.workerSpinUs = 1e6;
      expect(pool.deferLazy).toBe(true);
      const n = 1 << 22, pb = 8 << 20;
      memory.grow(Math.ceil((pb + n * 4 - memory.buffer.byteLength) / 65536) + 1);
      const view = new Float32Array(memory.buffer, pb, n);
      const cuts = Array.from({ length: 9 }, (_, i) => (i * n) / 8);
      let mine = 0;
      const local = (...a: number[]) => {
        mine++;
        k.fill(a[0], a[1], a[2], a[3]);
      };
      for (let attempt = 1; attempt <= 5; attempt++) {
        mine = 0;
        const w0 = pool.workerChunks;
        expect(pool.run('fill', [pb, attempt, 0, 0], local, { lo: 2, hi: 3, cuts }, true)).toBe(0);
        expect(mine).toBe(0);
        expect(pool.settled).toBe(false);
        pool.settle();
        expect(pool.settled).toBe(true);
        expect(mine + pool.workerChunks - w0).toBe(8); // every chunk ran once, on one thread or the other
        expect([view[0], view[n / 2], view[n - 1]]).toEqual([attempt, attempt, attempt]);
      }
      // not deferred: the caller claims chunks before run() returns
      pool.deferLazy = false;
      mine = 0;
      pool.run('fill', [pb, 9, 0, 0], local, { lo: 2, hi: 3, cuts }, true);
      expect(mine).toBeGreaterThan(0);
      pool.settle();
      expect(view[n - 1]).toBe(9);
    } finally {
      await pool.close();
    }
  });
});

describe('ThreadPool calls in flight', () => {
  it('run in the order published: a chain of lazy calls, each reading elements other chunks of the one before wrote, equals the chain run one after another (lag 1-6, more calls than slots, a napping caller)', async () => {
    const { memory, k, pool } = await startPool();
    try {
      const n = 1 << 14, shift = 1000, px = 1 << 20, py = px + 4 * n;
      const X = new Float32Array(memory.buffer, px, n), Y = new Float32Array(memory.buffer, py, n);
      const nap = new Int32Array(new SharedArrayBuffer(4));
      let chunk = 0;
      const napping = (fn: (...a: number[]) => void) => (...a: number[]) => {
        if (++chunk % 7 === 0) Atomics.wait(nap, 0, 0, 1);
        fn(...a);
      };
      const axpby = napping(k.axpby), copy = napping(k.copy);
      const cuts = (m: number, pieces: number) => Array.from({ length: pieces + 1 }, (_, i) => Math.round((i * m) / pieces));
      for (const lag of [1, 2, 6]) {
        pool.lag = lag;
        for (let i = 0; i < n; i++) {
          X[i] = i % 7;
          Y[i] = 1;
        }
        const hx = Float32Array.from(X), hy = Float32Array.from(Y);
        for (let j = 0; j < 40; j++) {
          if (j % 2 === 0) {
            // Y = a·X + b·Y, guided on even calls of four
            const a = 0.5 + (j % 3) * 0.25, b = 0.25;
            pool.run('axpby', [py, px, a, b, 0, 0], axpby, j % 4 === 0 ? { lo: 4, hi: 5, cuts: cuts(n, 64), guide: 4 } : { lo: 4, hi: 5, cuts: cuts(n, 16) }, true);
            for (let i = 0; i < n; i++) hy[i] = Math.fround(Math.fround(a * hx[i]) + Math.fround(b * hy[i]));
          } else {
            // X[i] = Y[i + shift]: each chunk reads what other chunks of the call before wrote
            pool.run('copy', [px, py + 4 * shift, 0, 0], copy, { lo: 2, hi: 3, cuts: cuts(n - shift, 16) }, true);
            for (let i = 0; i < n - shift; i++) hx[i] = hy[i + shift];
          }
        }
        // a reduction returns once it and every call before it are complete
        const total = pool.run('sum', [py, 0, 0], k.sum, { lo: 1, hi: 2, cuts: cuts(n, 8) });
        expect(pool.settled).toBe(true);
        expect(Array.from(Y)).toEqual(Array.from(hy));
        expect(Array.from(X)).toEqual(Array.from(hx));
        expect(total).toBeCloseTo(hy.reduce((s, v) => s + v, 0), 0);
      }
    } finally {
      await pool.close();
    }
  });

  it('a lazy call leaves the `lag` newest calls to the workers: the caller runs chunks of older calls only', async () => {
    const { memory, k, pool } = await startPool();
    try {
      expect(pool.lag).toBe(1);
      expect(() => (pool.lag = 0)).toThrow(/lag/);
      expect(() => (pool.lag = 7)).toThrow(/lag/);
      const n = 1 << 12, pb = 1 << 20;
      const cuts = Array.from({ length: 9 }, (_, i) => (i * n) / 8);
      for (const lag of [1, 3]) {
        pool.lag = lag;
        let newest = 0;
        const local = (...a: number[]) => {
          newest = Math.max(newest, a[1]);
          k.fill(a[0], a[1], a[2], a[3]);
        };
        for (let j = 1; j <= 20; j++) {
          pool.run('fill', [pb, j, 0, 0], local, { lo: 2, hi: 3, cuts }, true);
          expect(newest).toBeLessThanOrEqual(Math.max(0, j - lag));
        }
        pool.settle();
        expect(new Float32Array(memory.buffer, pb, n).every((v) => v === 20)).toBe(true);
      }
    } finally {
      await pool.close();
    }
  });

  it('a failing chunk with later calls queued: the error comes from settle(), the later calls are dropped, the pool works afterwards', async () => {
    const { memory, k, pool } = await startPool();
    try {
      pool.lag = 4;
      const n = 4096, pb = 1 << 20, past = memory.buffer.byteLength;
      new Float32Array(memory.buffer, pb, n).fill(1);
      const cuts = Array.from({ length: 9 }, (_, i) => (i * n) / 8);
      pool.run('fill', [pb, 2, 0, 0], k.fill, { lo: 2, hi: 3, cuts }, true);
      // out of bounds: traps on whichever thread runs it
      pool.run('fill', [past - 64, 1, 0, 0], k.fill, { lo: 2, hi: 3, cuts: [0, 16, 1 << 20] }, true);
      pool.run('fill', [pb, 3, 0, 0], k.fill, { lo: 2, hi: 3, cuts }, true);
      expect(() => pool.settle()).toThrow(/fail|out of bounds/);
      expect(pool.settled).toBe(true);
      expect(pool.run('sum', [pb, 0, 0], k.sum, { lo: 1, hi: 2, cuts })).toBeGreaterThan(0);
      pool.run('fill', [pb, 5, 0, 0], k.fill, { lo: 2, hi: 3, cuts }, true);
      expect(pool.run('sum', [pb, 0, 0], k.sum, { lo: 1, hi: 2, cuts })).toBe(5 * n);
    } finally {
      await pool.close().catch(() => undefined);
    }
  });
});

describe('ThreadPool idle workers', () => {
  it('sleep after their spin (microseconds, not milliseconds): a pool idle for 300 ms uses next to no CPU', async () => {
    const { memory, pool } = await startPool();
    try {
      expect(pool.workerSpinUs).toBe(500);
      const base = 1 << 20, n = 4096;
      new Float32Array(memory.buffer, base, n).fill(1);
      const cuts = Array.from({ length: 9 }, (_, i) => (i * n) / 8);
      // a burst of calls wakes the worker; then the process idles
      for (let i = 0; i < 20; i++) pool.run('fill', [base, 2, 0, 0], () => undefined, { lo: 2, hi: 3, cuts });
      const c0 = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 300));
      const c = process.cpuUsage(c0);
      // a worker that spun 500 ms after its last call (the old unit mix-up) burned ~300 ms here
      expect((c.user + c.system) / 1000).toBeLessThan(60);
    } finally {
      await pool.close();
    }
  });
});

describe('work splitting helpers', () => {
  /** Cuts [0, ..., n], strictly increasing, inner cuts multiples of `align`. */
  function expectCovering(c: number[], n: number, align = 1): void {
    expect(c[0]).toBe(0);
    expect(c[c.length - 1]).toBe(n);
    for (let i = 1; i < c.length; i++) expect(c[i]).toBeGreaterThan(c[i - 1]);
    for (let i = 1; i < c.length - 1; i++) expect(c[i] % align).toBe(0);
  }
  it('chunkCuts: aligned, increasing, covering [0, n)', async () => {
    const { chunkCuts } = await import('../src/backend/wasm/split.js');
    expect(chunkCuts(1000, 8, 32)).toEqual([0, 128, 256, 384, 512, 640, 736, 864, 1000]);
    expect(chunkCuts(10, 8, 8)).toEqual([0, 8, 10]);
    expect(chunkCuts(0, 4, 16)).toEqual([0, 0]);
    expect(chunkCuts(5, 1, 1)).toEqual([0, 5]);
    for (const [n, p, a] of [[131072, 8, 16], [77, 12, 4], [3, 8, 1]]) expectCovering(chunkCuts(n, p, a), n, a);
  });
  it('twoEndedCuts: aligned pieces that halve towards the middle from both ends, covering [0, n)', async () => {
    const { twoEndedCuts, twoEndedFractions } = await import('../src/backend/wasm/split.js');
    expect(twoEndedCuts(1000, 2, 1)).toEqual([0, 333, 500, 667, 1000]);
    const c = twoEndedCuts(138000, 4, 16);
    expect(c).toEqual([0, 36800, 55200, 64400, 69008, 73600, 82800, 101200, 138000]);
    const sizes = c.slice(1).map((e, i) => e - c[i]);
    for (let i = 1; i < 4; i++) expect(sizes[i]).toBeLessThan(sizes[i - 1]); // front half shrinks inward
    for (let i = 5; i < 8; i++) expect(sizes[i]).toBeGreaterThan(sizes[i - 1]); // back half grows outward
    expect(twoEndedCuts(0, 2, 16)).toEqual([0, 0]);
    for (const [n, k, a] of [[10, 4, 8], [3, 4, 1], [784, 4, 1]]) expectCovering(twoEndedCuts(n, k, a), n, a);
    expect(twoEndedFractions(3).map((f) => Math.round(f * 7 * 2))).toEqual([4, 6, 7, 8, 10]);
  });
  it('weightedCuts: pieces of about equal work, non-empty, covering [0, n)', async () => {
    const { equalFractions, weightedCuts } = await import('../src/backend/wasm/split.js');
    // equal rows: equal pieces
    expect(weightedCuts(new Array(8).fill(10), equalFractions(4), 0)).toEqual([0, 2, 4, 6, 8]);
    // sigprop's layer: 128 rows of ~90 active inputs, then 10 target rows of ~400: the last piece takes fewer rows
    const counts = [...new Array(128).fill(90), ...new Array(10).fill(400)];
    const c = weightedCuts(counts, equalFractions(4), 8);
    expectCovering(c, 138);
    const work = c.slice(1).map((e, i) => counts.slice(c[i], e).reduce((a, v) => a + v + 8, 0));
    const mean = work.reduce((a, v) => a + v, 0) / work.length;
    for (const w of work) expect(Math.abs(w - mean)).toBeLessThan(500); // within ~one row of the ideal
    expect(138 - c[c.length - 2]).toBeLessThan(138 / 4);
    // more pieces than rows, a row heavier than a piece, empty rows: every piece non-empty
    for (const [cs, p] of [[[5, 0, 0], 8], [[0, 1000, 0, 0, 0], 3], [[0, 0, 0, 0], 2]] as [number[], number][]) {
      expectCovering(weightedCuts(cs, equalFractions(p), 0), cs.length);
    }
  });
  it('densityRuns: dense runs need minRun rows; neighbours merge', async () => {
    const { densityRuns } = await import('../src/backend/wasm/split.js');
    const counts = [0, 0, 10, 10, 10, 10, 10, 0, 10, 10, 5, 3];
    expect(densityRuns(counts, 10, 0.4, 3)).toEqual([[0, 2, false], [2, 7, true], [7, 8, false], [8, 11, true], [11, 12, false]]);
    expect(densityRuns(counts, 10, 0.4, 6)).toEqual([[0, 12, false]]);
    expect(densityRuns([], 10, 0.4, 1)).toEqual([]);
  });
});

describe('threads: 0 (the config default)', () => {
  it('means one thread per core, at most AUTO_THREADS_MAX, and at least 1', async () => {
    const { autoThreads, AUTO_THREADS_MAX } = await import('../src/backend/wasm/backend.js');
    const { availableParallelism } = await import('node:os');
    expect(autoThreads()).toBe(Math.max(1, Math.min(AUTO_THREADS_MAX, availableParallelism())));
    const b = (await createBackend('wasm', { threads: 0 })) as WasmBackend;
    try {
      expect(b.threads).toBe(autoThreads());
    } finally {
      await b.dispose();
    }
  });
  it('is what a resolved config asks for when threads is not given', async () => {
    const { resolveConfig } = await import('../src/config/resolve.js');
    expect(resolveConfig({ dataset: 'xor', layers: [{ size: 4 }, { size: 2 }], rule: 'sigprop' }).threads).toBe(0);
  });
});
