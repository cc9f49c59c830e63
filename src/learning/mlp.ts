/**
 * The training step shared by the rate MLPs whose readout error travels back to every layer (bp,
 * fa, dfa): forward on the engine's rate network, softmax cross-entropy at the linear readout,
 * ∂W_ℓ = a_{ℓ−1}ᵀ·δ_ℓ and ∂b_ℓ = Σ_rows δ_ℓ through each layer's optimiser, with
 * δ_{ℓ−1} = (src·Mᵀ) ⊙ φ'(z_{ℓ−1}) where the rule chooses (src, M): backprop (δ_ℓ, W_ℓ), FA
 * (δ_ℓ, B_ℓ), DFA (e, B_{ℓ−1}). Split into a device part (kernels only) and a read part, so that
 * the same step runs on a backend with asynchronous read-back (rule.ts trainBatchAsync).
 */
import type { Backend } from '../backend/backend.js';
import type { Network } from '../engine/network.js';
import type { Tensor } from '../tensor.js';
import type { DenseParams } from './dense.js';
import { softmaxCELabelsDevice, softmaxCELabelsRead, syncedArgmax, type SoftmaxCELabelsDevice } from './losses.js';
import type { BatchResult, LayerStats } from './rule.js';
import type { Scratch } from './scratch.js';
import { rateForward } from './sigprop-rate.js';

/** The source and matrix of layer i's backward step: δ_{i−1} = (src·Mᵀ) ⊙ φ'(z_{i−1}). */
export type BackwardSource = (i: number, delta: Tensor, e: Tensor) => { src: Tensor; M: Tensor };

/** An MLP rule's parts the step uses. */
export interface MlpParts {
  be: Backend;
  sc: Scratch;
  net: Network;
  inputSize: number;
  /** Hidden layers, then the readout. */
  chain: DenseParams[];
  /** The hidden activation's name (models/activations.ts). */
  activation: string;
}

/**
 * The device part of one batch: forward, CE (the readout's error e = (softmax − onehot)/B in the
 * logits), backward through `back`, every layer's optimiser step (with `check`, each then checks
 * its weights are finite: a host read).
 */
export function mlpBatchDevice(m: MlpParts, x: Float32Array, labels: ArrayLike<number>, step: number, check: boolean, back: BackwardSource): SoftmaxCELabelsDevice {
  const { be, sc, chain } = m, B = labels.length, L = chain.length - 1;
  const { zs, as, logits } = rateForward(m.net, sc, m.inputSize, x, B);
  const ce = softmaxCELabelsDevice(be, sc, logits, labels, logits); // logits now hold e
  const e = logits;
  for (const l of chain) l.zeroGrad();
  let delta = e;
  for (let i = L; i >= 0; i--) {
    const layer = chain[i];
    be.spikeOuter(layer.W.grad, as[i], delta, 1);
    be.sumRows(layer.b.grad, delta);
    if (i === 0) break;
    const d = sc.get(`d${i - 1}`, [B, layer.inSize]), df = sc.get(`df${i - 1}`, [B, layer.inSize]);
    const { src, M } = back(i, delta, e);
    be.matmul(d, src, M, { transB: true });
    be.activation(df, zs[i - 1], m.activation, true);
    be.mul(d, d, df);
    delta = d;
  }
  for (const l of chain) l.step(step, check);
  return ce;
}

/** The read part: the batch's loss and accuracy. */
export function mlpBatchRead(be: Backend, ce: SoftmaxCELabelsDevice): BatchResult {
  const res = softmaxCELabelsRead(be, ce);
  return { loss: res.loss, layerLosses: [res.loss], accuracy: res.correct / ce.labels.length };
}

/** Per-layer statistics now: weight norm and learning rate (read when asked, not per batch). */
export function mlpLayerStats(chain: DenseParams[]): LayerStats[] {
  return chain.map((l, i) => ({ layer: i, label: l.name, weightNorm: l.weightNorm(), learningRate: l.opt.learningRate }));
}

/** Predicted classes (argmax of the logits), read back after a sync where reads are asynchronous. */
export function mlpPredictAsync(m: MlpParts, x: Float32Array, B: number): Promise<Int32Array> {
  const { logits } = rateForward(m.net, m.sc, m.inputSize, x, B);
  return syncedArgmax(m.be, logits, B, logits.shape[1]);
}
