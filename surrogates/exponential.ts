/**
 * Exponential (Laplace-shaped) surrogates: f' ∝ exp(−β|x|).
 *
 * piecewiseExp (SpikingJelly `surrogate.PiecewiseExp(alpha=1)`):
 *   f(x)  = ½·e^(αx) (x < 0);  1 − ½·e^(−αx) (x ≥ 0)
 *   f'(x) = (α/2)·e^(−α|x|)
 *   Default α = 1 from SpikingJelly. CDF-like (Laplace CDF); kink of f' at 0.
 *
 * spikeRateEscape (snnTorch `surrogate.spike_rate_escape(beta=1, slope=25)`; escape-rate
 * model of Gerstner & Kistler 2002):
 *   f'(x) = k·e^(−β|x − c|)
 *   f(x)  = (k/β)·e^(β(x−c)) (x < c);  (k/β)·(2 − e^(−β(x−c))) (x ≥ c)
 *   Defaults β = 1, k = 25, c = 0. f' has area 2k/β (= 50 at the defaults), so the primitive
 *   rises monotonically from 0 to 2k/β and is NOT CDF-like; it equals (2k/β)·piecewiseExp
 *   with α = β (shifted by c). snnTorch's implementation evaluates exp(−β|x − 1|) on the
 *   already-shifted x = U − θ, i.e. it peaks at U = θ + 1; set c = 1 to reproduce that exactly.
 *   With c = 0 (default, as in DESIGN.md) the peak is at the threshold.
 */
import type { SurrogateFamily } from './types.js';

export const piecewiseExp: SurrogateFamily = {
  name: 'piecewiseExp',
  aliases: ['piecewise_exp', 'laplace'],
  title: 'piecewise exponential (Laplace CDF)',
  formulaF: '0.5*exp(alpha*x) for x < 0; 1 - 0.5*exp(-alpha*x) for x >= 0',
  formulaDf: '(alpha/2)*exp(-alpha*|x|)',
  params: [{ name: 'alpha', default: 1, min: 0, minExclusive: true, doc: 'steepness: f\'(0) = alpha/2' }],
  source: 'SpikingJelly',
  sourceNote: 'SpikingJelly surrogate.PiecewiseExp(alpha=1)',
  monotone: true,
  limits: () => [0, 1],
  kinks: () => [0],
  make: ({ alpha }) => ({
    f: (x) => (x < 0 ? 0.5 * Math.exp(alpha * x) : 1 - 0.5 * Math.exp(-alpha * x)),
    df: (x) => 0.5 * alpha * Math.exp(-alpha * Math.abs(x)),
  }),
};

export const spikeRateEscape: SurrogateFamily = {
  name: 'spikeRateEscape',
  aliases: ['spike_rate_escape', 'escape'],
  title: 'spike-rate escape (scaled Laplace; primitive rises 0 → 2k/beta)',
  formulaF: '(k/beta)*exp(beta*(x-c)) for x < c; (k/beta)*(2 - exp(-beta*(x-c))) for x >= c',
  formulaDf: 'k*exp(-beta*|x - c|)',
  params: [
    { name: 'beta', default: 1, min: 0, minExclusive: true, doc: 'decay rate of the escape rate' },
    { name: 'k', default: 25, min: 0, minExclusive: true, doc: 'slope: peak f\'(c) = k' },
    { name: 'c', default: 0, doc: 'centre (offset from threshold); snnTorch effectively uses 1' },
  ],
  source: 'snnTorch',
  sourceNote: 'snnTorch surrogate.spike_rate_escape(beta=1, slope=25), centred at the threshold',
  monotone: true,
  limits: (p) => [0, (2 * p.k) / p.beta],
  kinks: (p) => [p.c],
  make: ({ beta, k, c }) => ({
    f: (x) => (x < c ? (k / beta) * Math.exp(beta * (x - c)) : (k / beta) * (2 - Math.exp(-beta * (x - c)))),
    df: (x) => k * Math.exp(-beta * Math.abs(x - c)),
  }),
};
