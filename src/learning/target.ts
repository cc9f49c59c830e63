/**
 * Sigprop's target-signal generator: the one-hot label c becomes t0 = g(S·c + d), a signal with
 * the input's shape that then travels forward through the same layers as the input. Here g is
 * the logistic sigmoid, so t0 lies in (0, 1) like pixel intensities and can be rate-coded the
 * same way as x. S [classes, inputSize] (row c is S·c) and d [inputSize] are either fixed random
 * or learned with their own local loss: class-signal cross-entropy between the inputs x and the
 * class signals (logits x̂·t̂0_cᵀ/τ), so t0_c moves toward what inputs of class c look like.
 * No gradient reaches S from any later layer.
 */
import type { Backend } from '../backend/backend.js';
import type { Rng } from '../rng.js';
import { lossAccumulator, readLoss, sameClassTargets, similarityCE } from './losses.js';
import type { Tensor } from '../tensor.js';
import { DenseParams } from './dense.js';
import { Scratch } from './scratch.js';
import type { RuleSettings } from './settings.js';

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

export class TargetGenerator {
  /** S is stored as DenseParams W [classes, inputSize] and d as its bias. */
  readonly proj: DenseParams;
  readonly learned: boolean;
  private readonly classLabels: Int32Array;
  /** deviceUpdate's r on the host ([x; t0 of every class], reused from batch to batch). */
  private R = new Float32Array(0);
  /**
   * The update's work tensors, its own: in the rule's, its similarity loss's tensors ([B + C,
   * inputSize]) took the names of a layer's ([rows, size]), so each batch freed and allocated them
   * twice (a wait for the threads at each free, a zero fill at each allocation).
   */
  private readonly sc: Scratch;

  constructor(
    readonly backend: Backend,
    rng: Rng,
    readonly numClasses: number,
    readonly inputSize: number,
    readonly settings: RuleSettings,
  ) {
    this.learned = settings.targetProjection === 'learned';
    this.sc = new Scratch(backend);
    this.proj = new DenseParams(backend, rng, 'target', numClasses, inputSize, settings, settings.targetLearningRate);
    backend.write(this.proj.W.value, rng.fillNormal(new Float32Array(numClasses * inputSize), 0, settings.targetScale));
    backend.fill(this.proj.b.value, settings.targetBias);
    this.classLabels = Int32Array.from({ length: numClasses }, (_, c) => c);
  }

  /** t0 rows for `labels`, written into out [labels.length, inputSize] starting at row `row0` (reads S and d back). */
  write(labels: ArrayLike<number>, out: Float32Array, row0 = 0): void {
    const S = this.backend.read(this.proj.W.value), d = this.backend.read(this.proj.b.value), n = this.inputSize;
    for (let i = 0; i < labels.length; i++) {
      const c = labels[i], o = (row0 + i) * n;
      for (let k = 0; k < n; k++) out[o + k] = sigmoid(S[c * n + k] + d[k]);
    }
  }

  /**
   * One local update of S and d from a batch (no-op when fixed). x: [B, inputSize].
   * Returns the generator's own loss (0 when fixed).
   */
  update(x: Float32Array, labels: ArrayLike<number>, stepIndex: number): number {
    if (!this.learned) return 0;
    return this.finishUpdate(this.deviceUpdate(x, labels), stepIndex);
  }

  /**
   * `update` on a backend with asynchronous read-back (Backend.asyncReads): the same kernels, with a
   * sync before each host read; ends with S and d synced, so that `write` can read them.
   */
  async updateAsync(x: Float32Array, labels: ArrayLike<number>, stepIndex: number): Promise<number> {
    await this.syncHost();
    if (!this.learned) return 0;
    const u = this.deviceUpdate(x, labels);
    await this.backend.sync?.([u.g, u.loss]);
    const loss = this.finishUpdate(u, stepIndex);
    await this.syncHost();
    return loss;
  }

  /** Bring S and d to the host on a backend with asynchronous read-back (before `write`); no-op elsewhere. */
  async syncHost(): Promise<void> {
    await this.backend.sync?.([this.proj.W.value, this.proj.b.value]);
  }

  /** The device part of an update: r = [x; t0 of every class], the class-signal CE's loss and its gradient's class rows g [C, n]. */
  private deviceUpdate(x: Float32Array, labels: ArrayLike<number>): { R: Float32Array; g: Tensor; loss: Tensor; B: number } {
    const be = this.backend, sc = this.sc, B = labels.length, C = this.numClasses, n = this.inputSize;
    if (this.R.length !== (B + C) * n) this.R = new Float32Array((B + C) * n);
    const R = this.R;
    R.set(x.subarray(0, B * n));
    this.write(this.classLabels, R, B);
    const r = sc.get('target.r', [B + C, n]);
    be.write(r, R);
    const g = sc.get('target.g', [B + C, n]);
    const P = sameClassTargets(sc, labels, this.classLabels, 'target.P');
    const loss = lossAccumulator(sc, 'target.loss');
    similarityCE(be, sc, r, B, P, g, { ...this.settings.sim, normalize: true }, loss);
    // only the class rows carry parameters: the host reads those, not the whole [B + C, n] gradient
    const gc = sc.get('target.gc', [C, n]);
    be.copySlice(gc, 0, g, B * n, C * n);
    return { R, g: gc, loss, B };
  }

  /** Bytes of backend memory the update's work tensors hold. */
  workBytes(): number {
    return this.sc.bytes();
  }

  /** Free the update's work tensors (the projection's parameters belong to the rule's blocks). */
  dispose(): void {
    this.sc.dispose();
  }

  /** The host part: back through the sigmoid (g: the class rows of the gradient), then the optimiser step. */
  private finishUpdate({ R, g, loss, B }: { R: Float32Array; g: Tensor; loss: Tensor; B: number }, stepIndex: number): number {
    const be = this.backend, C = this.numClasses, n = this.inputSize;
    const G = be.read(g), gW = new Float32Array(C * n), gb = new Float32Array(n);
    for (let c = 0; c < C; c++) {
      const o = (B + c) * n;
      for (let k = 0; k < n; k++) {
        const t = R[o + k];
        const v = G[c * n + k] * t * (1 - t);
        gW[c * n + k] = v;
        gb[k] += v;
      }
    }
    be.write(this.proj.W.grad, gW);
    be.write(this.proj.b.grad, gb);
    this.proj.step(stepIndex, !be.asyncReads);
    return readLoss(be, loss);
  }
}
