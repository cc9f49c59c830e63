/**
 * Izhikevich (2003) simple model, "Simple model of spiking neurons", IEEE TNN 14(6):
 *   v' = 0.04·v² + 5·v + 140 − u + I
 *   u' = a·(b·v − u)
 *   if v ≥ vPeak (30 mV): v ← c, u ← u + d
 * Units: v and c in mV, time in ms, u and I in the model's current units (mV/ms scale as in
 * the paper; I = 10 is the paper's typical tonic drive).
 *
 * Integration: forward Euler on substeps of at most `substepMs` (default 0.5 ms, the half-step
 * the paper's reference code uses for v). Within a substep v is updated first and u is then
 * updated from the new v (as in the paper's code). When v reaches vPeak inside a substep the
 * neuron is reset at once (v ← c, u ← u + d) and integration continues for the rest of the
 * step; s = 1 for that step. The stored v is therefore the post-reset value at a spike step;
 * use the spike variable s to mark spikes in traces. dtMs should be ≤ 1 ms.
 * State: v, u, s (spikes of the last step), each [batch, n].
 *
 * Input response (inputResponse, an approximation, exact false): the v equation is linearised
 * around the resting potential v_r (the stable fixed point of v and u with I = 0, the lower root
 * of 0.04·v² + (5 − b)·v + 140 = 0, e.g. −70 mV for RS; v0 when there is none) with the recovery
 * variable u held fixed: dv/dt ≈ λ·v + I, λ = 0.08·v_r + 5; the nSub Euler substeps of hMs give
 * decays [(1 + hMs·λ)^nSub] (at most 1) and gain hMs·Σ_k (1 + hMs·λ)^k. The feedback through u
 * and the reset v ← c are ignored.
 *
 * Presets (paper Fig. 2): RS regular spiking, IB intrinsically bursting, CH chattering,
 * FS fast spiking, LTS low-threshold spiking, TC thalamo-cortical, RZ resonator.
 */
import type { Backend } from '../src/backend/backend.js';
import { checkNumber, checkOneOf } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep, eulerSubstepResponse } from './common.js';
import type { InputResponse, NeuronModel, NeuronState } from './model.js';

/** The four dimensionless Izhikevich parameters. */
export interface IzhikevichABCD {
  /** Recovery time scale (1/ms). */
  a: number;
  /** Sensitivity of u to v. */
  b: number;
  /** After-spike reset of v (mV). */
  c: number;
  /** After-spike increment of u. */
  d: number;
}

/** Published parameter sets (Izhikevich 2003, Fig. 2). */
export const IZHIKEVICH_PRESETS: Readonly<Record<string, IzhikevichABCD>> = {
  RS: { a: 0.02, b: 0.2, c: -65, d: 8 },
  IB: { a: 0.02, b: 0.2, c: -55, d: 4 },
  CH: { a: 0.02, b: 0.2, c: -50, d: 2 },
  FS: { a: 0.1, b: 0.2, c: -65, d: 2 },
  LTS: { a: 0.02, b: 0.25, c: -65, d: 2 },
  TC: { a: 0.02, b: 0.25, c: -65, d: 0.05 },
  RZ: { a: 0.1, b: 0.26, c: -65, d: 2 },
};

/** User parameters: a preset name and/or explicit a, b, c, d (explicit values override the preset). */
export interface IzhikevichParams extends Partial<IzhikevichABCD> {
  /** One of RS, IB, CH, FS, LTS, TC, RZ. Default 'RS'. */
  preset?: string;
  /** Spike cut-off in mV. Default 30. */
  vPeak?: number;
  /** Initial membrane potential in mV (u starts at b·v0). Default −65. */
  v0?: number;
  /** Largest Euler substep in ms. Default 0.5. */
  substepMs?: number;
}

