/**
 * The `reference` backend: plain TypeScript loops over Float32Array. Short and obviously
 * right; it is the oracle every other backend is tested against.
 */
import { checkShape, HostTensor, shapeSize, type Tensor } from '../tensor.js';
import {
  hostActivation, hostAdamStep, hostAdexStep, hostFfGoodness, hostFfPeerNorm, hostIzhikevichStep, hostLeakyStep, hostL2PairLoss, hostMomentumStep, hostNormalizeRows, hostNormalizeRowsBackward, hostSgdStep,
  hostSoftmaxCE, hostSoftmaxRows,
} from './host-kernels.js';
import type {
  AdamStepParams, AdexKernelParams, Backend, ElementwiseKernel, FfGoodnessParams, FusedStepOutputs, IzhikevichKernelParams, SoftmaxCEScales, LifKernelParams, MatmulOptions, SurrogateKernelSpec, SynapticKernelParams,
} from './backend.js';
import {
  copySliceDims, delayedDims, dropoutMaskDims, elementwiseSize, ffGoodnessDims, ffPeerNormDims, expect2d, expectRowRange, expectSameSize, expectShape, l2PairDims, matmulDims, normalizeDims,
  softmaxCEDims,
} from './checks.js';
import { ParameterError } from '../errors.js';
import type { Rng } from '../rng.js';

export class ReferenceBackend implements Backend {
  readonly name: string = 'reference';

  tensor(shape: readonly number[]): Tensor {
    checkShape(shape);
    return new HostTensor([...shape], new Float32Array(shapeSize(shape)), this.name);
  }
  fromArray(shape: readonly number[], data: ArrayLike<number>): Tensor {
    const t = this.tensor(shape);
    this.write(t, data);
    return t;
  }
  read(t: Tensor): Float32Array {
    return t.data.slice();
  }
  write(t: Tensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new RangeError(`write: got ${data.length} values for a tensor of ${t.size}`);
    t.data.set(data);
  }
  free(_t: Tensor): void {}

