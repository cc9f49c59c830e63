/**
 * The neuron-model registry and the one import for everything in models/. Importing this module
 * registers every built-in model ('lif', 'synaptic', 'leaky', 'li', 'izhikevich', 'adex');
 * equation-defined models are registered by the user with `registerEquationModel(spec)` (or
 * `registerModel(defineEquationModel(spec))`).
 *
 *   import { getModel } from './models/registry.js';
 *   const lif = getModel('lif');
 *   const p = lif.resolve({ tauMs: 10 }, 1);          // dtMs = 1
 *   const state = lif.init(backend, batch, n, p);     // { u, s }, each [batch, n]
 *   lif.step(backend, p, state, input);               // input [batch, n]
 */
export { registerModel, getModel, hasModel, modelNames, type AnyNeuronModel } from './catalog.js';
export type { InputResponse, NeuronModel, NeuronState } from './model.js';
export * from './lif.js';
export * from './synaptic.js';
export * from './leaky.js';
export * from './li.js';
export * from './izhikevich.js';
export * from './adex.js';
export * from './li.js';
export * from './rate.js';
export * from './activations.js';
export { defineEquationModel, registerEquationModel, type EquationModelSpec, type EquationResolved } from './equation.js';
export { EQUATION_FUNCTIONS, EQUATION_CONSTANTS } from './equation-codegen.js';
