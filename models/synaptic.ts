/**
 * Synaptic (second-order) LIF after snnTorch's `Synaptic` (discrete time, dimensionless):
 *   I_syn[t] = α·I_syn[t−1] + I[t]
 *   U[t]     = β·U[t−1] + I_syn[t] − R[t]·θ   (reset as in the LIF model: subtract | zero | none,
 *                                             delayed to t+1 by default)
 *   S[t]     = H(U[t] − θ)
 *   U[t]     ← max(U[t], vMin)                (optional membrane floor, as in the LIF model)
 * α from `alpha` or `tauSynMs` (α = exp(−dtMs/tauSynMs)), β from `beta` or `tauMs`.
 * Where this differs from snnTorch: the reset to zero clears the decayed membrane and keeps the
 * step's synaptic input, U[t] = β·(1 − R[t])·U[t−1] + I_syn[t] (the LIF model's rule), while
 * snnTorch's Synaptic zeroes the whole new membrane, input included; the immediate reset
 * (resetDelay false) differs as in the LIF model (models/lif.ts).
 * State: u (voltage), isyn (synaptic current), s (spikes), each [batch, n].
 * The step runs through the backend's fused `synapticStep` kernel.
 * Input response (inputResponse): decays [α, β], gain 1, i.e. e¹[t] = α·e¹[t−1] + x[t],
 * e[t] = β·e[t−1] + e¹[t] and ∂U[t]/∂W_kj = e_k[t]; exact (between threshold crossings) for
 * reset 'subtract' and 'none', an approximation ignoring the zeroing for reset 'zero'.
 */
import type { Backend, SynapticKernelParams } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';
import { registerModel } from './catalog.js';
import { checkKnownKeys, checkStep, resolveDecay, allocState, checkDt } from './common.js';
import { lifInputResponse, resolveLif, type LifParams, type LifResolved } from './lif.js';
import type { NeuronModel, NeuronState } from './model.js';

/** User parameters of the synaptic LIF. Default α = 0.8, β = 0.9. */
export interface SynapticParams extends LifParams {
  /** Synaptic current decay per step, in [0, 1]. */
  alpha?: number;
  /** Synaptic time constant in ms (> 0); α = exp(−dtMs/tauSynMs). */
  tauSynMs?: number;
}

/** Resolved synaptic LIF parameters. */
export interface SynapticResolved extends LifResolved, SynapticKernelParams {
  /** Synaptic time constant in ms implied by α and dtMs. */
  tauSynMs: number;
}

const SYN_KEYS = ['alpha', 'tauSynMs', 'beta', 'tauMs', 'threshold', 'reset', 'resetDelay', 'vMin', 'dtMs'] as const;

/** Validate and fill synaptic LIF parameters for step size dtMs. */
export function resolveSynaptic(params: Partial<SynapticResolved> | SynapticParams | undefined, dtMs: number): SynapticResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('synaptic', params, SYN_KEYS);
  const { alpha, tauSynMs, ...rest } = (params ?? {}) as Partial<SynapticResolved>;
  const lifPart = resolveLif(rest, dt, 'synaptic');
  const [a, tauSyn] = resolveDecay('synaptic', 'alpha', 'tauSynMs', alpha, tauSynMs, dt, 0.8);
  return { ...lifPart, alpha: a, tauSynMs: tauSyn };
}

/** Pure synaptic LIF step: reads (u, isyn, s, input), writes them through `backend.synapticStep`. */
export function synapticStep(backend: Backend, p: SynapticResolved, state: NeuronState, input: Tensor): void {
  const [u, isyn, s] = checkStep('synaptic', state, ['u', 'isyn', 's'], input);
  backend.synapticStep(u, isyn, s, input, p);
}

/** The synaptic LIF model, registered as 'synaptic'. */
export const synaptic: NeuronModel<SynapticResolved> = {
  name: 'synaptic',
  stateVars: ['u', 'isyn', 's'],
  voltageVar: 'u',
  spikeVar: 's',
  resolve: (params, dtMs) => resolveSynaptic(params, dtMs),
  init: (backend, batch, n) => allocState(backend, batch, n, { u: 0, isyn: 0, s: 0 }),
  step: synapticStep,
  threshold: (p) => p.threshold,
  inputResponse: (p) => lifInputResponse(p, [p.alpha, p.beta]),
};

registerModel(synaptic);
