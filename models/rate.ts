/**
 * Stateless rate unit (the layers of a non-spiking MLP, sigprop mode 'rate'):
 *   h[t] = I[t],   a[t] = φ(h[t])
 * h is the pre-activation (the input current W·x + b itself, no memory of earlier steps) and
 * a = φ(h) the activity passed to the next layer; φ is an activation of models/activations.ts
 * (param `activation`, default 'relu'; 'identity' gives a linear layer such as a readout).
 * A network of rate layers run for one step is an ordinary feed-forward MLP. No spikes.
 */
import type { Backend } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';
import { getActivation } from './activations.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep } from './common.js';
import type { NeuronModel, NeuronState } from './model.js';

/** User parameters of the rate unit. */
export interface RateParams {
  /** Name of the nonlinearity φ (see activationNames()). Default 'relu'. */
  activation?: string;
}

/** Resolved rate-unit parameters. */
export interface RateResolved {
  activation: string;
  dtMs: number;
}

/** Validate and fill the rate unit's parameters (dtMs is only checked: the unit has no time constant). */
export function resolveRate(params: RateParams | Partial<RateResolved> | undefined, dtMs: number): RateResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('rate', params, ['activation', 'dtMs']);
  const p = (params ?? {}) as Partial<RateResolved>;
  return { activation: getActivation(p.activation ?? 'relu').name, dtMs: dt };
}

/** Pure step: h ← I, a ← φ(h), through `backend.copy` and `backend.activation`. */
export function rateStep(backend: Backend, p: RateResolved, state: NeuronState, input: Tensor): void {
  const [h, a] = checkStep('rate', state, ['h', 'a'], input);
  backend.copy(h, input);
  backend.activation(a, h, p.activation, false);
}

/** The stateless rate unit, registered as 'rate'. */
export const rate: NeuronModel<RateResolved> = {
  name: 'rate',
  stateVars: ['h', 'a'],
  voltageVar: 'h',
  outputVar: 'a',
  resolve: (params, dtMs) => resolveRate(params, dtMs),
  init: (backend, batch, n, p) => allocState(backend, batch, n, { h: 0, a: getActivation(p.activation).f(0) }),
  step: rateStep,
  // h = I exactly: ∂h/∂W_kj = x_k (no filter memory)
  inputResponse: () => ({ decays: [0], gain: 1, exact: true }),
};

registerModel(rate);
