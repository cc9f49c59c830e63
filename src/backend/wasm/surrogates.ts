/**
 * Native surrogate dispatch for the wasm backend: registry families with a SIMD kernel, by name.
 * A spec is used natively only after the kernel has reproduced the spec's own scalar f / f' on a
 * set of probe points (so a family whose formula or parameter names differ from what the kernel
 * assumes silently takes the generic path instead of giving wrong numbers). Everything else —
 * unknown families, custom mathjs surrogates — loops the spec's scalar function over the data view.
 */
import type { SurrogateKernelSpec } from '../backend.js';

/**
 * Kernel id, the names of the (up to two) parameters it reads, and whether it has the primitive f
 * natively, by registry name (see assembly/surrogate.ts).
 */
export const NATIVE_SURROGATES: Readonly<Record<string, { kind: number; params: readonly string[]; primitive: boolean }>> = {
  fastSigmoid: { kind: 1, params: ['k'], primitive: true },
  softSign: { kind: 2, params: ['alpha'], primitive: true },
  atan: { kind: 3, params: ['alpha'], primitive: false },
  sigmoid: { kind: 4, params: ['k'], primitive: true },
  triangular: { kind: 5, params: ['width', 'gain'], primitive: false },
  rectangular: { kind: 6, params: ['a'], primitive: true },
  piecewiseQuadratic: { kind: 7, params: ['alpha'], primitive: false },
  straightThrough: { kind: 8, params: [], primitive: true },
};

/** A verified native choice for one spec and direction. */
export interface NativeSurrogate {
  kind: number;
  /** First and second parameter (0 where unused). */
  param: number;
  param2: number;
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
  evaluate: (native: NativeSurrogate, deriv: boolean, xs: number[]) => Float32Array,
): NativeSurrogate | null {
  const entry = Object.prototype.hasOwnProperty.call(NATIVE_SURROGATES, sg.name) ? NATIVE_SURROGATES[sg.name] : undefined;
  if (!entry || (!deriv && !entry.primitive)) return null;
  const values = entry.params.map((name) => sg.params?.[name]);
  if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) return null;
  const native: NativeSurrogate = { kind: entry.kind, param: values[0] ?? 0, param2: values[1] ?? 0 };
  const got = evaluate(native, deriv, PROBE_X);
  for (let i = 0; i < PROBE_X.length; i++) {
    const want = deriv ? sg.df(PROBE_X[i]) : sg.f(PROBE_X[i]);
    if (!Number.isFinite(want)) return null;
    if (Math.abs(got[i] - want) > 1e-5 * Math.abs(want) + 1e-7) return null;
  }
  return native;
}
