/**
 * Helpers shared by the neuron models: parameter-key checks, dt checks, state allocation and
 * shape checks. Not part of the public API beyond what models/registry.ts re-exports.
 */
import type { Backend } from '../src/backend/backend.js';
import { closest } from '../src/config/didyoumean.js';
import { checkNumber, ParameterError, ShapeError } from '../src/errors.js';
import { shapeString, type Tensor } from '../src/tensor.js';
import type { NeuronState } from './model.js';

/** A parameter name the model does not have (a typo, usually); `hint` is the closest known name. */
export class UnknownParameterError extends ParameterError {
  readonly hint: string | undefined;
  constructor(readonly model: string, readonly key: string, readonly known: readonly string[]) {
    const hint = closest(key, known);
    super(`${model}: unknown parameter "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}; known parameters: ${known.join(', ')}`);
    this.hint = hint;
  }
}

/** Throw an UnknownParameterError if `params` has a key that `allowed` does not list (catches typos). */
export function checkKnownKeys(model: string, params: object | undefined, allowed: readonly string[]): void {
  if (params === undefined || params === null) return;
  if (typeof params !== 'object') {
    throw new ParameterError(`${model}: parameters must be an object, got ${typeof params}`);
  }
  for (const k of Object.keys(params)) {
    if ((params as Record<string, unknown>)[k] === undefined) continue;
    if (!allowed.includes(k)) throw new UnknownParameterError(model, k, allowed);
  }
}

/** Validate the step size: dtMs must be a finite number > 0 (ms). */
export function checkDt(dtMs: unknown): number {
  return checkNumber('dtMs', dtMs, { min: 0, minExclusive: true, unit: 'ms' });
}

/** Validate a time constant: finite > 0 (ms). */
export function checkTau(name: string, tauMs: unknown): number {
  return checkNumber(name, tauMs, { min: 0, minExclusive: true, unit: 'ms' });
}

/** Validate a per-step decay factor in [0, 1]. */
export function checkDecay(name: string, value: unknown): number {
  return checkNumber(name, value, { min: 0, max: 1 });
}

/**
 * Resolve a decay factor given directly (`decay`, in [0, 1]) or from a time constant
 * (decay = exp(−dtMs/tauMs)). When both are given they must agree (relative 1e-6).
 * Returns [decay, tauMs] with tauMs = −dtMs/ln(decay) when only the decay was given.
 */
export function resolveDecay(
  model: string,
  decayName: string,
  tauName: string,
  decay: unknown,
  tauMs: unknown,
  dtMs: number,
  defaultDecay: number,
): [number, number] {
  if (tauMs !== undefined && decay !== undefined) {
    // resolved parameters carry both; the limits β = 0 (τ = 0) and β = 1 (τ = ∞) are consistent
    const d = checkDecay(decayName, decay);
    if ((d === 0 && tauMs === 0) || (d === 1 && tauMs === Infinity)) return [d, tauMs];
  }
  if (tauMs !== undefined) {
    const tau = checkTau(tauName, tauMs);
    const fromTau = Math.exp(-dtMs / tau);
    if (decay !== undefined) {
      const d = checkDecay(decayName, decay);
      if (Math.abs(d - fromTau) > 1e-6 * Math.max(1, Math.abs(fromTau))) {
        throw new ParameterError(
          `${model}: ${decayName} = ${d} and ${tauName} = ${tau} ms disagree at dtMs = ${dtMs} ` +
            `(exp(-dtMs/${tauName}) = ${fromTau}); give only one of them`,
        );
      }
    }
    return [fromTau, tau];
  }
  const d = decay === undefined ? defaultDecay : checkDecay(decayName, decay);
  return [d, d <= 0 ? 0 : d >= 1 ? Infinity : -dtMs / Math.log(d)];
}

/** Validate a boolean parameter. */
export function checkBool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ParameterError(`${name} = ${JSON.stringify(value)} is not allowed; ${name} must be true or false`);
  }
  return value;
}

/** Validate the population size (positive integers). */
export function checkPopulation(batch: number, n: number): void {
  checkNumber('batch', batch, { min: 1, integer: true });
  checkNumber('n', n, { min: 1, integer: true });
}

/** Allocate the named state tensors [batch, n], each filled with its resting value. */
export function allocState(backend: Backend, batch: number, n: number, rest: Record<string, number>): NeuronState {
  checkPopulation(batch, n);
  const state: NeuronState = {};
  for (const [name, value] of Object.entries(rest)) {
    const t = backend.tensor([batch, n]);
    if (value !== 0) backend.fill(t, value);
    state[name] = t;
  }
  return state;
}

/**
 * Check that every listed state variable exists and that it and the input have the same shape.
 * Returns the state tensors in the order given.
 */
export function checkStep(model: string, state: NeuronState, vars: readonly string[], input: Tensor): Tensor[] {
  const out: Tensor[] = [];
  for (const v of vars) {
    const t = state[v];
    if (!t) throw new ShapeError(`${model}: state variable "${v}" is missing; state must hold ${vars.join(', ')}`);
    if (t.size !== input.size || t.shape.length !== input.shape.length || t.shape.some((d, i) => d !== input.shape[i])) {
      throw new ShapeError(
        `${model}: input has shape ${shapeString(input.shape)} but state "${v}" has shape ${shapeString(t.shape)}; they must match`,
      );
    }
    out.push(t);
  }
  return out;
}

/**
 * Decay and gain over one step of `nSub` forward-Euler substeps of length hMs of the linear
 * equation dv/dt = λ·v + c·I (I constant over the step): each substep multiplies v by
 * m = 1 + hMs·λ, so v[t] = m^nSub·v[t−1] + c·hMs·(1 + m + … + m^(nSub−1))·I[t].
 * Used to linearise the voltage equations of the substepped models (izhikevich, adex).
 */
export function eulerSubstepResponse(lambda: number, c: number, hMs: number, nSub: number): { decay: number; gain: number } {
  const m = 1 + hMs * lambda;
  let decay = 1, sum = 0;
  for (let k = 0; k < nSub; k++) {
    sum += decay;
    decay *= m;
  }
  return { decay, gain: c * hMs * sum };
}
