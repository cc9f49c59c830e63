/**
 * Browser stand-in for src/lazy-mathjs.ts (src/web/build.ts swaps it in). mathjs (about 600 kB)
 * is left out of the browser bundle, so custom surrogates and equation-defined models are not
 * available in a page; the built-in surrogates and models are.
 */
import { SigpropError } from '../../errors.js';
import type { MathJs } from '../../lazy-mathjs.js';

export type { MathJs };

export function mathjs(): MathJs {
  throw new SigpropError(
    'custom surrogates and equation-defined models need mathjs, which the browser bundle leaves out; use a built-in surrogate and neuron model in the page (or the Node library)',
    'config',
  );
}
