/**
 * mathjs, loaded on first use. It takes 1–2 s to load and only custom surrogates
 * (surrogates/custom.ts) and equation-defined neuron models (models/equation.ts) need it, so
 * importing the surrogate and model registries (and every CLI start) stays fast. Loaded
 * synchronously through Node's require so that the callers can stay synchronous.
 */
import { createRequire } from 'node:module';

/** The mathjs module type (types only; importing it loads nothing). */
export type MathJs = typeof import('mathjs');

let mathjsModule: MathJs | undefined;

/** The mathjs module, required on the first call and cached. */
export function mathjs(): MathJs {
  mathjsModule ??= createRequire(import.meta.url)('mathjs') as MathJs;
  return mathjsModule;
}