  matmul(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): void {
    const [M, K, N] = matmulDims(out, a, b, opts);
    const alpha = opts.alpha ?? 1;
    const beta = opts.beta ?? 0;
    const A = a.data, B = b.data, C = out.data;
    const ta = !!opts.transA, tb = !!opts.transB;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let k = 0; k < K; k++) {
          const av = ta ? A[k * M + i] : A[i * K + k];
          const bv = tb ? B[j * K + k] : B[k * N + j];
          acc += av * bv;
        }
        C[i * N + j] = alpha * acc + (beta === 0 ? 0 : beta * C[i * N + j]);
      }
    }
  }

  spikeMatmul(out: Tensor, s: Tensor, w: Tensor, beta = 0): void {
    const [B, K] = expect2d('spikeMatmul', 's', s);
    const [, N] = expect2d('spikeMatmul', 'w', w);
    expectShape('spikeMatmul', 'w', w, [K, N]);
    expectShape('spikeMatmul', 'out', out, [B, N]);
    const S = s.data, W = w.data, O = out.data;
    for (let b = 0; b < B; b++) {
      const row = b * N;
      if (beta === 0) O.fill(0, row, row + N);
      else if (beta !== 1) for (let n = 0; n < N; n++) O[row + n] *= beta;
      for (let k = 0; k < K; k++) {
        const sv = S[b * K + k];
        if (sv === 0) continue;
        const wr = k * N;
        for (let n = 0; n < N; n++) O[row + n] += sv * W[wr + n];
      }
    }
  }

  spikeOuter(w: Tensor, s: Tensor, g: Tensor, alpha: number): void {
    const [B, K] = expect2d('spikeOuter', 's', s);
    const [, N] = expect2d('spikeOuter', 'g', g);
    expectShape('spikeOuter', 'g', g, [B, N]);
    expectShape('spikeOuter', 'w', w, [K, N]);
    const S = s.data, G = g.data, W = w.data;
    for (let b = 0; b < B; b++) {
      for (let k = 0; k < K; k++) {
        const sv = S[b * K + k];
        if (sv === 0) continue;
        const c = alpha * sv, wr = k * N, gr = b * N;
        for (let n = 0; n < N; n++) W[wr + n] += c * G[gr + n];
      }
    }
  }

  /** Backend.dropoutMask: Rng.fillDropMask over the first rows, ones after them. */
  dropoutMask(out: Tensor, rows: number, p: number, rng: Rng): void {
    const [, N] = dropoutMaskDims(out, rows, p);
    out.data.fill(1, rows * N);
    if (rows > 0) rng.fillDropMask(out.data.subarray(0, rows * N), p, 1 / (1 - p));
  }

  rateSpikes(out: Tensor, p: Tensor, rng: Rng): void {
    expectSameSize('rateSpikes', ['out', 'p'], [out, p]);
    const P = p.data, O = out.data;
    for (let i = 0; i < P.length; i++) O[i] = P[i] > 0 && rng.uniform() < P[i] ? 1 : 0;
  }

  delayedSpikeMatmul(ring: Tensor, s: Tensor, w: Tensor, delays: Tensor, t: number): void {
    const [B, K, N, D] = delayedDims('delayedSpikeMatmul', ring, s, w, delays, 's', 'ring');
    const S = s.data, W = w.data, d = delays.data, R = ring.data, BN = B * N;
    for (let b = 0; b < B; b++) {
      const row = b * N;
      for (let k = 0; k < K; k++) {
        const xv = S[b * K + k];
        if (xv === 0) continue;
        const wr = k * N;
        for (let n = 0; n < N; n++) R[((t + d[wr + n]) % D) * BN + row + n] += xv * W[wr + n];
      }
    }
  }

  delayedOuter(w: Tensor, ring: Tensor, g: Tensor, delays: Tensor, t: number, alpha: number): void {
    const [B, K, N, D] = delayedDims('delayedOuter', ring, g, w, delays, 'g', 'ring', true);
    const E = ring.data, G = g.data, W = w.data, d = delays.data, BK = B * K;
    for (let k = 0; k < K; k++) {
      for (let n = 0; n < N; n++) {
        const base = (((t - d[k * N + n]) % D) + D) % D * BK + k;
        let acc = 0;
        for (let b = 0; b < B; b++) acc += E[base + b * K] * G[b * N + n];
        W[k * N + n] += alpha * acc;
      }
    }
  }

  lifStep(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams): void {
    expectSameSize('lifStep', ['u', 's', 'input'], [u, s, input]);
    const U = u.data, S = s.data, I = input.data;
    const { beta, threshold: th, reset, resetDelay } = p;
    const vMin = p.vMin ?? -Infinity;
    for (let i = 0; i < U.length; i++) {
      const r = resetDelay ? S[i] : 0;
      let v: number;
      if (reset === 'subtract') v = beta * U[i] + I[i] - r * th;
      else if (reset === 'zero') v = beta * (1 - r) * U[i] + I[i];
      else v = beta * U[i] + I[i];
      const spk = v - th > 0 ? 1 : 0;
      if (!resetDelay && spk) {
        if (reset === 'subtract') v -= th;
        else if (reset === 'zero') v = 0;
      }
      U[i] = v < vMin ? vMin : v;
      S[i] = spk;
    }
  }

  synapticStep(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams): void {
    expectSameSize('synapticStep', ['u', 'isyn', 's', 'input'], [u, isyn, s, input]);
    const J = isyn.data, I = input.data;
    for (let i = 0; i < J.length; i++) J[i] = p.alpha * J[i] + I[i];
    this.lifStep(u, s, isyn, p);
  }

  leakyStep(h: Tensor, a: Tensor, input: Tensor, gain: number, activation: string): void {
    expectSameSize('leakyStep', ['h', 'a', 'input'], [h, a, input]);
    hostLeakyStep(h.data, a.data, input.data, gain, activation);
  }

  izhikevichStep(v: Tensor, u: Tensor, s: Tensor, input: Tensor, p: IzhikevichKernelParams): void {
    expectSameSize('izhikevichStep', ['v', 'u', 's', 'input'], [v, u, s, input]);
    hostIzhikevichStep(v.data, u.data, s.data, input.data, p);
  }

  adexStep(v: Tensor, w: Tensor, s: Tensor, input: Tensor, p: AdexKernelParams): void {
    expectSameSize('adexStep', ['v', 'w', 's', 'input'], [v, w, s, input]);
    hostAdexStep(v.data, w.data, s.data, input.data, p);
  }

  lifStepFused(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams, out: FusedStepOutputs): void {
    this.lifStep(u, s, input, p);
    fusedStepOutputs(this, u, p.threshold, out);
  }

  synapticStepFused(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams, out: FusedStepOutputs): void {
    this.synapticStep(u, isyn, s, input, p);
    fusedStepOutputs(this, u, p.threshold, out);
  }

  gradTail(g: Tensor, d: Tensor, mask: Tensor | null, keepRows: number, count: Tensor | null, s: Tensor | null): void {
    gradTailFallback(this, g, d, mask, keepRows, count, s);
  }

  spikeMatmulDiff(out: Tensor, d: Tensor, x: Tensor, r: Tensor, w: Tensor, base: Tensor): void {
    spikeMatmulDiffFallback(this, out, d, x, r, w, base);
  }

  surrogate(out: Tensor, u: Tensor, threshold: number, sg: SurrogateKernelSpec, deriv: boolean): void {
    expectSameSize('surrogate', ['out', 'u'], [out, u]);
    const O = out.data, U = u.data;
    if (deriv) for (let i = 0; i < U.length; i++) O[i] = sg.df(U[i] - threshold);
    else for (let i = 0; i < U.length; i++) O[i] = sg.f(U[i] - threshold);
  }

  axpby(y: Tensor, x: Tensor, alpha: number, beta: number): void {
    expectSameSize('axpby', ['y', 'x'], [y, x]);
    const Y = y.data, X = x.data;
    for (let i = 0; i < Y.length; i++) Y[i] = alpha * X[i] + beta * Y[i];
  }

  mul(out: Tensor, a: Tensor, b: Tensor): void {
    expectSameSize('mul', ['out', 'a', 'b'], [out, a, b]);
    const O = out.data, A = a.data, B = b.data;
    for (let i = 0; i < O.length; i++) O[i] = A[i] * B[i];
  }

  addRow(x: Tensor, v: Tensor): void {
    const [B, N] = expect2d('addRow', 'x', x);
    expectShape('addRow', 'v', v, [N]);
    const X = x.data, V = v.data;
    for (let b = 0; b < B; b++) for (let n = 0; n < N; n++) X[b * N + n] += V[n];
  }

  sumRows(out: Tensor, x: Tensor, alpha = 1, beta = 0): void {
    const [B, N] = expect2d('sumRows', 'x', x);
    expectShape('sumRows', 'out', out, [N]);
    const X = x.data, O = out.data;
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let b = 0; b < B; b++) acc += X[b * N + n];
      O[n] = alpha * acc + (beta === 0 ? 0 : beta * O[n]);
    }
  }

  fill(x: Tensor, value: number): void {
    x.data.fill(value);
  }

  copy(dst: Tensor, src: Tensor): void {
    expectSameSize('copy', ['dst', 'src'], [dst, src]);
    dst.data.set(src.data);
  }

  copySlice(dst: Tensor, dstOffset: number, src: Tensor, srcOffset: number, count: number): void {
    copySliceDims(dst, dstOffset, src, srcOffset, count);
    dst.data.set(src.data.subarray(srcOffset, srcOffset + count), dstOffset);
  }

  elementwise(kernel: ElementwiseKernel, tensors: readonly Tensor[], params: readonly number[]): void {
    const n = elementwiseSize(tensors);
    kernel(tensors.map((t) => t.data), params, 0, n);
  }

  sum(x: Tensor): number {
    let acc = 0;
    const X = x.data;
    for (let i = 0; i < X.length; i++) acc += X[i];
    return acc;
  }

  sumSquares(x: Tensor): number {
    let acc = 0;
    const X = x.data;
    for (let i = 0; i < X.length; i++) acc += X[i] * X[i];
    return acc;
  }

  addScalar(x: Tensor, c: number): void {
    const X = x.data;
    for (let i = 0; i < X.length; i++) X[i] += c;
  }

  fillRows(x: Tensor, from: number, to: number, value: number): void {
    const [R, N] = expect2d('fillRows', 'x', x);
    expectRowRange('fillRows', from, to, R);
    x.data.fill(value, from * N, to * N);
  }

  gateBelow(g: Tensor, u: Tensor, vMin: number): void {
    expectSameSize('gateBelow', ['g', 'u'], [g, u]);
    const G = g.data, U = u.data;
    for (let k = 0; k < G.length; k++) if (U[k] <= vMin) G[k] = 0;
  }

  activation(out: Tensor, x: Tensor, name: string, deriv: boolean): void {
    expectSameSize('activation', ['out', 'x'], [out, x]);
    hostActivation(out.data, x.data, name, deriv);
  }

  transpose(out: Tensor, x: Tensor): void {
    const [R, C] = expect2d('transpose', 'x', x);
    expectShape('transpose', 'out', out, [C, R]);
    const O = out.data, X = x.data;
    for (let i = 0; i < R; i++) for (let j = 0; j < C; j++) O[j * R + i] = X[i * C + j];
  }

  normalizeRows(out: Tensor, norms: Tensor, x: Tensor, row0: number, normalize: boolean, eps: number): void {
    const [rows, n] = normalizeDims('normalizeRows', out, norms, x, row0);
    hostNormalizeRows(out.data, norms.data, x.data, row0, rows, n, normalize, eps);
  }

  normalizeRowsBackward(g: Tensor, x: Tensor, row0: number, dhat: Tensor, norms: Tensor, normalize: boolean): void {
    const [rows, n] = normalizeDims('normalizeRowsBackward', dhat, norms, x, row0);
    expectShape('normalizeRowsBackward', 'g', g, x.shape);
    hostNormalizeRowsBackward(g.data, x.data, row0, rows, n, dhat.data, norms.data, normalize);
  }

  softmaxCrossEntropy(loss: Tensor, dy: Tensor | null, y: Tensor, p: Tensor, scales?: SoftmaxCEScales): void {
    const [R, C] = softmaxCEDims(loss, dy, y, p);
    loss.data[0] += hostSoftmaxCE(dy ? dy.data : null, y.data, p.data, R, C, scales);
  }

  softmaxRows(out: Tensor, x: Tensor): void {
    const [R, C] = expect2d('softmaxRows', 'x', x);
    expectShape('softmaxRows', 'out', out, [R, C]);
    hostSoftmaxRows(out.data, x.data, R, C);
  }

  l2PairLoss(loss: Tensor, g: Tensor | null, r: Tensor, nh: number): void {
    const n = l2PairDims(loss, g, r, nh);
    loss.data[0] += hostL2PairLoss(g ? g.data : null, r.data, nh, n);
  }

  ffGoodness(loss: Tensor | null, g: Tensor | null, goodness: Tensor | null, y: Tensor, p: FfGoodnessParams): void {
    const [R, n] = ffGoodnessDims(loss, g, goodness, y, p.nPos, p.nNeg);
    const l = hostFfGoodness(g ? g.data : null, goodness ? goodness.data : null, y.data, R, n, p);
    if (loss) loss.data[0] += l;
  }

  ffPeerNorm(loss: Tensor | null, g: Tensor | null, running: Tensor, y: Tensor, nPos: number, momentum: number, weight: number): void {
    const [, n] = ffPeerNormDims(loss, g, running, y, nPos);
    const l = hostFfPeerNorm(g ? g.data : null, running.data, y.data, n, nPos, momentum, weight);
    if (loss) loss.data[0] += l;
  }

  sgdStep(w: Tensor, g: Tensor, lr: number, weightDecay: number): void {
    expectSameSize('sgdStep', ['w', 'g'], [w, g]);
    hostSgdStep(w.data, g.data, lr, weightDecay);
  }

  momentumStep(w: Tensor, g: Tensor, v: Tensor, lr: number, momentum: number, weightDecay: number): void {
    expectSameSize('momentumStep', ['w', 'g', 'v'], [w, g, v]);
    hostMomentumStep(w.data, g.data, v.data, lr, momentum, weightDecay);
  }

  adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, p: AdamStepParams): void {
    expectSameSize('adamStep', ['w', 'g', 'm', 'v'], [w, g, m, v]);
    hostAdamStep(w.data, g.data, m.data, v.data, p);
  }
}

