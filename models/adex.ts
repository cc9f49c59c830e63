/**
 * Adaptive exponential integrate-and-fire (Brette & Gerstner 2005, J. Neurophysiol. 94:3637):
 *   C·dV/dt = −gL·(V − EL) + gL·ΔT·exp((V − VT)/ΔT) − w + I
 *   τw·dw/dt = a·(V − EL) − w
 *   if V > Vpeak: V ← Vr, w ← w + b
 * Units: C in pF, gL and a in nS, EL, VT, ΔT, Vr, Vpeak and V in mV, τw and dt in ms,
 * w, b and the input I in pA (pA = nS·mV; pA/pF = mV/ms, so the equations need no factors).
 *
 * Defaults are the paper's cortical pyramidal cell: C = 281 pF, gL = 30 nS, EL = −70.6 mV,
 * VT = −50.4 mV, ΔT = 2 mV, τw = 144 ms, a = 4 nS, b = 80.5 pA, Vr = EL; the paper stops the
 * integration at 20 mV, used here as Vpeak. Presets: 'regular' (the paper), 'bursting',
 * 'fastSpiking' (see ADEX_PRESETS).
 *
 * Integration: forward Euler on substeps of at most `substepMs` (default 0.1 ms); V and w are
 * both updated from the values at the start of the substep. The exponential's argument is
 * clamped at (Vpeak − VT)/ΔT, so exp never overflows: V beyond Vpeak is a spike anyway. A spike
 * resets at once inside the substep; the stored V at a spike step is the post-reset value.
 * State: v, w, s (spikes of the last step), each [batch, n].
 *
 * Input response (inputResponse, an approximation, exact false): the V equation is linearised
 * around the resting potential V_r (the fixed point of V and w with I = 0 below VT, found by
 * Newton's method from EL; ≈ EL for the presets) with the adaptation current w held fixed:
 * dV/dt ≈ λ·V + I/C, λ = gL·(exp((V_r − VT)/ΔT) − 1)/C; the nSub Euler substeps of hMs give
 * decays [(1 + hMs·λ)^nSub] (at most 1) and gain (hMs/C)·Σ_k (1 + hMs·λ)^k (mV per pA). The
 * feedback through w, the exponential's growth away from rest and the reset V ← Vr are ignored.
 */
import type { AdexKernelParams, Backend } from '../src/backend/backend.js';
import { checkNumber, checkOneOf, ParameterError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep, checkTau, eulerSubstepResponse } from './common.js';
import type { InputResponse, NeuronModel, NeuronState } from './model.js';

/** Physical AdEx parameters (pF, nS, mV, ms, pA): the step kernel's parameters without its substeps. */
export type AdexPhysical = Omit<AdexKernelParams, 'nSub' | 'hMs'>;

/**
 * Parameter sets by name. 'regular' is the paper's cortical pyramidal cell (the default);
 * 'bursting' and 'fastSpiking' are the variants of the Scholarpedia article on AdEx
 * (Gerstner & Brette 2009): bursting τw = 20 ms, a = 4 nS, b = 0.5 nA, Vr = VT + 5 mV;
 * fast spiking τw = 144 ms, a = 2C/τw, b = 0, Vr = EL.
 */
export const ADEX_PRESETS: Readonly<Record<string, AdexPhysical>> = {
  regular: { C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 144, a: 4, b: 80.5, Vr: -70.6, Vpeak: 20 },
  bursting: { C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 20, a: 4, b: 500, Vr: -45.4, Vpeak: 20 },
  fastSpiking: { C: 281, gL: 30, EL: -70.6, deltaT: 2, VT: -50.4, tauWMs: 144, a: (2 * 281) / 144, b: 0, Vr: -70.6, Vpeak: 20 },
};

/** User parameters: a preset name (default 'regular') and any overrides. */
export interface AdexParams extends Partial<AdexPhysical> {
  /** 'regular' (default), 'bursting' or 'fastSpiking'. */
  preset?: string;
  /** Initial V in mV (default EL; w starts at 0). */
  v0?: number;
  /** Largest Euler substep in ms. Default 0.1. */
  substepMs?: number;
}

/** Resolved AdEx parameters. */
export interface AdexResolved extends AdexPhysical {
  preset: string;
  v0: number;
  substepMs: number;
  dtMs: number;
  nSub: number;
  hMs: number;
}

const ADEX_KEYS = ['preset', 'C', 'gL', 'EL', 'deltaT', 'VT', 'tauWMs', 'a', 'b', 'Vr', 'Vpeak', 'v0', 'substepMs', 'dtMs', 'nSub', 'hMs'] as const;

