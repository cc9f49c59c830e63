/**
 * Native surrogate dispatch for the wasm backend: registry families with a SIMD kernel, by name.
 * A spec is used natively only after the kernel has reproduced the spec's own scalar f / f' on a
 * set of probe points (so a family whose formula or parameter names differ from what the kernel
 * assumes silently takes the generic path instead of giving wrong numbers). Everything else —
 * unknown families, custom mathjs surrogates — loops the spec's scalar function over the data view.
 */
import type { SurrogateKernelSpec } from '../backend.js';

/** Kernel id and the name of the parameter it reads, by registry name (see assembly/surrogate.ts). */
export const NATIVE_SURROGATES: Readonly<Record<string, { kind: number; param: string; primitive: boolean }>> = {
  fastSigmoid: { kind: 1, param: 'k', primitive: true },
  softSign: { kind: 2, param: 'alpha', primitive: true },
  atan: { kind: 3, param: 'alpha', primitive: false },
  sigmoid: { kind: 4, param: 'k', primitive: true },
};

/** A verified native choice for one spec and direction. */
export interface NativeSurrogate {
  kind: number;
  param: number;
}

/** Probe points x = u − θ, relative to the surrogate's width. */
export const PROBE_X = [-4, -1.3, -0.5, -0.11, -0.02, 0, 0.015, 0.07, 0.3, 0.9, 2.5, 7];

/**
 * Decide (once per spec object and direction) whether a native kernel reproduces `sg`.
 * `evaluate(kind, param, deriv, xs)` runs the kernel on the probe points.
 */
export function chooseNative(
  sg: SurrogateKernelSpec,
  deriv: boolean,
  evaluate: (kind: number, param: number, deriv: boolean, xs: number[]) => Float32Array,
): NativeSurrogate | null {
  const entry = Object.prototype.hasOwnProperty.call(NATIVE_SURROGATES, sg.name) ? NATIVE_SURROGATES[sg.name] : undefined;
  if (!entry || (!deriv && !entry.primitive)) return null;
  const param = sg.params?.[entry.param];
  if (typeof param !== 'number' || !Number.isFinite(param) || param <= 0) return null;
  const got = evaluate(entry.kind, param, deriv, PROBE_X);
  for (let i = 0; i < PROBE_X.length; i++) {
    const want = deriv ? sg.df(PROBE_X[i]) : sg.f(PROBE_X[i]);
    if (!Number.isFinite(want)) return null;
    if (Math.abs(got[i] - want) > 1e-5 * Math.abs(want) + 1e-7) return null;
  }
  return { kind: entry.kind, param };
}
