/**
 * Arctangent surrogate.
 *   f(x)  = ½ + atan(π/2·αx)/π
 *   f'(x) = (α/2) / (1 + (π/2·αx)²)
 * Default α = 2: snnTorch `surrogate.atan(alpha=2.0)` (the default spike_grad of snnTorch's
 * Leaky neuron) and SpikingJelly `surrogate.ATan(alpha=2)` use the same formula and default.
 * CDF-like (Cauchy distribution CDF), smooth everywhere; heavy tails (f' ~ 1/x²).
 */
import type { SurrogateFamily } from './types.js';

export const atan: SurrogateFamily = {
  name: 'atan',
  aliases: ['arctan', 'ATan'],
  title: 'arctangent (Cauchy CDF)',
  formulaF: '0.5 + atan(pi/2*alpha*x)/pi',
  formulaDf: '(alpha/2)/(1 + (pi/2*alpha*x)^2)',
  params: [{ name: 'alpha', default: 2, min: 0, minExclusive: true, doc: 'steepness: f\'(0) = alpha/2' }],
  source: 'snnTorch',
  sourceNote: 'snnTorch surrogate.atan(alpha=2.0); same formula and default in SpikingJelly surrogate.ATan',
  monotone: true,
  limits: () => [0, 1],
  kinks: () => [],
  make: ({ alpha }) => {
    const c = (Math.PI / 2) * alpha;
    return {
      f: (x) => 0.5 + Math.atan(c * x) / Math.PI,
      df: (x) => {
        const z = c * x;
        return alpha / 2 / (1 + z * z);
      },
    };
  },
};
