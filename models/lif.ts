/**
 * Leaky integrate-and-fire with snnTorch `Leaky` semantics (discrete time, dimensionless units):
 *   R[t] = S[t−1]                      (resetDelay true, default) or 0 (then reset right after the spike)
 *   U[t] = β·U[t−1] + I[t] − R[t]·θ    (reset 'subtract', default)
 *   U[t] = β·(1−R[t])·U[t−1] + I[t]    (reset 'zero')
 *   U[t] = β·U[t−1] + I[t]             (reset 'none')
 *   S[t] = H(U[t] − θ)  (strictly greater than θ)
 *   U[t] ← max(U[t], vMin)             (only with the optional membrane floor vMin < θ)
 * β is given directly or from a membrane time constant: β = exp(−dtMs/tauMs).
 * Where this differs from snnTorch's Leaky: with resetDelay false, the reset by subtraction is
 * applied once, right after the spike (U[t] = A[t] − θ with A[t] = β·U[t−1] + I[t]); snnTorch's
 * reset_delay=False subtracts again at the next step while U stays above θ. The BPTT baseline's
 * gradient keeps the path through that immediate reset, as snnTorch's non-detached spike does
 * (src/learning/bptt.ts).
 * State: u (membrane voltage) and s (spikes of the last step), each [batch, n].
 * The step runs through the backend's fused `lifStep` kernel.
 * Input response (inputResponse): ∂U[t]/∂W_kj = e_k[t] with e[t] = β·e[t−1] + x[t] (decays [β],
 * gain 1), exact between threshold crossings for reset 'subtract' and 'none' (the reset detached);
 * for reset 'zero' an approximation that ignores the zeroing (exact false). The membrane floor
 * vMin is not part of it: the learning rules gate the gradient through the floor (Backend.gateBelow).
 */
import type { Backend, LifKernelParams, ResetMode } from '../src/backend/backend.js';
import { checkNumber, checkOneOf } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { allocState, checkBool, checkDt, checkKnownKeys, checkStep, resolveDecay } from './common.js';
import type { InputResponse, NeuronModel, NeuronState } from './model.js';

export const RESET_MODES: readonly ResetMode[] = ['subtract', 'zero', 'none'];

/** User parameters of the LIF model. Give `beta` or `tauMs` (or both, if they agree); default β = 0.9. */
export interface LifParams {
  /** Membrane decay per step, in [0, 1]. */
  beta?: number;
  /** Membrane time constant in ms (> 0); β = exp(−dtMs/tauMs). */
  tauMs?: number;
  /** Firing threshold θ (finite, > 0). Default 1. */
  threshold?: number;
  /** Reset mechanism. Default 'subtract'. */
  reset?: ResetMode;
  /** Apply the reset from S[t] at step t+1 (snnTorch default, true) or right after the spike (false). */
  resetDelay?: boolean;
  /**
   * Membrane floor (same units as θ, finite, < θ): U never falls below it, as a reversal potential
   * bounds hyperpolarisation. Default: none (snnTorch semantics, U unbounded below).
   */
  vMin?: number;
}

/** Resolved LIF parameters: every field filled, β derived, dtMs recorded. */
export interface LifResolved extends LifKernelParams {
  /** Membrane time constant in ms implied by β and dtMs (0 when β = 0, Infinity when β = 1). */
  tauMs: number;
  /** Step size in ms these parameters were resolved for. */
  dtMs: number;
}

const LIF_KEYS = ['beta', 'tauMs', 'threshold', 'reset', 'resetDelay', 'vMin', 'dtMs'] as const;

/** Validate and fill LIF parameters for step size dtMs. Throws ParameterError naming the bad parameter. */
export function resolveLif(params: Partial<LifResolved> | LifParams | undefined, dtMs: number, model = 'lif'): LifResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys(model, params, LIF_KEYS);
  const p = (params ?? {}) as Partial<LifResolved>;
  const [beta, tauMs] = resolveDecay(model, 'beta', 'tauMs', p.beta, p.tauMs, dt, 0.9);
  const threshold = checkNumber('threshold', p.threshold ?? 1, { min: 0, minExclusive: true });
  const reset = checkOneOf('reset', p.reset ?? 'subtract', RESET_MODES);
  const resetDelay = checkBool('resetDelay', p.resetDelay ?? true);
  const out: LifResolved = { beta, tauMs, threshold, reset, resetDelay, dtMs: dt };
  if (p.vMin !== undefined) out.vMin = checkNumber('vMin', p.vMin, { max: threshold, maxExclusive: true });
  return out;
}

/** Pure LIF step: reads (u, s, input), writes new u and s through `backend.lifStep`. */
export function lifStep(backend: Backend, p: LifResolved, state: NeuronState, input: Tensor): void {
  const [u, s] = checkStep('lif', state, ['u', 's'], input);
  backend.lifStep(u, s, input, p);
}

/**
 * Input response of the LIF-style reset on a filter chain `decays` with gain 1: exact for reset
 * 'subtract' and 'none' (the reset detached); for 'zero' the zeroing is ignored (approximation).
 */
export function lifInputResponse(p: Pick<LifResolved, 'reset'>, decays: number[]): InputResponse {
  if (p.reset === 'zero') {
    return {
      decays, gain: 1, exact: false,
      approximation: "reset 'zero' is ignored: the trace keeps the pre-spike history that the zeroing clears (exact for reset 'subtract' or 'none')",
    };
  }
  return { decays, gain: 1, exact: true };
}

/** The LIF model, registered as 'lif'. */
export const lif: NeuronModel<LifResolved> = {
  name: 'lif',
  stateVars: ['u', 's'],
  voltageVar: 'u',
  spikeVar: 's',
  resolve: (params, dtMs) => resolveLif(params, dtMs),
  init: (backend, batch, n) => allocState(backend, batch, n, { u: 0, s: 0 }),
  step: lifStep,
  threshold: (p) => p.threshold,
  inputResponse: (p) => lifInputResponse(p, [p.beta]),
};

registerModel(lif);
