/**
 * Learning rules: importing this module registers them in the rule registry.
 *
 * - 'sigprop': dispatches on config.mode through `sigpropModes` ('rate' = non-spiking MLP,
 *   'spiking' = LIF network learning online in time, 'continuous' = Hebbian continuous-time).
 * - 'bp': backprop MLP baseline; 'bptt': backprop through time with a surrogate gradient.
 * - spiking forms (registerSpikingForm, built when config.mode is 'spiking'): 'pepita'
 *   (pepita-spiking.ts) and 'dfa' (dfa-spiking.ts) on the LIF network, online in time.
 */
import type { ExperimentConfig } from '../config/types.js';
import { ParameterError } from '../errors.js';
import { registerRule, registerSpikingForm, type RuleContext, type RuleFactory, type TrainingRule } from './rule.js';
import { RateSigprop } from './sigprop-rate.js';
import { SpikingSigprop } from './sigprop-spiking.js';
import { BackpropMlp, BpttRule } from './bptt.js';
import { HebbianSigprop } from './hebbian.js';
import { SpikingPepita } from './pepita-spiking.js';
import { SpikingDfa } from './dfa-spiking.js';

export * from './rule.js';
export { createOptimizer, optimizerNames, registerOptimizer, scheduledLearningRate, type Optimizer, type Param } from './optimizers.js';
export {
  similarityCE, l2Loss, softmaxCE, softmaxCELabels, sameClassTargets, oneHotTargets, similarityTargets, lossAccumulator, readLoss, lossValue,
  type SimilarityOptions,
} from './losses.js';
export { resolveRuleSettings, RULE_PARAM_DOCS, type RuleSettings } from './settings.js';
export { RateSigprop } from './sigprop-rate.js';
export { SpikingSigprop } from './sigprop-spiking.js';
export { BackpropMlp, BpttRule } from './bptt.js';
export { HebbianSigprop } from './hebbian.js';
export { SpikingPepita, resolveSpikingPepitaSettings, type SpikingPepitaSettings } from './pepita-spiking.js';
export { SpikingDfa } from './dfa-spiking.js';

/** Sigprop variants by config.mode. */
export const sigpropModes = new Map<string, RuleFactory>([
  ['rate', (c, ctx) => new RateSigprop(c, ctx)],
  ['spiking', (c, ctx) => new SpikingSigprop(c, ctx)],
  ['continuous', (c, ctx) => new HebbianSigprop(c, ctx)],
]);

function sigpropFactory(config: ExperimentConfig, ctx: RuleContext): TrainingRule {
  const mode = config.mode ?? 'spiking';
  const f = sigpropModes.get(mode);
  if (!f) throw new ParameterError(`mode = "${mode}" is not supported by sigprop; mode must be one of: ${[...sigpropModes.keys()].join(', ')}`);
  return f(config, ctx);
}

registerRule('sigprop', sigpropFactory);
registerRule('bptt', (c, ctx) => new BpttRule(c, ctx));
registerRule('bp', (c, ctx) => new BackpropMlp(c, ctx));
// spiking forms of PEPITA and DFA (mode 'spiking'); their rate forms register under the same names
registerSpikingForm('pepita', (c, ctx) => new SpikingPepita(c, ctx));
registerSpikingForm('dfa', (c, ctx) => new SpikingDfa(c, ctx));
