/**
 * Spiking sigprop's online update of layer 0 (voltage representation) against the exact gradient
 * of the SAME loss: the layer's per-step local loss, differentiated through time BPTT-style.
 *
 * The rule's window (SpikingSigprop.window, one batch, no weight change) is run once; the layer's
 * step and accumulateGrad are wrapped to record, per step, the state before the step (v, u / w),
 * the input current, the presynaptic input x[t] and the postsynaptic factor g[t] = ∂L_t/∂V[t]
 * (every row: input and target stream) with its weight. The exact gradient of L = (1/T)·Σ_t L_t is
 * then a backward through the layer's dynamics with ∂L_t/∂V[t] injected at every step:
 * Izhikevich / AdEx through their Euler substeps (src/learning/bptt.ts substepBackward, the reset
 * detached, which is the exact derivative with the spikes held fixed: see the finite-difference
 * checks in learning.bptt-grad.test.ts); LIF with reset 'none' through U[t] = β·U[t−1] + I[t]. The
 * layer is not recurrent and the representation is the voltage, so no spike feeds back into the
 * layer's loss: the backward needs no surrogate. ∂L/∂W = (1/T)·Σ_t x[t]ᵀ·∂L/∂I[t].
 *
 * The online update is the eligibility trace's factorisation (the model's input response,
 * models/model.ts): exact for LIF (asserted equal), the linearisation at rest for Izhikevich and
 * AdEx (cosine, sign agreement and norm ratio printed, not asserted beyond being finite).
 * Network: 20 inputs (rate-coded spikes), 16 hidden, 3 classes, T = 20, batch 8, reference backend.
 */
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig, LayerConfig } from '../src/config/types.js';
import type { Layer, LayerGrads } from '../src/engine/layer.js';
import { resolveIzhikevich } from '../models/izhikevich.js';
import { resolveAdex } from '../models/adex.js';
import { substepBackward, type SubstepLayerParams } from '../src/learning/bptt.js';
import { createRule } from '../src/learning/index.js';
import type { SpikingSigprop } from '../src/learning/sigprop-spiking.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';

const K = 20, H = 16, C = 3, T = 20, B = 8;

interface Recorded {
  v: Float32Array[];
  w: Float32Array[];
  cur: Float32Array[];
  x: Float32Array[];
  g: Float32Array[];
  alpha: number[];
}

/** The window's online layer-0 gradient and what the exact backward needs, recorded per step. */
function runWindow(hidden: LayerConfig, initScale: number) {
  const be = new ReferenceBackend();
  const cfg: ExperimentConfig = {
    dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers: [hidden, { size: C }],
    steps: T, encoder: 'rate', optimizer: 'sgd', learningRate: 1, targetProjection: 'fixed',
    ruleParams: { initScale, temperature: 0.5, targetBias: 0 }, representation: 'voltage',
  };
  const rule = createRule(cfg, { backend: be, rng: new Rng(7), inputSize: K, numClasses: C }) as SpikingSigprop;
  const layer: Layer = rule.net.layers[0];
  const rec: Recorded = { v: [], w: [], cur: [], x: [], g: [], alpha: [] };
  const second = layer.model.stateVars.find((n) => n === 'u' || n === 'w');
  let spikes = 0, cells = 0;
  const step = layer.step.bind(layer), acc = layer.accumulateGrad.bind(layer);
  layer.step = (x: Tensor, t: number) => {
    rec.v.push(be.read(layer.voltage()));
    rec.w.push(second ? be.read(layer.stateVar(second)) : new Float32Array(0));
    step(x, t);
    rec.cur.push(be.read(layer.inputCurrent()));
    rec.x.push(be.read(x));
    const s = be.read(layer.output());
    for (const v of s) spikes += v;
    cells += s.length;
  };
  layer.accumulateGrad = (g: Tensor, alpha: number, grads: LayerGrads) => {
    rec.g.push(be.read(g));
    rec.alpha.push(alpha);
    acc(g, alpha, grads);
  };
  const x = new Rng(1).fillUniform(new Float32Array(B * K));
  const labels = Int32Array.from([0, 1, 2, 1, 0, 2, 2, 1]);
  rule.window(x, labels);
  const online = Array.from(rule.layers[0].W.grad.data);
  return { rule, rec, online, rate: spikes / cells, rows: layer.batch };
}

