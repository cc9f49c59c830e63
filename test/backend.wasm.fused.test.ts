// The optional fused neuron steps (lifStepFused / synapticStepFused): wasm equals its own separate
// kernels bit for bit, agrees with reference, and the generic fallback works on any backend.
import { describe, expect, it } from 'vitest';
import type { Backend, FusedStepOutputs, SurrogateKernelSpec } from '../src/backend/backend.js';
import { fusedStepFallback, gradTailFallback, ReferenceBackend, spikeMatmulDiffFallback } from '../src/backend/reference.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { ParameterError } from '../src/errors.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';
import { getSurrogate } from '../surrogates/registry.js';
import { withWasm } from './wasm.helpers.js';

const ref = new ReferenceBackend();
let wasm: WasmBackend;
withWasm((b) => (wasm = b));

const custom: SurrogateKernelSpec = { name: 'myTanh', params: {}, f: (x) => Math.tanh(x), df: (x) => 1 / Math.cosh(x) ** 2 };

interface State { u: Tensor; j: Tensor; s: Tensor; i: Tensor; f: Tensor; df: Tensor; e: Tensor; x: Tensor }

function state(b: Backend, rng: Rng, n: number, k: number): State {
  const r = new Rng(rng.int(1e9));
  const t = (m: number, fill: (i: number) => number) => b.fromArray([m], Float32Array.from({ length: m }, (_, i) => fill(i)));
  return {
    u: t(n, () => r.normal()), j: t(n, () => r.normal()), s: t(n, () => (r.uniform() < 0.3 ? 1 : 0)), i: t(n, () => r.normal()),
    f: t(n, () => 0), df: t(n, () => 0), e: t(k, () => r.uniform()), x: t(k, () => (r.uniform() < 0.2 ? 1 : 0)),
  };
}

function outputs(st: State, sg: SurrogateKernelSpec): FusedStepOutputs {
  return { sg, f: st.f, df: st.df, trace: { e: st.e, x: st.x, decay: 0.9 } };
}

const bits = (b: Backend, t: Tensor) => Array.from(b.read(t));

