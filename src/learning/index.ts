/**
 * Learning rules: importing this module registers them in the rule registry, each form under its
 * rule name and config.mode (createRule builds the form the config names):
 *
 * - 'sigprop': 'rate' = non-spiking MLP (sigprop-rate.ts), 'spiking' = LIF network learning online
 *   in time (sigprop-spiking.ts), 'continuous' = Hebbian continuous-time (hebbian.ts).
 * - 'pepita': PEPITA and its variants, MEMPEPITA (pepita.ts); 'fa', 'dfa': feedback alignment and
 *   direct feedback alignment (feedback-alignment.ts), on the rate MLP; 'pepita' and 'dfa' also in
 *   mode 'spiking' on the LIF network, online in time (pepita-spiking.ts, dfa-spiking.ts).
 * - 'ff': Forward-Forward, mode 'rate' (MLP) or 'spiking' (LIF, online in time).
 * - 'bp': backprop MLP baseline; 'bptt': backprop through time with a surrogate gradient.
 */
import { registerRule } from './rule.js';
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

// Each rule's forms by config.mode (createRule picks the one the config names).
registerRule('sigprop', (c, ctx) => new RateSigprop(c, ctx), 'rate', { asyncReads: true });
registerRule('sigprop', (c, ctx) => new SpikingSigprop(c, ctx), 'spiking', { asyncReads: true });
registerRule('sigprop', (c, ctx) => new HebbianSigprop(c, ctx), 'continuous');
// BPTT's asynchronous form covers layers whose backward step runs on the device (LIF, synaptic)
registerRule('bptt', (c, ctx) => new BpttRule(c, ctx), undefined, {
  asyncReads: (c) => (c.layers ?? []).slice(0, -1).every((l) => ['lif', 'synaptic'].includes(typeof l.model === 'string' ? l.model : l.model === undefined ? 'lif' : '')),
});
registerRule('bp', (c, ctx) => new BackpropMlp(c, ctx), undefined, { asyncReads: true });
// PEPITA (and its variants, MEMPEPITA), feedback alignment and direct feedback alignment: rate MLPs;
// PEPITA and DFA also on LIF networks, online in time
registerRule('pepita', (c, ctx) => new PepitaRule(c, ctx), 'rate', { asyncReads: true });
registerRule('pepita', (c, ctx) => new SpikingPepita(c, ctx), 'spiking', { asyncReads: true });
registerRule('fa', (c, ctx) => new FeedbackAlignmentMlp('fa', c, ctx), 'rate', { asyncReads: true });
registerRule('dfa', (c, ctx) => new FeedbackAlignmentMlp('dfa', c, ctx), 'rate', { asyncReads: true });
registerRule('dfa', (c, ctx) => new SpikingDfa(c, ctx), 'spiking', { asyncReads: true });
// Forward-Forward: the MLP and LIF layers (online in time)
registerRule('ff', (c, ctx) => new ForwardForward(c, ctx), 'rate', { asyncReads: true });
registerRule('ff', (c, ctx) => new SpikingForwardForward(c, ctx), 'spiking', { asyncReads: true });
