/**
 * Discrete leaky integrator (non-spiking), the readout of spiking networks and NIR's LI in
 * discrete time (dimensionless units):
 *   U[t] = β·U[t−1] + I[t]
 * β is given directly or from a time constant: β = exp(−dtMs/tauMs). Default β = 0.9.
 * State: u (the membrane, also the layer's output), [batch, n]. No spikes, no threshold.
 */
import type { Backend } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep, resolveDecay } from './common.js';
import type { NeuronModel, NeuronState } from './model.js';

/** User parameters of the discrete leaky integrator: `beta` or `tauMs` (or both, if they agree). */
export interface LiParams {
  /** Decay per step, in [0, 1]. */
  beta?: number;
  /** Time constant in ms (> 0); β = exp(−dtMs/tauMs). */
  tauMs?: number;
}

/** Resolved parameters of the discrete leaky integrator. */
export interface LiResolved {
  beta: number;
  tauMs: number;
  dtMs: number;
}

/** Validate and fill the leaky integrator's parameters for step size dtMs. */
export function resolveLi(params: LiParams | Partial<LiResolved> | undefined, dtMs: number): LiResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('li', params, ['beta', 'tauMs', 'dtMs']);
  const p = (params ?? {}) as Partial<LiResolved>;
  const [beta, tauMs] = resolveDecay('li', 'beta', 'tauMs', p.beta, p.tauMs, dt, 0.9);
  return { beta, tauMs, dtMs: dt };
}

/** Pure step: U ← β·U + I through the backend's axpby kernel. */
export function liStep(backend: Backend, p: LiResolved, state: NeuronState, input: Tensor): void {
  const [u] = checkStep('li', state, ['u'], input);
  backend.axpby(u, input, 1, p.beta);
}

/** The discrete leaky integrator, registered as 'li'. */
export const li: NeuronModel<LiResolved> = {
  name: 'li',
  stateVars: ['u'],
  voltageVar: 'u',
  outputVar: 'u',
  resolve: (params, dtMs) => resolveLi(params, dtMs),
  init: (backend, batch, n) => allocState(backend, batch, n, { u: 0 }),
  step: liStep,
  inputResponse: (p) => ({ decays: [p.beta], gain: 1, exact: true }),
};

registerModel(li);