describe('fused neuron steps', () => {
  const specs = ['fastSigmoid', 'softSign:alpha=3', 'atan', 'sigmoid:k=4', 'triangular'].map((n) => getSurrogate(n));
  for (const sg of [...specs, custom]) {
    for (const reset of ['subtract', 'zero', 'none'] as const) {
      for (const synaptic of [false, true]) {
        // the membrane floor rides along on the subtract cases (random U ~ N(0, 1): about a fifth clamped)
        const vMin = reset === 'subtract' ? -0.8 : undefined;
        it(`${synaptic ? 'synaptic' : 'lif'} reset=${reset}${vMin === undefined ? '' : ` vMin=${vMin}`} surrogate=${sg.name}: fused = separate kernels (bitwise); ≈ reference`, () => {
          const p = { beta: 0.9, threshold: 0.7, reset, resetDelay: reset !== 'none', alpha: 0.5, vMin };
          const [n, k] = [1031, 37];
          const seed = new Rng(7);
          const a = state(wasm, new Rng(7), n, k), b = state(wasm, new Rng(7), n, k), c = state(ref, seed, n, k);
          for (let t = 0; t < 2; t++) {
            // fused on wasm
            if (synaptic) wasm.synapticStepFused(a.u, a.j, a.s, a.i, p, outputs(a, sg));
            else wasm.lifStepFused(a.u, a.s, a.i, p, outputs(a, sg));
            // separate kernels on wasm
            if (synaptic) wasm.synapticStep(b.u, b.j, b.s, b.i, p);
            else wasm.lifStep(b.u, b.s, b.i, p);
            wasm.surrogate(b.f, b.u, p.threshold, sg, false);
            wasm.surrogate(b.df, b.u, p.threshold, sg, true);
            wasm.axpby(b.e, b.x, 1, 0.9);
            for (const key of ['u', 'j', 's', 'f', 'df', 'e'] as const) expect(bits(wasm, a[key]), key).toEqual(bits(wasm, b[key]));
            // reference fused
            if (synaptic) ref.synapticStepFused(c.u, c.j, c.s, c.i, p, outputs(c, sg));
            else ref.lifStepFused(c.u, c.s, c.i, p, outputs(c, sg));
            const gu = wasm.read(a.u), gs = wasm.read(a.s), gdf = wasm.read(a.df), ge = wasm.read(a.e);
            for (let q = 0; q < n; q++) {
              if (gs[q] !== c.s.data[q]) continue; // a flip at threshold (float32 vs float64 rounding)
              expect(Math.abs(gu[q] - c.u.data[q])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(c.u.data[q])));
              expect(Math.abs(gdf[q] - c.df.data[q])).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(c.df.data[q])));
            }
            for (let q = 0; q < k; q++) expect(Math.abs(ge[q] - c.e.data[q])).toBeLessThanOrEqual(1e-6);
            // keep the three in lock-step
            for (const key of ['u', 's', 'j'] as const) {
              wasm.write(a[key], c[key].data);
              wasm.write(b[key], c[key].data);
            }
          }
        });
      }
    }
  }

  it('fusedStepFallback uses separate kernels on a backend without the fused method', () => {
    const plain: Backend = Object.create(ref, { lifStepFused: { value: undefined }, synapticStepFused: { value: undefined } });
    const sg = getSurrogate('fastSigmoid');
    const p = { beta: 0.8, threshold: 1, reset: 'subtract' as const, resetDelay: true, alpha: 0.6 };
    const x = state(ref, new Rng(3), 9, 4), y = state(ref, new Rng(3), 9, 4);
    fusedStepFallback(plain, x.u, x.s, x.i, p, outputs(x, sg), x.j);
    ref.synapticStepFused(y.u, y.j, y.s, y.i, p, outputs(y, sg));
    for (const key of ['u', 'j', 's', 'f', 'df', 'e'] as const) expect(Array.from(x[key].data)).toEqual(Array.from(y[key].data));
    fusedStepFallback(wasm, state(wasm, new Rng(4), 9, 4).u, wasm.tensor([9]), wasm.tensor([9]), p, {});
  });

  it('f / df without a surrogate is a ParameterError', () => {
    const st = state(wasm, new Rng(5), 5, 2);
    const p = { beta: 0.8, threshold: 1, reset: 'subtract' as const, resetDelay: true };
    expect(() => wasm.lifStepFused(st.u, st.s, st.i, p, { df: st.df })).toThrow(ParameterError);
    expect(() => ref.lifStepFused(st.u, st.s, st.i, p, { df: st.df } as FusedStepOutputs)).toThrow(ParameterError);
  });
});

describe('gradTail (fused tail of a spiking sigprop layer step)', () => {
  let two: WasmBackend;
  withWasm((b) => (two = b), 2);
  // odd sizes (scalar tails), the kept rows ending mid-vector, and a size above the threads' split threshold
  for (const [R, N, keep] of [[7, 13, 5], [138, 1000, 128], [300, 1001, 290], [4, 9, 4]] as const) {
    for (const withMask of [false, true]) {
      for (const withCount of [false, true]) {
        it(`[${R}, ${N}] keep ${keep} mask ${withMask} count ${withCount}: wasm (1 and 2 threads) = its separate kernels = reference, bitwise`, () => {
          const rng = new Rng(R * 31 + N + (withMask ? 1 : 0) + (withCount ? 2 : 0));
          const v = (f: () => number) => Float32Array.from({ length: R * N }, f);
          const g = v(() => rng.normal()), d = v(() => rng.uniform()), m = v(() => (rng.uniform() < 0.2 ? 0 : 1.25));
          const c = v(() => Math.floor(rng.uniform() * 5)), sp = v(() => (rng.uniform() < 0.15 ? 1 : 0));
          const run = (b: Backend, fused: boolean): Float32Array[] => {
            const t = (x: Float32Array) => b.fromArray([R, N], x);
            const tg = t(g), tc = t(c);
            const args = [tg, t(d), withMask ? t(m) : null, keep, withCount ? tc : null, withCount ? t(sp) : null] as const;
            if (fused) (b.gradTail as NonNullable<Backend['gradTail']>)(...args);
            else gradTailFallback(b, ...args);
            return [b.read(tg), b.read(tc)];
          };
          // bitwise (and fast on 300k values): the bytes of g and of the counts
          const bytes = (x: Float32Array[]) => x.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64'));
          const want = bytes(run(ref, true));
          expect(bytes(run(ref, false))).toEqual(want);
          for (const b of [wasm, two]) {
            expect(bytes(run(b, true))).toEqual(want);
            expect(bytes(run(b, false))).toEqual(want);
          }
        });
      }
    }
  }
});

