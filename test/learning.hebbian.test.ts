import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { createRule, resolveRuleSettings } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';

const be = new ReferenceBackend();
const K = 4, N = 3, C = 2, B = 3;
const sig = (z: number) => 1 / (1 + Math.exp(-z));

describe('continuous-time Hebbian sigprop', () => {
  const cases = [['target', 'delta'], ['input', 'delta'], ['input', 'contrastive'], ['target', 'contrastive'], ['both', 'delta'], ['both', 'contrastive']] as const;
  for (const [pre, post] of cases) {
    const postText = post === 'delta' ? '(a^t − a^h)' : '(a^t[c] − Σ_j p_j a^t[j])';
    const preText = pre === 'both' ? 'h, plus the target rows\' own terms' : pre === 'target' ? 't' : 'h';
    it(`one Euler step applies dW = η·dt·${postText}·(a_prev^${preText})ᵀ / B (hand-computed)`, () => {
      const tauMs = 4, dtMs = 0.5, eta = 0.2;
      const cfg: ExperimentConfig = {
        dataset: 'x', rule: 'sigprop', mode: 'continuous', steps: 1, dtMs, targetProjection: 'fixed',
        layers: [{ size: N, model: 'leaky', params: { tauMs, activation: 'tanh' } }, { size: C }],
        ruleParams: { eta, hebbPre: pre, hebbPost: post, temperature: 0.05, predict: 'classSignal' },
      };
      const rule = createRule(cfg, { backend: be, rng: new Rng(5), inputSize: K, numClasses: C });
      const s0 = rule.state();
      const x = new Rng(9).fillUniform(new Float32Array(B * K));
      const labels = [1, 0, 1];
      rule.trainBatch(x, labels);
      const W1 = rule.state()['layer0.W'];
      // by hand: t0_c = σ(S_c + d); h = g·(a_prev·W + b) from h = 0; a = tanh(h)
      const g = 1 - Math.exp(-dtMs / tauMs);
      const S = s0['target.W'], d = s0['target.b'], W = s0['layer0.W'], b = s0['layer0.b'];
      const t0 = Array.from({ length: C }, (_, c) => Array.from({ length: K }, (_, k) => sig(S[c * K + k] + d[k])));
      const act = (v: number[]) => Array.from({ length: N }, (_, n) => Math.tanh(g * (v.reduce((a, vk, k) => a + vk * W[k * N + n], 0) + b[n])));
      const xs = Array.from({ length: B }, (_, i) => Array.from(x.subarray(i * K, (i + 1) * K)));
      const ah = xs.map(act), at = t0.map(act);
      // postsynaptic factor per sample: a^t[c] − a^h, or a^t[c] − Σ_j p_j a^t[j] with p = softmax(−mean sq. distance / τ)
      const probs = (i: number): number[] => {
        const logits = at.map((t) => -t.reduce((a, v, m) => a + (ah[i][m] - v) ** 2, 0) / (N * 0.05));
        const mx = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - mx));
        const z = e.reduce((a, v) => a + v, 0);
        return e.map((v) => v / z);
      };
      const postOf = (i: number, n: number): number => {
        const c = labels[i];
        if (post === 'delta') return at[c][n] - ah[i][n];
        return at[c][n] - probs(i).reduce((a, p, j) => a + p * at[j][n], 0);
      };
      // 'both': target row j's factor Σ_i (y_ij − p_ij)(a^h_i − a^t_j) (p = 0 for the delta rule)
      const postTarget = (j: number, n: number): number => {
        let v = 0;
        for (let i = 0; i < B; i++) v += ((labels[i] === j ? 1 : 0) - (post === 'delta' ? 0 : probs(i)[j])) * (ah[i][n] - at[j][n]);
        return v;
      };
      for (let k = 0; k < K; k++) {
        for (let n = 0; n < N; n++) {
          let dw = 0;
          for (let i = 0; i < B; i++) {
            const c = labels[i];
            const preK = pre === 'target' ? t0[c][k] : xs[i][k];
            dw += preK * postOf(i, n);
          }
          if (pre === 'both') for (let j = 0; j < C; j++) dw += t0[j][k] * postTarget(j, n);
          dw *= (eta * dtMs) / B;
          expect(W1[k * N + n] - W[k * N + n]).toBeCloseTo(dw, 6);
        }
      }
      expect(W1.some((v, i) => v !== W[i])).toBe(true);
    });
  }

  it("hebbPost 'similarity' (pre 'both'): one Euler step applies dW = −η·dt·∂L/∂W / g, L the layer's class-signal cosine CE (finite differences)", () => {
    // from h = 0 one step gives h = g·(a_prev·W + b), so ∂L/∂W = a_prevᵀ·(∂L/∂a ⊙ φ'(h))·g: the rule's factor
    // −∂L/∂a ⊙ φ'(h) with every row's own presynaptic activity is the loss gradient up to the gain g
    const tauMs = 4, dtMs = 0.5, eta = 0.2, g = 1 - Math.exp(-dtMs / tauMs);
    const cfg: ExperimentConfig = {
      dataset: 'x', rule: 'sigprop', mode: 'continuous', steps: 1, dtMs, targetProjection: 'fixed',
      layers: [{ size: N, model: 'leaky', params: { tauMs, activation: 'tanh' } }, { size: C }],
      ruleParams: { eta, hebbPre: 'both', hebbPost: 'similarity', temperature: 0.5, predict: 'classSignal', initScale: 4 },
    };
    const rule = createRule(cfg, { backend: be, rng: new Rng(5), inputSize: K, numClasses: C });
    const s0 = rule.state();
    const x = new Rng(9).fillUniform(new Float32Array(B * K));
    const labels = [1, 0, 1];
    rule.trainBatch(x, labels);
    const W0 = s0['layer0.W'], W1 = rule.state()['layer0.W'];
    const lossAt = (i: number, h: number): number => {
      const w = W0.slice();
      w[i] += h;
      rule.loadState({ ...s0, 'layer0.W': w });
      return rule.trainBatch(x, labels).layerLosses[0];
    };
    const want = Array.from(W0, (_, i) => (-eta * dtMs * (lossAt(i, 1e-3) - lossAt(i, -1e-3))) / 2e-3 / g);
    const scale = Math.max(...want.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    // float32 weights and activities: agreement to 1e-3 of the largest element
    want.forEach((v, i) => expect(Math.abs(W1[i] - W0[i] - v)).toBeLessThan(1e-3 * scale));
    expect(() => createRule({ ...cfg, ruleParams: { ...cfg.ruleParams, hebbPre: 'target' } }, { backend: be, rng: new Rng(5), inputSize: K, numClasses: C }))
      .toThrow(/hebbPost = 'similarity'.*hebbPre = 'target'.*set ruleParams.hebbPre to 'both'/);
    // the cosine's norm ε (losses.test.ts checks what it does) reaches the rule's loss options; a negative one is refused by name
    expect(resolveRuleSettings({ ...cfg, ruleParams: { ...cfg.ruleParams, normEps: 0.01 } }).sim.normEps).toBe(0.01);
    expect(() => resolveRuleSettings({ ...cfg, ruleParams: { ...cfg.ruleParams, normEps: -1 } })).toThrow(/ruleParams\.normEps/);
  });

  it("hebbApply 'optimizer' with SGD at lr = η·dt applies the same one-step update as the online rule (T = 1)", () => {
    const tauMs = 4, dtMs = 0.5, eta = 0.2;
    const base = (apply: string): ExperimentConfig => ({
      dataset: 'x', rule: 'sigprop', mode: 'continuous', steps: 1, dtMs, targetProjection: 'fixed', optimizer: 'sgd', learningRate: eta * dtMs,
      layers: [{ size: N, model: 'leaky', params: { tauMs, activation: 'tanh' } }, { size: C }],
      ruleParams: { eta, hebbPre: 'both', hebbPost: 'contrastive', hebbApply: apply, predict: 'classSignal' },
    });
    const x = new Rng(9).fillUniform(new Float32Array(B * K));
    const after = ['online', 'optimizer'].map((apply) => {
      const rule = createRule(base(apply), { backend: be, rng: new Rng(5), inputSize: K, numClasses: C });
      const w0 = rule.state()['layer0.W'];
      rule.trainBatch(x, [1, 0, 1]);
      const w1 = rule.state()['layer0.W'];
      expect(w1.some((v, i) => v !== w0[i])).toBe(true);
      return w1;
    });
    for (let i = 0; i < after[0].length; i++) expect(after[1][i]).toBeCloseTo(after[0][i], 6);
  });

  it('predicts with the nearest class signal and with the local readout', () => {
    for (const predict of ['classSignal', 'readout']) {
      const rule = createRule({
        dataset: 'x', rule: 'sigprop', mode: 'continuous', steps: 5, layers: [{ size: 8, model: 'leaky' }, { size: C }],
        ruleParams: { predict, eta: 0.01 }, learningRate: 0.01,
      }, { backend: be, rng: new Rng(1), inputSize: K, numClasses: C });
      const x = new Rng(2).fillUniform(new Float32Array(B * K));
      rule.trainBatch(x, [0, 1, 0]);
      const p = rule.predict(x, B);
      expect(p.length).toBe(B);
      for (const v of p) expect(v === 0 || v === 1).toBe(true);
    }
  });
});