/** The exact ∂L/∂W of the same per-step loss, backward through the layer's dynamics. */
function exactGradient(model: 'lif' | 'izhikevich' | 'adex', params: Record<string, unknown>, rec: Recorded, rows: number, dtMs: number): number[] {
  const n = rows * H;
  const gv = new Float64Array(n), gw = new Float64Array(n), gx = new Float32Array(n), dS = new Float32Array(n);
  const none = { name: 'none', params: {}, f: () => 0, df: () => 0 };
  const layer: SubstepLayerParams | null = model === 'izhikevich'
    ? (() => { const p = resolveIzhikevich(params as never, dtMs); return { model, p, threshold: p.vPeak, delay: 0 }; })()
    : model === 'adex' ? (() => { const p = resolveAdex(params as never, dtMs); return { model, p, threshold: p.Vpeak, delay: 0 }; })() : null;
  const beta = (params.beta as number | undefined) ?? 0;
  const dW = new Float64Array(K * H);
  for (let t = T - 1; t >= 0; t--) {
    // the loss at step t reads V[t] (the state at the end of step t)
    for (let i = 0; i < n; i++) gv[i] += rec.alpha[t] * rec.g[t][i];
    if (layer) substepBackward(layer, none, rec.v[t], rec.w[t], rec.cur[t], dS, gv, gw, gx);
    else for (let i = 0; i < n; i++) (gx[i] = gv[i]), (gv[i] *= beta); // LIF, reset 'none': U[t] = β·U[t−1] + I[t]
    const xt = rec.x[t];
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < K; k++) {
        const xv = xt[r * K + k];
        if (xv !== 0) for (let j = 0; j < H; j++) dW[k * H + j] += xv * gx[r * H + j];
      }
    }
  }
  return Array.from(dW, (v) => v / T);
}

function compare(a: number[], b: number[]) {
  let ab = 0, aa = 0, bb = 0, agree = 0, nz = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    if (b[i] !== 0) {
      nz++;
      if (Math.sign(a[i]) === Math.sign(b[i])) agree++;
    }
  }
  return { cosine: ab / Math.sqrt(aa * bb), signAgreement: agree / nz, normRatio: Math.sqrt(aa / bb) };
}

describe('spiking sigprop layer 0 (voltage): online update vs the exact BPTT gradient of the same local loss', () => {
  it('LIF, reset none: the eligibility trace is exact (equal within float32)', () => {
    const params = { beta: 0.9, threshold: 1, reset: 'none' };
    const { rule, rec, online, rate, rows } = runWindow({ size: H, model: 'lif', params }, 3);
    const exact = exactGradient('lif', params, rec, rows, rule.settings.dtMs);
    const c = compare(online, exact);
    console.info(`sigprop vs exact, LIF reset none: cosine ${c.cosine.toFixed(6)}, sign agreement ${c.signAgreement.toFixed(4)}, |online|/|exact| ${c.normRatio.toFixed(4)}, firing rate ${rate.toFixed(3)}`);
    const scale = Math.max(...exact.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (let i = 0; i < exact.length; i++) expect(Math.abs(online[i] - exact[i]), `weight ${i}`).toBeLessThan(1e-4 * scale);
  });

  const approx: [string, 'izhikevich' | 'adex', Record<string, unknown>, number][] = [
    ['Izhikevich RS', 'izhikevich', { preset: 'RS' }, 40],
    ['Izhikevich RS, weak drive', 'izhikevich', { preset: 'RS' }, 10],
    ['AdEx regular', 'adex', { preset: 'regular' }, 2000],
    ['AdEx regular, weak drive', 'adex', { preset: 'regular' }, 500],
  ];
  for (const [name, model, params, scale] of approx) {
    it(`${name}: the factorised trace (linearised at rest) against the exact gradient (printed)`, () => {
      const { rule, rec, online, rate, rows } = runWindow({ size: H, model, params }, scale);
      const exact = exactGradient(model, params, rec, rows, rule.settings.dtMs);
      const c = compare(online, exact);
      console.info(`sigprop vs exact, ${name} (initScale ${scale}): cosine ${c.cosine.toFixed(4)}, sign agreement ${c.signAgreement.toFixed(4)}, |online|/|exact| ${c.normRatio.toFixed(4)}, firing rate ${rate.toFixed(3)}`);
      expect(Number.isFinite(c.cosine)).toBe(true);
      expect(exact.every(Number.isFinite)).toBe(true);
      expect(online.some((v) => v !== 0)).toBe(true);
    });
  }
});
