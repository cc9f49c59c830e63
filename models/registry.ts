/**
 * The neuron-model registry. Importing this module registers every built-in model
 * ('lif', 'synaptic', 'leaky', 'izhikevich', 'adex'); equation-defined models are registered
 * by the user with `registerModel(defineEquationModel(...))`.
 *
 *   import { getModel } from './models/registry.js';
 *   const lif = getModel('lif'); const p = lif.resolve({ tauMs: 10 }, 1);
 */
export { registerModel, getModel, hasModel, modelNames, type AnyNeuronModel } from './catalog.js';
export type { NeuronModel, NeuronState } from './model.js';
import './lif.js';
import './synaptic.js';
import './leaky.js';
import './izhikevich.js';
import './adex.js';
export { defineEquationModel, registerEquationModel, type EquationModelSpec, type EquationResolved } from './equation.js';