describe('spikeMatmulDiff (an input propagated as its difference from a reference)', () => {
  let two: WasmBackend;
  withWasm((b) => (two = b), 2);
  // [B, K] → N: scalar tails and a shifted last panel; mnist-lif's first layer (138 rows above the
  // threads' split threshold, the last 10 rows real-valued rates); 20 dense rows (a GEMM run, whose
  // beta term base is copied into out first); a narrow output (the composition itself)
  const cases = [
    { B: 7, K: 13, N: 37, dense: 0 }, { B: 138, K: 784, N: 1000, dense: 10 }, { B: 40, K: 64, N: 48, dense: 20 }, { B: 9, K: 30, N: 10, dense: 0 },
  ];
  for (const { B, K, N, dense } of cases) {
    it(`[${B}, ${K}]·[${K}, ${N}], ${dense} dense rows: wasm (1 and 2 threads) = its separate kernels, bitwise; ≈ reference; d = x − r exactly`, () => {
      const rng = new Rng(B * 7 + K + N);
      const row = (b: number) => b >= B - dense;
      const x = Float32Array.from({ length: B * K }, (_, i) => (row(Math.floor(i / K)) ? (rng.uniform() < 0.6 ? 1 : 0) : rng.uniform() < 0.1 ? 1.25 : 0));
      const r = Float32Array.from({ length: B * K }, (_, i) => (row(Math.floor(i / K)) ? (rng.uniform() < 0.5 ? 1 : 0) : rng.uniform() < 0.05 ? 1 : 0));
      const w = Float32Array.from({ length: K * N }, () => rng.normal() * 0.1);
      const base = Float32Array.from({ length: B * N }, () => rng.normal());
      const run = (b: Backend, fused: boolean): Float32Array[] => {
        const out = b.fromArray([B, N], Float32Array.from({ length: B * N }, () => 99)), d = b.tensor([B, K]);
        const args = [out, d, b.fromArray([B, K], x), b.fromArray([B, K], r), b.fromArray([K, N], w), b.fromArray([B, N], base)] as const;
        if (fused) (b.spikeMatmulDiff as NonNullable<Backend['spikeMatmulDiff']>)(...args);
        else spikeMatmulDiffFallback(b, ...args);
        return [b.read(out), b.read(d)];
      };
      const bytes = (a: Float32Array[]) => a.map((v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));
      const want = bytes(run(wasm, false));
      for (const b of [wasm, two]) expect(bytes(run(b, true))).toEqual(want);
      expect(bytes(run(two, false))).toEqual(want);
      const [outRef, dRef] = run(ref, true);
      const [out, d] = run(wasm, true);
      expect(Array.from(d)).toEqual(Array.from(dRef));
      expect(Array.from(d)).toEqual(Array.from(x, (v, i) => Math.fround(v - r[i])));
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(out[i] - outRef[i]) / (1 + Math.abs(outRef[i])));
      expect(worst).toBeLessThan(1e-5);
    });
  }
  it('names the operand whose shape does not fit', () => {
    const t = (...s: number[]) => wasm.tensor(s);
    expect(() => wasm.spikeMatmulDiff(t(4, 10), t(4, 8), t(4, 8), t(4, 7), t(8, 10), t(4, 10))).toThrow(/spikeMatmulDiff: r/);
    expect(() => wasm.spikeMatmulDiff(t(4, 10), t(4, 8), t(4, 8), t(4, 8), t(8, 10), t(3, 10))).toThrow(/spikeMatmulDiff: base/);
    expect(() => wasm.spikeMatmulDiff(t(4, 10), t(4, 8), t(4, 8), t(4, 8), t(9, 10), t(4, 10))).toThrow(/spikeMatmulDiff: w/);
  });
});
