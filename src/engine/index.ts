/** The time-step engine: network, layers, synaptic delays. */
export { Network, type NetworkSpec, type NetworkWeights, type RunOptions, type RunObserver, type StepInput, type InputKind } from './network.js';
export { Layer, outputVarOf, PROPAGATIONS, type LayerSpec, type LayerWeights, type LayerWeightsInput, type Propagation, type WeightInit } from './layer.js';
export { DelayLine, checkDelays, maxDelay, type DelaySpec } from './delays.js';