/**
 * The FusedStepOutputs part of a fused neuron step, with a backend's separate kernels: f and f' of
 * (u − threshold) and the eligibility trace e = decay·e + x. Used by the reference fused steps.
 */
export function fusedStepOutputs(b: Backend, u: Tensor, threshold: number, out: FusedStepOutputs): void {
  if ((out.f || out.df) && !out.sg) {
    throw new ParameterError('fused neuron step: out.f / out.df need out.sg (the surrogate to evaluate)');
  }
  if (out.f) b.surrogate(out.f, u, threshold, out.sg!, false);
  if (out.df) b.surrogate(out.df, u, threshold, out.sg!, true);
  if (out.trace) b.axpby(out.trace.e, out.trace.x, 1, out.trace.decay);
}

/**
 * A fused LIF / synaptic step on any backend: the backend's own fused kernel when it has one,
 * else its separate kernels. isyn and alpha select the synaptic model.
 */
export function fusedStepFallback(
  b: Backend, u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams | SynapticKernelParams, out: FusedStepOutputs, isyn?: Tensor,
): void {
  if (isyn) {
    const ps = p as SynapticKernelParams;
    if (b.synapticStepFused) b.synapticStepFused(u, isyn, s, input, ps, out);
    else {
      b.synapticStep(u, isyn, s, input, ps);
      fusedStepOutputs(b, u, p.threshold, out);
    }
  } else if (b.lifStepFused) b.lifStepFused(u, s, input, p, out);
  else {
    b.lifStep(u, s, input, p);
    fusedStepOutputs(b, u, p.threshold, out);
  }
}

/** Backend.spikeMatmulDiff as the separate kernels it fuses (the reference backend's definition). */
export function spikeMatmulDiffFallback(b: Backend, out: Tensor, d: Tensor, x: Tensor, r: Tensor, w: Tensor, base: Tensor): void {
  b.copy(d, x);
  b.axpby(d, r, -1, 1);
  b.copy(out, base);
  b.spikeMatmul(out, d, w, 1);
}

/** Backend.gradTail as the separate kernels it fuses (the reference backend's definition). */
export function gradTailFallback(
  b: Backend, g: Tensor, d: Tensor, mask: Tensor | null, keepRows: number, count: Tensor | null, s: Tensor | null,
): void {
  if (keepRows < g.shape[0]) b.fillRows(g, keepRows, g.shape[0], 0);
  if (mask) b.mul(g, g, mask);
  b.mul(g, g, d);
  if (count) b.axpby(count, s as Tensor, 1, 1);
}
