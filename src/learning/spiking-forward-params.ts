/**
 * The ruleParams keys of the spiking forms of PEPITA and DFA (pepita-spiking.ts, dfa-spiking.ts),
 * with a one-line description each; settings.ts spreads them into RULE_PARAM_DOCS. The names are
 * those of the rate forms (fScale, lastError, modulationSign, feedbackScale) so that one config's
 * ruleParams mean the same thing in mode 'rate' and mode 'spiking'. Both spiking forms also read
 * the shared keys dropout (hidden units, one mask per sample and batch, the same in PEPITA's two
 * passes), initScale and readoutBeta.
 */
export const SPIKING_FORWARD_PARAM_DOCS: Record<string, string> = {
  fScale: 'PEPITA: scale of the fixed input projection F = fScale·U(±√(6/d_in)) [d_in, classes] (> 0, default 0.05)',
  lastError: "PEPITA: error of the readout's update: 'modulated' (e^mod of the second pass, Dellaferrera & Kreiman, default) or 'clean' (e of the first pass, as Srinivasan et al.'s code)",
  modulationSign: 'PEPITA: +1 (x_mod = x + F·e, Dellaferrera & Kreiman, default) or -1 (x_mod = x − F·e, Srinivasan et al.)',
  centerDifference: 'spiking PEPITA: subtract each hidden unit\'s batch mean of the rate difference r − r^mod before the update (default true): a zero-mean modulation raises the mean firing of sub-threshold LIF units, a bias that would otherwise drift the weights and rates up; false: the rate form\'s rule',
  antithetic: 'spiking PEPITA: a third pass on x − F·e over the same spikes and masks, and the hidden difference (r^− − r^mod)/2 in place of r − r^mod, which cancels the even-order (rate-raising) response to the modulation (default false: the two passes of PEPITA)',
  readoutLearningRate: 'spiking PEPITA / DFA: base learning rate of the readout (default: learningRate; the schedule applies to it as to the hidden layers)',
  feedbackScale: "DFA: scale of the fixed random feedback matrices B_ℓ [n_ℓ, classes], uniform in ±feedbackScale/√classes (default 1)",
};
