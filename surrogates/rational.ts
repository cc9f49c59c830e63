/**
 * Rational ("fast sigmoid") surrogates: derivative 1/(1+k|x|)², no exp or atan needed.
 *
 * fastSigmoid (aliases superspike, fast_sigmoid):
 *   f'(x) = 1 / (1 + k|x|)²                       — exactly snnTorch `surrogate.fast_sigmoid(slope=25)`
 *   f(x)  = (1/k)·(1 + kx/(1 + k|x|)) = (2/k)·[½ + ½·kx/(1 + k|x|)]
 *   Default k = 25 (snnTorch). Zenke & Ganguli's SuperSpike (2018) uses the same shape; Norse's
 *   `superspike` uses alpha = 100.
 *   Scaling note: ½ + ½·kx/(1+k|x|) has derivative (k/2)/(1+k|x|)², i.e. k/2 times snnTorch's
 *   gradient. We keep snnTorch's gradient exactly (so learning rates transfer) and scale the
 *   primitive by 2/k instead: f rises monotonically from 0 to 2/k, so it is NOT CDF-like
 *   (limits 0 and 2/k). The unit-area (CDF-like) version of the same shape is `softSign`
 *   with alpha = k.
 *
 * softSign (SpikingJelly `surrogate.SoftSign(alpha=2)`):
 *   f(x)  = ½·(1 + αx/(1 + |αx|))
 *   f'(x) = α / (2·(1 + |αx|)²)
 *   CDF-like; default α = 2 from SpikingJelly.
 *
 * Both have a kink of f' at x = 0 (|x|).
 */
import type { SurrogateFamily } from './types.js';

export const fastSigmoid: SurrogateFamily = {
  name: 'fastSigmoid',
  aliases: ['superspike', 'fast_sigmoid', 'fast-sigmoid'],
  title: 'fast sigmoid / SuperSpike (snnTorch gradient scale; primitive rises 0 → 2/k)',
  formulaF: '(1/k)*(1 + k*x/(1 + k*|x|))',
  formulaDf: '1/(1 + k*|x|)^2',
  params: [{ name: 'k', default: 25, min: 0, minExclusive: true, doc: 'slope: larger is narrower' }],
  source: 'snnTorch',
  sourceNote: 'snnTorch surrogate.fast_sigmoid(slope=25); SuperSpike (Zenke & Ganguli 2018)',
  monotone: true,
  limits: (p) => [0, 2 / p.k],
  kinks: () => [0],
  make: ({ k }) => ({
    f: (x) => (1 + (k * x) / (1 + k * Math.abs(x))) / k,
    df: (x) => {
      const d = 1 + k * Math.abs(x);
      return 1 / (d * d);
    },
  }),
};

export const softSign: SurrogateFamily = {
  name: 'softSign',
  aliases: ['softsign', 'soft_sign', 'soft-sign'],
  title: 'soft-sign (unit-area fast sigmoid)',
  formulaF: '0.5*(1 + alpha*x/(1 + |alpha*x|))',
  formulaDf: 'alpha/(2*(1 + |alpha*x|)^2)',
  params: [{ name: 'alpha', default: 2, min: 0, minExclusive: true, doc: 'steepness: larger is narrower' }],
  source: 'SpikingJelly',
  sourceNote: 'SpikingJelly surrogate.SoftSign(alpha=2)',
  monotone: true,
  limits: () => [0, 1],
  kinks: () => [0],
  make: ({ alpha }) => ({
    f: (x) => 0.5 * (1 + (alpha * x) / (1 + Math.abs(alpha * x))),
    df: (x) => {
      const d = 1 + Math.abs(alpha * x);
      return alpha / (2 * d * d);
    },
  }),
};
