/**
 * Continuous-time leaky integrator (CTRNN unit):  τ·dh/dt = −h + I(t),  a = φ(h).
 * I is the total input current the synapse already computed (W·x + b), held constant over a
 * step of dtMs (piecewise-constant input). State: h (the "voltage", [batch, n]) and a = φ(h).
 * No spikes.
 *
 * Integration methods (registry `integrators`): for constant I over the step every one-step
 * method reduces to  h ← h + g·(I − h)  with a gain g that depends only on x = dtMs/τ:
 *   'exact'  exponential Euler, g = 1 − e^{−x}: exact for piecewise-constant input (default);
 *   'euler'  forward Euler, g = x: first order, stable for x < 2;
 *   'rk4'    classic four-stage Runge–Kutta, g = x − x²/2 + x³/6 − x⁴/24: fourth order,
 *            stable for x < about 2.78.
 * Each integrator is written as its literal scalar one-step rule (`stepScalar`); the gain is
 * obtained once per resolve by stepping h = 0 towards I = 1 (valid because the ODE is linear).
 * Input response (inputResponse): h[t] = (1 − g)·h[t−1] + g·I[t], so ∂h[t]/∂W_kj = g·e_k[t] with
 * e[t] = (1 − g)·e[t−1] + x[t] (decays [1 − g], gain g), exact for every integrator.
 */
import type { Backend } from '../src/backend/backend.js';
import { checkNumber, checkOneOf, ParameterError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { getActivation } from './activations.js';
import { registerModel } from './catalog.js';
import { allocState, checkDt, checkKnownKeys, checkStep, checkTau } from './common.js';
import type { NeuronModel, NeuronState } from './model.js';

/** A one-step integrator of dh/dt = (I − h)/τ with I constant over the step. */
export interface LeakyIntegrator {
  readonly name: string;
  /** Global order of accuracy (error ∝ dt^order). */
  readonly order: number;
  /** Largest stable x = dt/τ (Infinity when unconditionally stable). */
  readonly maxStableX: number;
  /** One step of size dtMs from h with constant input I; returns the new h. */
  stepScalar(h: number, I: number, dtMs: number, tauMs: number): number;
}

const rhs = (h: number, I: number, tauMs: number): number => (I - h) / tauMs;

/** Integrators for the leaky integrator, by name. */
export const integrators: ReadonlyMap<string, LeakyIntegrator> = new Map<string, LeakyIntegrator>([
  ['exact', { name: 'exact', order: Infinity, maxStableX: Infinity,
    stepScalar: (h, I, dt, tau) => h - Math.expm1(-dt / tau) * (I - h) }],
  ['euler', { name: 'euler', order: 1, maxStableX: 2,
    stepScalar: (h, I, dt, tau) => h + dt * rhs(h, I, tau) }],
  ['rk4', { name: 'rk4', order: 4, maxStableX: 2.785,
    stepScalar: (h, I, dt, tau) => {
      const k1 = rhs(h, I, tau);
      const k2 = rhs(h + (dt / 2) * k1, I, tau);
      const k3 = rhs(h + (dt / 2) * k2, I, tau);
      const k4 = rhs(h + dt * k3, I, tau);
      return h + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4);
    } }],
]);

/** User parameters of the leaky integrator. */
export interface LeakyParams {
  /** Time constant τ in ms (> 0). Default 10. */
  tauMs?: number;
  /** Name of the rate nonlinearity φ (see activationNames()). Default 'tanh'. */
  activation?: string;
  /** Integration method: 'exact' (default), 'euler', 'rk4'. */
  method?: string;
  /** Initial (resting) value of h. Default 0. */
  h0?: number;
}

/** Resolved leaky-integrator parameters. */
export interface LeakyResolved {
  tauMs: number;
  activation: string;
  method: string;
  h0: number;
  dtMs: number;
  /** Per-step gain g: h ← h + g·(I − h). */
  gain: number;
}

const LEAKY_KEYS = ['tauMs', 'activation', 'method', 'h0', 'dtMs', 'gain'] as const;

/** Validate and fill leaky-integrator parameters for step size dtMs. */
export function resolveLeaky(params: Partial<LeakyResolved> | LeakyParams | undefined, dtMs: number): LeakyResolved {
  const dt = checkDt(dtMs);
  checkKnownKeys('leaky', params, LEAKY_KEYS);
  const p = (params ?? {}) as Partial<LeakyResolved>;
  const tauMs = checkTau('tauMs', p.tauMs ?? 10);
  const activation = getActivation(p.activation ?? 'tanh').name;
  const method = checkOneOf('method', p.method ?? 'exact', [...integrators.keys()]);
  const h0 = checkNumber('h0', p.h0 ?? 0);
  const integ = integrators.get(method)!;
  const x = dt / tauMs;
  if (x >= integ.maxStableX) {
    throw new ParameterError(
      `leaky: method '${method}' is unstable for dtMs/tauMs = ${x.toPrecision(4)}; dtMs/tauMs must be < ${integ.maxStableX} ` +
        `(reduce dtMs, increase tauMs, or use method 'exact')`,
    );
  }
  const gain = integ.stepScalar(0, 1, dt, tauMs);
  return { tauMs, activation, method, h0, dtMs: dt, gain };
}

/** Pure leaky-integrator step: h ← h + g·(I − h), a ← φ(h), through `backend.leakyStep`. */
export function leakyStep(backend: Backend, p: LeakyResolved, state: NeuronState, input: Tensor): void {
  const [h, a] = checkStep('leaky', state, ['h', 'a'], input);
  backend.leakyStep(h, a, input, p.gain, p.activation);
}

/** The continuous-time leaky integrator, registered as 'leaky'. */
export const leaky: NeuronModel<LeakyResolved> = {
  name: 'leaky',
  stateVars: ['h', 'a'],
  voltageVar: 'h',
  outputVar: 'a',
  resolve: (params, dtMs) => resolveLeaky(params, dtMs),
  init: (backend, batch, n, p) => allocState(backend, batch, n, { h: p.h0, a: getActivation(p.activation).f(p.h0) }),
  step: leakyStep,
  inputResponse: (p) => ({ decays: [1 - p.gain], gain: p.gain, exact: true }),
};

registerModel(leaky);
