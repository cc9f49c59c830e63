/**
 * Straight-through estimator (snnTorch `surrogate.straight_through_estimator()`).
 *   f'(x) = 1 everywhere (the gradient passes through the step unchanged)
 *   f(x)  = x + ½
 * The only primitive with f' ≡ 1 is the identity (up to a constant), so f is unbounded
 * (limits −∞ and +∞): monotone but not CDF-like. The offset ½ makes f(0) = ½ like every other
 * family. A clipped version clip(x + ½, 0, 1) has f' = 0 outside |x| < ½: that is
 * 'rectangular:a=1', not straight-through. No parameters; no kinks.
 */
import type { SurrogateFamily } from './types.js';

export const straightThrough: SurrogateFamily = {
  name: 'straightThrough',
  aliases: ['ste', 'straight_through', 'straight_through_estimator', 'identity'],
  title: 'straight-through estimator (identity primitive, unbounded)',
  formulaF: 'x + 0.5',
  formulaDf: '1',
  params: [],
  source: 'snnTorch',
  sourceNote: 'snnTorch surrogate.straight_through_estimator()',
  monotone: true,
  limits: () => [-Infinity, Infinity],
  kinks: () => [],
  make: () => ({ f: (x) => x + 0.5, df: () => 1 }),
};
