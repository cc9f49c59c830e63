/**
 * Rate nonlinearities φ for the continuous-time leaky integrator (a = φ(h)), kept in a registry
 * (not a switch) so that users can add their own with `registerActivation`.
 */
import { ParameterError } from '../src/errors.js';

/** A scalar nonlinearity and its derivative (the derivative is what local learning rules need). */
export interface Activation {
  readonly name: string;
  /** φ(h). */
  f(h: number): number;
  /** φ'(h). */
  df(h: number): number;
}

const activations = new Map<string, Activation>();

/** Register an activation under `a.name` (replaces an existing one of the same name). */
export function registerActivation(a: Activation): void {
  activations.set(a.name, a);
}

/** Look up an activation; unknown names throw a ParameterError listing the known ones. */
export function getActivation(name: string): Activation {
  const a = activations.get(name);
  if (!a) {
    throw new ParameterError(`activation = "${name}" is not known; activation must be one of: ${activationNames().join(', ')}`);
  }
  return a;
}

/** Names of the registered activations, sorted. */
export function activationNames(): string[] {
  return [...activations.keys()].sort();
}

const sigmoid = (h: number): number => (h >= 0 ? 1 / (1 + Math.exp(-h)) : Math.exp(h) / (1 + Math.exp(h)));

registerActivation({ name: 'identity', f: (h) => h, df: () => 1 });
registerActivation({
  name: 'tanh',
  f: Math.tanh,
  df: (h) => {
    const y = Math.tanh(h);
    return 1 - y * y;
  },
});
registerActivation({
  name: 'sigmoid',
  f: sigmoid,
  df: (h) => {
    const y = sigmoid(h);
    return y * (1 - y);
  },
});
registerActivation({ name: 'relu', f: (h) => (h > 0 ? h : 0), df: (h) => (h > 0 ? 1 : 0) });
