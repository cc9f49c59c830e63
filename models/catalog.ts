/**
 * The store behind the model registry. Model files import `registerModel` from here (not from
 * registry.ts) so that registry.ts can import every model file without an import cycle.
 * Users should import from models/registry.ts.
 */
import { ParameterError } from '../src/errors.js';
import type { NeuronModel } from './model.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyNeuronModel = NeuronModel<any>;

const models = new Map<string, AnyNeuronModel>();

/**
 * Register a model under `model.name`. Registering a name twice throws unless `replace` is true
 * (so that two models cannot silently shadow each other).
 */
export function registerModel(model: AnyNeuronModel, replace = false): void {
  if (!model || typeof model.name !== 'string' || model.name.length === 0) {
    throw new ParameterError('registerModel: the model must have a non-empty string name');
  }
  if (models.has(model.name) && !replace) {
    throw new ParameterError(`registerModel: a model named "${model.name}" is already registered; pass replace = true to override it`);
  }
  models.set(model.name, model);
}

/** Look up a model by name. Unknown names throw a ParameterError listing the known names. */
export function getModel<P = Record<string, unknown>>(name: string): NeuronModel<P> {
  const m = models.get(name);
  if (!m) {
    throw new ParameterError(`model = "${name}" is not known; model must be one of: ${modelNames().join(', ')}`);
  }
  return m as NeuronModel<P>;
}

/** Whether a model of this name is registered. */
export function hasModel(name: string): boolean {
  return models.has(name);
}

/** Names of all registered models, sorted. */
export function modelNames(): string[] {
  return [...models.keys()].sort();
}