/** Validate and fill AdEx parameters for step size dtMs. */
export function resolveAdex(params: Partial<AdexResolved> | AdexParams | undefined, dtMs: number): AdexResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('adex', params, ADEX_KEYS);
  const p = (params ?? {}) as Partial<AdexResolved>;
  const preset = checkOneOf('preset', p.preset ?? 'regular', Object.keys(ADEX_PRESETS));
  const base = ADEX_PRESETS[preset];
  const pos = { min: 0, minExclusive: true };
  const C = checkNumber('C', p.C ?? base.C, { ...pos, unit: 'pF' });
  const gL = checkNumber('gL', p.gL ?? base.gL, { ...pos, unit: 'nS' });
  const EL = checkNumber('EL', p.EL ?? base.EL, { unit: 'mV' });
  const deltaT = checkNumber('deltaT', p.deltaT ?? base.deltaT, { ...pos, unit: 'mV' });
  const VT = checkNumber('VT', p.VT ?? base.VT, { unit: 'mV' });
  const tauWMs = checkTau('tauWMs', p.tauWMs ?? base.tauWMs);
  const a = checkNumber('a', p.a ?? base.a, { unit: 'nS' });
  const b = checkNumber('b', p.b ?? base.b, { unit: 'pA' });
  const Vr = checkNumber('Vr', p.Vr ?? base.Vr, { unit: 'mV' });
  const Vpeak = checkNumber('Vpeak', p.Vpeak ?? base.Vpeak, { min: VT, minExclusive: true, unit: 'mV' });
  if (Vr >= Vpeak) throw new ParameterError(`adex: Vr = ${Vr} mV must be below Vpeak = ${Vpeak} mV`);
  const v0 = checkNumber('v0', p.v0 ?? EL, { max: Vpeak, maxExclusive: true, unit: 'mV' });
  const substepMs = checkNumber('substepMs', p.substepMs ?? 0.1, { ...pos, max: 1, unit: 'ms' });
  const nSub = Math.max(1, Math.ceil(dt / substepMs - 1e-9));
  return { preset, C, gL, EL, deltaT, VT, tauWMs, a, b, Vr, Vpeak, v0, substepMs, dtMs: dt, nSub, hMs: dt / nSub };
}

/** Pure AdEx step over dtMs (nSub Euler substeps) through `backend.adexStep`; input I in pA; writes v, w, s. */
export function adexStep(backend: Backend, p: AdexResolved, state: NeuronState, input: Tensor): void {
  const [vt, wt, st] = checkStep('adex', state, ['v', 'w', 's'], input);
  backend.adexStep(vt, wt, st, input, p);
}

/** Resting potential: the fixed point of (V, w) at I = 0 below VT (Newton from EL); EL when Newton fails. */
export function adexRest(p: AdexResolved): number {
  const { gL, EL, deltaT, VT, a } = p;
  let v = EL;
  for (let k = 0; k < 50; k++) {
    const ex = Math.exp((v - VT) / deltaT);
    const f = -(gL + a) * (v - EL) + gL * deltaT * ex;
    const df = -(gL + a) + gL * ex;
    if (df === 0) break;
    const next = v - f / df;
    if (!Number.isFinite(next)) break;
    if (Math.abs(next - v) < 1e-12) return next;
    v = next;
  }
  return Number.isFinite(v) && v < VT ? v : EL;
}

/** Linearised input response of the V equation at rest, w held fixed (see the file comment). */
export function adexInputResponse(p: AdexResolved): InputResponse {
  const vr = adexRest(p);
  const arg = Math.min((vr - p.VT) / p.deltaT, (p.Vpeak - p.VT) / p.deltaT);
  const lambda = (p.gL * (Math.exp(arg) - 1)) / p.C;
  const { decay, gain } = eulerSubstepResponse(lambda, 1 / p.C, p.hMs, p.nSub);
  return {
    decays: [Math.min(1, Math.max(0, decay))], gain, exact: false,
    approximation: `V equation linearised at rest (V = ${vr.toPrecision(4)} mV, dV'/dV = ${lambda.toPrecision(3)}/ms) with w held fixed; spike resets ignored`,
  };
}

/** The AdEx model, registered as 'adex'. */
export const adex: NeuronModel<AdexResolved> = {
  name: 'adex',
  stateVars: ['v', 'w', 's'],
  voltageVar: 'v',
  spikeVar: 's',
  resolve: (params, dtMs) => resolveAdex(params, dtMs),
  init: (backend, batch, n, p) => allocState(backend, batch, n, { v: p.v0, w: 0, s: 0 }),
  step: adexStep,
  threshold: (p) => p.Vpeak,
  inputResponse: adexInputResponse,
};

registerModel(adex);