/** Resolved Izhikevich parameters. */
export interface IzhikevichResolved extends IzhikevichABCD {
  preset: string;
  vPeak: number;
  v0: number;
  substepMs: number;
  dtMs: number;
  /** Number of Euler substeps per step and their length in ms. */
  nSub: number;
  hMs: number;
}

const IZH_KEYS = ['preset', 'a', 'b', 'c', 'd', 'vPeak', 'v0', 'substepMs', 'dtMs', 'nSub', 'hMs'] as const;

/** Validate and fill Izhikevich parameters for step size dtMs. */
export function resolveIzhikevich(params: Partial<IzhikevichResolved> | IzhikevichParams | undefined, dtMs: number): IzhikevichResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('izhikevich', params, IZH_KEYS);
  const p = (params ?? {}) as Partial<IzhikevichResolved>;
  const preset = checkOneOf('preset', p.preset ?? 'RS', Object.keys(IZHIKEVICH_PRESETS));
  const base = IZHIKEVICH_PRESETS[preset];
  const a = checkNumber('a', p.a ?? base.a, { min: 0, minExclusive: true, unit: '1/ms' });
  const b = checkNumber('b', p.b ?? base.b);
  const c = checkNumber('c', p.c ?? base.c, { unit: 'mV' });
  const d = checkNumber('d', p.d ?? base.d);
  const vPeak = checkNumber('vPeak', p.vPeak ?? 30, { min: c, minExclusive: true, unit: 'mV' });
  const v0 = checkNumber('v0', p.v0 ?? -65, { max: vPeak, maxExclusive: true, unit: 'mV' });
  const substepMs = checkNumber('substepMs', p.substepMs ?? 0.5, { min: 0, minExclusive: true, max: 1, unit: 'ms' });
  const nSub = Math.max(1, Math.ceil(dt / substepMs - 1e-9));
  return { preset, a, b, c, d, vPeak, v0, substepMs, dtMs: dt, nSub, hMs: dt / nSub };
}

/** Pure Izhikevich step over dtMs (nSub Euler substeps) through `backend.izhikevichStep`; writes v, u, s. */
export function izhikevichStep(backend: Backend, p: IzhikevichResolved, state: NeuronState, input: Tensor): void {
  const [vt, ut, st] = checkStep('izhikevich', state, ['v', 'u', 's'], input);
  backend.izhikevichStep(vt, ut, st, input, p);
}

/** Resting potential: the stable fixed point of (v, u) at I = 0, or v0 when there is none (b too large). */
export function izhikevichRest(p: IzhikevichResolved): number {
  const disc = (5 - p.b) ** 2 - 4 * 0.04 * 140;
  return disc >= 0 ? (-(5 - p.b) - Math.sqrt(disc)) / (2 * 0.04) : p.v0;
}

/** Linearised input response of the v equation at rest, u held fixed (see the file comment). */
export function izhikevichInputResponse(p: IzhikevichResolved): InputResponse {
  const vr = izhikevichRest(p);
  const lambda = 0.08 * vr + 5;
  const { decay, gain } = eulerSubstepResponse(lambda, 1, p.hMs, p.nSub);
  return {
    decays: [Math.min(1, Math.max(0, decay))], gain, exact: false,
    approximation: `v equation linearised at rest (v = ${vr.toPrecision(4)} mV, dv'/dv = ${lambda.toPrecision(3)}/ms) with u held fixed; spike resets ignored`,
  };
}

/** The Izhikevich model, registered as 'izhikevich'. */
export const izhikevich: NeuronModel<IzhikevichResolved> = {
  name: 'izhikevich',
  stateVars: ['v', 'u', 's'],
  voltageVar: 'v',
  spikeVar: 's',
  resolve: (params, dtMs) => resolveIzhikevich(params, dtMs),
  init: (backend, batch, n, p) => allocState(backend, batch, n, { v: p.v0, u: p.b * p.v0, s: 0 }),
  step: izhikevichStep,
  threshold: (p) => p.vPeak,
  inputResponse: izhikevichInputResponse,
};

registerModel(izhikevich);
