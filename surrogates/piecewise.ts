/**
 * Compactly supported piecewise surrogates: f' is zero outside a window around the threshold.
 *
 * triangular (piecewise-linear derivative; alias piecewiseLinear):
 *   f'(x) = gain·max(0, 1 − |x|/width)
 *   f(x)  = 0 (x < −w);  gain·(x + w)²/(2w) (−w ≤ x < 0);  gain·(w − (w − x)²/(2w)) (0 ≤ x < w);  gain·w (x ≥ w)
 *   Defaults width = 1, gain = 1: unit area, so f is CDF-like. This is the triangle of
 *   Esser et al. (2016) and Bellec et al. (2018), who use gain (their "dampening factor") 0.3
 *   with width 1 on a threshold-normalised voltage: 'triangular:gain=0.3'. Note: snnTorch's
 *   `surrogate.triangular` is not a triangle (its gradient is ±threshold by the sign of x), so
 *   it is not reproduced here.
 *   Kinks of f' at −width, 0, width.
 *
 * rectangular (boxcar derivative; aliases rect, boxcar):
 *   f'(x) = 1/a if |x| < a/2, else 0
 *   f(x)  = clip(x/a + ½, 0, 1)
 *   Default a = 1: the rectangular pseudo-derivative of Wu et al. (2018, STBP). CDF-like.
 *   f' jumps at ±a/2 (there f has corners; the value at exactly |x| = a/2 is 0).
 *
 * piecewiseQuadratic (SpikingJelly `surrogate.PiecewiseQuadratic(alpha=1)`):
 *   f(x)  = 0 (x < −1/α);  −½α²|x|x + αx + ½ (|x| ≤ 1/α);  1 (x > 1/α)
 *   f'(x) = max(0, α − α²|x|)
 *   Default α = 1 from SpikingJelly. CDF-like. Same function as triangular with width = 1/α,
 *   gain = α (the tests check this); kept under SpikingJelly's name and parameterisation.
 */
import type { SurrogateFamily } from './types.js';

export const triangular: SurrogateFamily = {
  name: 'triangular',
  aliases: ['triangle', 'piecewiseLinear', 'piecewise_linear'],
  title: 'triangular derivative (piecewise linear f\', piecewise quadratic f)',
  formulaF: 'gain*(x+width)^2/(2*width) on [-width,0), gain*(width-(width-x)^2/(2*width)) on [0,width), 0 below, gain*width above',
  formulaDf: 'gain*max(0, 1 - |x|/width)',
  params: [
    { name: 'width', default: 1, min: 0, minExclusive: true, doc: 'half-width of the support' },
    { name: 'gain', default: 1, min: 0, minExclusive: true, doc: 'peak f\'(0); Bellec et al. use 0.3' },
  ],
  source: 'literature',
  sourceNote: 'Esser et al. 2016 / Bellec et al. 2018 (width 1; they use gain 0.3); unit area by default',
  monotone: true,
  limits: (p) => [0, p.gain * p.width],
  kinks: (p) => [-p.width, 0, p.width],
  make: ({ width: w, gain }) => ({
    f: (x) => {
      if (x <= -w) return 0;
      if (x >= w) return gain * w;
      if (x < 0) return (gain * (x + w) * (x + w)) / (2 * w);
      return gain * (w - ((w - x) * (w - x)) / (2 * w));
    },
    df: (x) => gain * Math.max(0, 1 - Math.abs(x) / w),
  }),
};

export const rectangular: SurrogateFamily = {
  name: 'rectangular',
  aliases: ['rect', 'boxcar'],
  title: 'rectangular (boxcar) derivative, clipped-linear f',
  formulaF: 'clip(x/a + 0.5, 0, 1)',
  formulaDf: '(1/a)*(|x| < a/2)',
  params: [{ name: 'a', default: 1, min: 0, minExclusive: true, doc: 'width of the window' }],
  source: 'literature',
  sourceNote: 'Wu et al. 2018 (STBP) rectangular pseudo-derivative, a = 1',
  monotone: true,
  limits: () => [0, 1],
  kinks: (p) => [-p.a / 2, p.a / 2],
  make: ({ a }) => ({
    f: (x) => Math.min(1, Math.max(0, x / a + 0.5)),
    df: (x) => (Math.abs(x) < a / 2 ? 1 / a : 0),
  }),
};

export const piecewiseQuadratic: SurrogateFamily = {
  name: 'piecewiseQuadratic',
  aliases: ['piecewise_quadratic', 'pwq'],
  title: 'piecewise quadratic f (SpikingJelly parameterisation of the triangle)',
  formulaF: '-0.5*alpha^2*|x|*x + alpha*x + 0.5 for |x| <= 1/alpha; 0 below, 1 above',
  formulaDf: 'max(0, alpha - alpha^2*|x|)',
  params: [{ name: 'alpha', default: 1, min: 0, minExclusive: true, doc: 'support is |x| <= 1/alpha; f\'(0) = alpha' }],
  source: 'SpikingJelly',
  sourceNote: 'SpikingJelly surrogate.PiecewiseQuadratic(alpha=1)',
  monotone: true,
  limits: () => [0, 1],
  kinks: (p) => [-1 / p.alpha, 0, 1 / p.alpha],
  make: ({ alpha }) => {
    const edge = 1 / alpha;
    return {
      f: (x) => {
        if (x < -edge) return 0;
        if (x > edge) return 1;
        return -0.5 * alpha * alpha * Math.abs(x) * x + alpha * x + 0.5;
      },
      df: (x) => Math.max(0, alpha - alpha * alpha * Math.abs(x)),
    };
  },
};
