/**
 * The ruleParams keys of PEPITA (src/learning/pepita.ts) and of feedback alignment / direct
 * feedback alignment (src/learning/feedback-alignment.ts), with a one-line description each.
 * settings.ts spreads them into RULE_PARAM_DOCS (the keys a config's ruleParams may hold).
 * PEPITA also reads the shared keys dropout (default 0.1 for PEPITA: keep 0.9), initScale
 * (default √6 for PEPITA: He-uniform) and activation; its weight decay is the config's weightDecay.
 */
export const PEPITA_PARAM_DOCS: Record<string, string> = {
  fScale: 'PEPITA: scale of the fixed input projection F = fScale·U(±√(6/d_in)) [d_in, classes] (> 0, default 0.05); with mirror, the target std of F is fScale·√(2/d_in)',
  lastError: "PEPITA: error of the last layer's update ΔW_L = −η·e·(h_{L−1}^mod)ᵀ/B: 'modulated' (e^mod of the second pass, Dellaferrera & Kreiman, default) or 'clean' (e of the first pass, as Srinivasan et al.'s code)",
  modulationSign: 'PEPITA: +1 (x_mod = x + F·e, Dellaferrera & Kreiman, default) or -1 (x_mod = x − F·e, Srinivasan et al.; the default with mirror, where F is aligned, not anti-aligned, with the forward weights)',
  pepitaUpdate: "PEPITA: 'pepita' (ΔW_ℓ = −η(h_ℓ − h_ℓ^mod)(h_{ℓ−1}^mod)ᵀ/B, default), 'hebbian' (PEPITA-Hebbian: −η(h_ℓ h_{ℓ−1}ᵀ − h_ℓ^mod (h_{ℓ−1}^mod)ᵀ)/B, last layer −η(y h_{L−1}ᵀ − onehot (h_{L−1}^mod)ᵀ)/B) or 'time-local' (the same two terms as two optimiser steps: the anti-Hebbian one right after the clean pass, the Hebbian one after the modulated pass, which draws new dropout masks as Srinivasan et al.'s code)",
  normalizeActivations: 'PEPITA: divide each hidden layer\'s activity (after ReLU and dropout) by its Frobenius norm over the batch, each pass on its own (Srinivasan et al.\'s activation normalisation; default false)',
  mempepita: 'PEPITA: MEMPEPITA (Pau & Aymone): keep only the output error between the passes and recompute the clean activations in the modulated pass (clean and modulated rows side by side) instead of storing them; same updates, less stored activity, one more forward pass (default false)',
  mirror: 'PEPITA: weight mirroring of F (Srinivasan et al.): F = B_0·B_1·…·B_L, one factor per layer, each pulled towards its layer\'s weights by noise of scale mirrorNoise sent through that layer, then rescaled to keep the std of F (default false)',
  mirrorLearningRate: 'PEPITA mirror: learning rate of the factors B_ℓ (plain SGD; default 0.1)',
  mirrorWeightDecay: 'PEPITA mirror: L2 weight decay of the factors B_ℓ (default 0.5)',
  mirrorNoise: 'PEPITA mirror: std of the noise sent through each layer (default 0.1)',
  mirrorEvery: 'PEPITA mirror: mirror after every batch of each epoch e with (e + 1) % mirrorEvery = 0 (epochs 0-based; default 1: every epoch)',
  preMirror: 'PEPITA mirror: number of first epochs that only mirror (no forward-weight update; default 0)',
  feedbackScale: "FA / DFA: scale of the fixed random feedback matrices: FA's B_ℓ (shape of W_ℓ) uniform in ±feedbackScale·initScale/√fanIn, DFA's B_ℓ [n_ℓ, classes] uniform in ±feedbackScale/√classes (default 1)",
};
