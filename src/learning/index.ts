/**
 * Learning rules: importing this module registers them in the rule registry.
 *
 * - 'sigprop': dispatches on config.mode through `sigpropModes` ('rate' = non-spiking MLP,
 *   'spiking' = LIF network learning online in time, 'continuous' = Hebbian continuous-time).
 * - 'bp': backprop MLP baseline; 'bptt': backprop through time with a surrogate gradient.
 * - 'pepita': PEPITA and its variants, MEMPEPITA (pepita.ts); 'fa', 'dfa': feedback alignment and
 *   direct feedback alignment (feedback-alignment.ts). All three train the rate MLP.
 * - 'ff': Forward-Forward, config.mode 'rate' (MLP) or 'spiking' (LIF, online in time).
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
import { PepitaRule } from './pepita.js';
import { FeedbackAlignmentMlp } from './feedback-alignment.js';
import { ForwardForward } from './forward-forward.js';
import { SpikingForwardForward } from './forward-forward-spiking.js';
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
export { PepitaRule, resolvePepitaSettings, alignmentAngleDeg, type PepitaSettings, type PepitaMemory } from './pepita.js';
export { FeedbackAlignmentMlp } from './feedback-alignment.js';
export { ForwardForward } from './forward-forward.js';
export { SpikingForwardForward } from './forward-forward-spiking.js';
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
// PEPITA (and its variants, MEMPEPITA), feedback alignment and direct feedback alignment: rate MLPs
registerRule('pepita', (c, ctx) => new PepitaRule(c, ctx));
registerRule('fa', (c, ctx) => new FeedbackAlignmentMlp('fa', c, ctx));
registerRule('dfa', (c, ctx) => new FeedbackAlignmentMlp('dfa', c, ctx));

/** Forward-Forward variants by config.mode. */
export const ffModes = new Map<string, RuleFactory>([
  ['rate', (c, ctx) => new ForwardForward(c, ctx)],
  ['spiking', (c, ctx) => new SpikingForwardForward(c, ctx)],
]);

registerRule('ff', (config, ctx) => {
  const mode = config.mode ?? 'spiking';
  const f = ffModes.get(mode);
  if (!f) throw new ParameterError(`mode = "${mode}" is not supported by rule "ff" (Forward-Forward); mode must be one of: ${[...ffModes.keys()].join(', ')}`);
  return f(config, ctx);
});
// spiking forms of PEPITA and DFA (mode 'spiking'); their rate forms register under the same names
registerSpikingForm('pepita', (c, ctx) => new SpikingPepita(c, ctx));
registerSpikingForm('dfa', (c, ctx) => new SpikingDfa(c, ctx));
