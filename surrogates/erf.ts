/**
 * Error-function (Gaussian) surrogate.
 *   f(x)  = ½·erfc(−αx) = ½·(1 + erf(αx))
 *   f'(x) = (α/√π)·exp(−α²x²)
 * i.e. the CDF of a Gaussian with standard deviation 1/(α√2). Default α = 2 from SpikingJelly
 * `surrogate.Erf(alpha=2)` (Norse's HeaviErfc uses the same shape). CDF-like, smooth. f is
 * computed through erfc for x < 0 so that the left tail keeps full relative precision.
 */
import { erfc } from './math.js';
import type { SurrogateFamily } from './types.js';

export const erfSurrogate: SurrogateFamily = {
  name: 'erf',
  aliases: ['gaussian', 'normal'],
  title: 'error function (Gaussian CDF)',
  formulaF: '0.5*erfc(-alpha*x)',
  formulaDf: '(alpha/sqrt(pi))*exp(-(alpha*x)^2)',
  params: [{ name: 'alpha', default: 2, min: 0, minExclusive: true, doc: 'steepness: Gaussian sd = 1/(alpha*sqrt(2))' }],
  source: 'SpikingJelly',
  sourceNote: 'SpikingJelly surrogate.Erf(alpha=2)',
  monotone: true,
  limits: () => [0, 1],
  kinks: () => [],
  make: ({ alpha }) => {
    const c = alpha / Math.sqrt(Math.PI);
    return {
      f: (x) => 0.5 * erfc(-alpha * x),
      df: (x) => c * Math.exp(-(alpha * x) * (alpha * x)),
    };
  },
};
