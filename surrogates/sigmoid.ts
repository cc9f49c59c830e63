/**
 * Logistic sigmoid surrogate.
 *   f(x)  = σ(kx) = 1/(1 + e^(−kx))
 *   f'(x) = k·σ(kx)·(1 − σ(kx))  (= k·e^(−kx)/(1 + e^(−kx))², snnTorch's form)
 * Default k = 25: snnTorch `surrogate.sigmoid(slope=25)`. (SpikingJelly `surrogate.Sigmoid`
 * uses the same formula with alpha = 4.) CDF-like (logistic distribution), smooth.
 * Evaluated without overflow for large |kx|.
 */
import { logistic } from './math.js';
import type { SurrogateFamily } from './types.js';

export const sigmoid: SurrogateFamily = {
  name: 'sigmoid',
  aliases: ['logistic'],
  title: 'logistic sigmoid',
  formulaF: '1/(1 + exp(-k*x))',
  formulaDf: 'k*sigma(k*x)*(1 - sigma(k*x))',
  params: [{ name: 'k', default: 25, min: 0, minExclusive: true, doc: 'slope: f\'(0) = k/4' }],
  source: 'snnTorch',
  sourceNote: 'snnTorch surrogate.sigmoid(slope=25); SpikingJelly surrogate.Sigmoid uses alpha=4',
  monotone: true,
  limits: () => [0, 1],
  kinks: () => [],
  make: ({ k }) => ({
    f: (x) => logistic(k * x),
    df: (x) => k * logistic(k * x) * logistic(-k * x),
  }),
};
