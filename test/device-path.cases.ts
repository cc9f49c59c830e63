/**
 * The rule configurations whose training path must run through Backend kernels only (used by
 * test/engine.device-path.test.ts on a guarded reference backend and test/engine.gpu.test.ts on the
 * gpu backend, whose tensors have no host data at all).
 */
import type { ExperimentConfig } from '../src/config/types.js';
import { Rng } from '../src/rng.js';

export const K = 6, C = 3, B = 4;

/** A tiny config of rule `over.rule` (default spiking sigprop) over K inputs and C classes. */
export function tiny(over: Partial<ExperimentConfig>): ExperimentConfig {
  return {
    dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', layers: [{ size: 5, params: { beta: 0.9, threshold: 0.5 } }, { size: C }],
    steps: 6, encoder: 'rate', optimizer: 'adam', learningRate: 0.01, ...over,
  };
}

/** One delay per connection of the first projection [K, 5], 0..3 steps (as the config's number type: see the cases). */
function perConnectionDelays(): number {
  const rng = new Rng(5);
  return Int32Array.from({ length: K * 5 }, () => rng.int(4)) as unknown as number;
}

/** An inline equation-defined LIF (models/equation.ts; steps through Backend.elementwise). */
const eqlif = { equations: 'dv/dt = (-v + I)/tau', threshold: 'v > vth', reset: 'v -= vth', parameters: { tau: 10, vth: 0.5 } };

export const DEVICE_PATH_CASES: [string, Partial<ExperimentConfig>][] = [
  ['spiking sigprop, surrogate mode', {}],
  ['spiking sigprop, voltage mode relative to θ', { representation: 'voltage', ruleParams: { voltageRelative: true } }],
  ['spiking sigprop with dropout', { ruleParams: { dropout: 0.2, inputDropout: 0.1 } }],
  ['spiking sigprop, class-signal loss', { loss: 'classce' }],
  ['spiking sigprop, L2 loss', { loss: 'l2' }],
  ['spiking sigprop, learned target projection', { targetProjection: 'learned' }],
  ['spiking sigprop with a membrane floor', { layers: [{ size: 5, params: { beta: 0.9, threshold: 0.5, vMin: -0.5 } }, { size: C }] }],
  ['spiking sigprop, recurrent and delayed layers', { layers: [{ size: 5, recurrent: 'all-to-all', delays: 2 }, { size: C }] }],
  // per-connection delays are a library feature (LayerSpec.delays an Int32Array [in, out]); the array goes through the config by a cast
  ['spiking sigprop, per-connection delays (0..3 steps), voltage mode', { representation: 'voltage', layers: [{ size: 5, delays: perConnectionDelays() }, { size: C }] }],
  ['spiking sigprop, recurrent layers with per-connection delays', { layers: [{ size: 5, recurrent: 'all-to-all', delays: perConnectionDelays() }, { size: C }] }],
  ['spiking sigprop, equation-defined LIF layers (voltage)', { representation: 'voltage', layers: [{ size: 5, model: eqlif as never }, { size: C }] }],
  ['spiking sigprop, synaptic LIF layers', { layers: [{ size: 5, model: 'synaptic', params: { alpha: 0.8, beta: 0.9, threshold: 0.5 } }, { size: C }] }],
  ['spiking sigprop, Izhikevich layers (voltage)', { representation: 'voltage', layers: [{ size: 5, model: 'izhikevich' }, { size: C }] }],
  ['spiking sigprop, AdEx layers (voltage)', { representation: 'voltage', layers: [{ size: 5, model: 'adex' }, { size: C }] }],
  ['spiking sigprop, leaky-integrator (li) layers (voltage)', { representation: 'voltage', layers: [{ size: 5, model: 'li', params: { beta: 0.8 } }, { size: C }] }],
  ['rate sigprop', { mode: 'rate', layers: [{ size: 5 }, { size: C }] }],
  ['rate sigprop, tanh, dropout, class-signal loss', { mode: 'rate', layers: [{ size: 5 }, { size: 4 }, { size: C }], loss: 'classce', ruleParams: { activation: 'tanh', dropout: 0.2, inputDropout: 0.1 } }],
  ['rate sigprop, L2 loss, learned targets', { mode: 'rate', layers: [{ size: 5 }, { size: C }], loss: 'l2', targetProjection: 'learned' }],
  ['rate sigprop, class-signal prediction', { mode: 'rate', layers: [{ size: 5 }, { size: C }], ruleParams: { predict: 'classSignal' } }],
  ['bptt', { rule: 'bptt' }],
  ['bp (backprop MLP, one engine step per batch)', { rule: 'bp', mode: 'rate', layers: [{ size: 5 }, { size: C }] }],
  ['bptt, synaptic LIF with an immediate reset', { rule: 'bptt', layers: [{ size: 5, model: 'synaptic', params: { alpha: 0.8, beta: 0.9, threshold: 0.5, resetDelay: false } }, { size: C }] }],
  ...([
    ['delta, target presynaptic factor, online', {}],
    ['delta, input presynaptic factor', { hebbPre: 'input' }],
    ['delta, both streams, via the optimiser', { hebbPre: 'both', hebbApply: 'optimizer' }],
    ['similarity, both streams, readout', { hebbPre: 'both', hebbPost: 'similarity', hebbApply: 'optimizer', predict: 'readout' }],
    ['similarity, both streams, online', { hebbPre: 'both', hebbPost: 'similarity' }],
    ['contrastive, target presynaptic factor', { hebbPost: 'contrastive' }],
    ['contrastive, both streams, readout', { hebbPost: 'contrastive', hebbPre: 'both', predict: 'readout' }],
  ] as [string, Record<string, unknown>][]).map(([name, rp]): [string, Partial<ExperimentConfig>] => [
    `continuous-time Hebbian sigprop, ${name}`,
    { mode: 'continuous', layers: [{ size: 5, model: 'leaky', params: { tauMs: 5, activation: 'relu' } }, { size: C }], ruleParams: rp },
  ]),
];
