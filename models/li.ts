/**
 * Discrete leaky integrator without spikes (snnTorch-style readout neuron):
 *   U[t] = β·U[t−1] + I[t]
 * β is given directly or from a time constant: β = exp(−dtMs/tauMs) (default β = 0.9).
 * State: u (the voltage and the output), [batch, n]. No threshold, no reset.
 * The step runs through the backend's `axpby` kernel (u ← 1·I + β·u).
 * Input response (inputResponse): ∂U[t]/∂W_kj = e_k[t] with e[t] = β·e[t−1] + x[t]
 * (decays [β], gain 1), exact.
 */
import type { Backend } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep, resolveDecay } from './common.js';
import type { NeuronModel, NeuronState } from './model.js';

/** User parameters of the leaky integrator 'li'. Give `beta` or `tauMs` (or both, if they agree); default β = 0.9. */
export interface LiParams {
  /** Decay per step, in [0, 1]. */
  beta?: number;
  /** Time constant in ms (> 0); β = exp(−dtMs/tauMs). */
  tauMs?: number;
}

/** Resolved 'li' parameters. */
export interface LiResolved {
  beta: number;
  /** Time constant in ms implied by β and dtMs (0 when β = 0, Infinity when β = 1). */
  tauMs: number;
  /** Step size in ms these parameters were resolved for. */
  dtMs: number;
}

const LI_KEYS = ['beta', 'tauMs', 'dtMs'] as const;

/** Validate and fill 'li' parameters for step size dtMs. Throws ParameterError naming the bad parameter. */
export function resolveLi(params: Partial<LiResolved> | LiParams | undefined, dtMs: number): LiResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('li', params, LI_KEYS);
  const p = (params ?? {}) as Partial<LiResolved>;
  const [beta, tauMs] = resolveDecay('li', 'beta', 'tauMs', p.beta, p.tauMs, dt, 0.9);
  return { beta, tauMs, dtMs: dt };
}

/** Pure 'li' step: u ← β·u + I through `backend.axpby`. */
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
  integrator: (p) => ({ stateVar: 'u', decay: p.beta }),
  inputResponse: (p) => ({ decays: [p.beta], gain: 1, exact: true }),
};

registerModel(li);
