/**
 * The `gpu` backend: the Backend contract on gpu.js kernels (src/backend/gpu/kernels.ts), in the
 * synchronous GL modes (webgl2 / webgl in a browser, headless-gl in Node) or gpu.js CPU mode (the
 * same kernel sources as JavaScript: what the Node tests run). Created through
 * `createBackend('gpu', { gpuMode })` or `createGpuBackend({ mode })`; see device.ts for the modes.
 *
 * Tensors are flat 1-D device arrays: a GpuTensor holds the gpu.js texture of its current contents
 * (a Float32Array in CPU mode). Every kernel is a gpu.js kernel with pipeline, immutable and single
 * precision over an output of [size]; a method that writes a tensor "in place" runs a kernel that
 * reads the old contents and returns new ones, swaps the new texture in and deletes the old one
 * (`liveBuffers()` counts what is held). A method that writes several tensors (lifStep's u and s,
 * momentum's v and w, adam's m, v and w, ...) runs one kernel per tensor, each reading the state
 * it needs, before or after the swaps as the arithmetic requires; the optional fused forms
 * (lifStepFused, synapticStepFused, gradTail) are left out: callers then run the separate kernels.
 * `read()` is the only read-back; `tensor.data` throws (a copy whose writes were lost would be a silent bug).
 *
 * Host fallbacks (read back, compute in JavaScript, write back), where a kernel cannot do it exactly:
 * - rateSpikes: the uniforms must be the xoshiro128** stream of Rng.uniform(), drawn only where
 *   p > 0, in element order. The probabilities come from a host mirror of the tensor when it was
 *   last written from the host (write/fromArray, as the encoders do), else from a read-back; the
 *   spikes are written back (and mirrored).
 * - elementwise (equation-defined models): the compiled JavaScript function runs over read-back
 *   arrays, which are then written back.
 * - surrogate: families without a native kernel (kernels.ts kSurrogate, the wasm backend's ids), or
 *   whose native kernel does not reproduce the spec's own f / f' on probe points (custom mathjs
 *   surrogates, unusual parameters), evaluate sg.f / sg.df on the host.
 * - activation / leakyStep: activations other than identity, tanh, sigmoid and relu evaluate the
 *   registry's scalar functions on the host.
 * - sum / sumSquares: chunk sums on the device (256 values each), the chunk sums added on the host
 *   in float64 (the result is a host number anyway); a tensor with a host mirror is summed there.
 *
 * The host mirror costs host memory equal to the tensor until a kernel next writes the tensor
 * (weights written at initialisation keep theirs until their first update; fixed matrices keep it).
 * Kernels are compiled on first use per (kernel, constants, argument sizes) and cached on the backend.
 *
 * WebGPU (mode 'webgpu'): kernels compile to WGSL compute shaders and run over storage buffers; a
 * tensor holds a gpu.js WebGPUBufferResult. Kernel calls stay synchronous (queue.submit in call
 * order) once a kernel is built, but building is asynchronous and so is every read-back: the backend
 * has `asyncReads`. While any kernel it needs is still being built, calls are queued (a tensor then
 * holds a placeholder) and `sync()` awaits the builds and runs the queue in order before copying
 * the tensors asked for to the host; `read`, `sum` and `sumSquares` answer from those copies (or
 * from host-written values) and throw ReadNotSyncedError otherwise, as the contract says. Host
 * fallbacks need synced values and so fail on WebGPU inside a training step; the surrogate check
 * of the native kernels runs on a CPU-mode twin.
 *
 * Precision: device arithmetic is float32 on GL and WebGPU (in CPU mode gpu.js computes in float64 and stores
 * float32, like `reference`). The contract's float64 accumulators of the loss kernels and row sums
 * therefore hold only in CPU mode; on GL the reductions (sum of a row, of a loss over rows) are
 * float32 sums, which the tests check with a tolerance.
 */
import pkg from 'gpu.js';
import type { IKernelRunShortcut, Texture } from 'gpu.js';
import { ReadNotSyncedError, SigpropError } from '../../errors.js';
import type { Rng } from '../../rng.js';
import { checkShape, shapeSize, shapeString, type Tensor } from '../../tensor.js';
import { getActivation } from '../../../models/activations.js';
import type {
  AdamStepParams, AdexKernelParams, Backend, ElementwiseKernel, FfGoodnessParams, IzhikevichKernelParams, LifKernelParams, MatmulOptions,
  SoftmaxCEScales, SurrogateKernelSpec, SynapticKernelParams,
} from '../backend.js';
import {
  copySliceDims, delayedDims, elementwiseSize, expect2d, expectRowRange, expectSameSize, expectShape, ffGoodnessDims, ffPeerNormDims, l2PairDims, matmulDims,
  normalizeDims, softmaxCEDims,
} from '../checks.js';
import { chooseNative, type NativeSurrogate } from '../wasm/surrogates.js';
import { openDevice, openHardwareDevice, refreshRenderer, releaseWebGpu, type GpuDevice, type GpuMode } from './device.js';
import * as K from './kernels.js';

const { GPU } = pkg;

/** gpu.js's pipeline handle of a WebGPU storage buffer (WebGPUBufferResult). */
interface WebGpuBuffer {
  toArray(): Promise<ArrayLike<number>>;
  delete(): void;
}
/** A WebGPU result not produced yet: its kernel waits in the queue for its build (see the file header). */
interface Pending {
  pending: true;
  h: WebGpuBuffer | null;
}
/** gpu.js's WebGPU kernel object behind a kernel-run shortcut (the fields the backend uses). */
interface WebGpuKernel {
  built: boolean;
  _buildPromise: Promise<void> | null;
  build(...args: unknown[]): Promise<void>;
  run(...args: unknown[]): Promise<WebGpuBuffer>;
  outputBuffer: unknown;
  output: number[];
  context: unknown;
}
const { WebGPUBufferResult } = pkg as unknown as { WebGPUBufferResult: new (s: { buffer: unknown; output: number[]; context: unknown; kernel: unknown }) => WebGpuBuffer };

/** A device array: a gpu.js texture on GL, a storage buffer handle (or a placeholder) on WebGPU, a Float32Array in CPU mode. */
type DeviceArray = Texture | Float32Array | WebGpuBuffer | Pending;

function isPending(b: unknown): b is Pending {
  return typeof b === 'object' && b !== null && (b as Pending).pending === true;
}

/** Activations with a device kernel (kernels.ts kActivation), by name. */
const NATIVE_ACTIVATIONS: Readonly<Record<string, number>> = { identity: 0, tanh: 1, sigmoid: 2, relu: 3 };
const RESET_CODES: Readonly<Record<string, number>> = { subtract: 0, zero: 1, none: 2 };
/** Values per partial sum of sum / sumSquares. */
const SUM_CHUNK = 256;

/** A tensor of the gpu backend: its current device array, and a host copy while it was last written from the host. */
export class GpuTensor implements Tensor {
  readonly size: number;
  /** @internal Current contents (null for an empty or freed tensor). */
  buf: DeviceArray | null = null;
  /** @internal The host values last written (write/fromArray/host fallbacks) or synced; null once a kernel writes the tensor. */
  mirror: Float32Array | null = null;
  /** @internal */
  freed = false;
  constructor(
    readonly shape: readonly number[],
    readonly backend = 'gpu',
  ) {
    this.size = shapeSize(shape);
  }
  get data(): Float32Array {
    throw new SigpropError(
      `tensor.data is not available on the gpu backend (tensor ${shapeString(this.shape)} lives on the device): ` +
        'use backend.read(t) to copy it to the host and backend.write(t, values) to set it',
      'device',
    );
  }
}

export interface GpuBackendOptions {
  mode?: GpuMode;
  /** Only a hardware GPU (device.ts openHardwareDevice): what backend 'auto' asks for. */
  hardwareOnly?: boolean;
}

/** Create a gpu backend (see the file header and device.ts for the modes). */
export async function createGpuBackend(opts: GpuBackendOptions = {}): Promise<GpuBackend> {
  return new GpuBackend(opts.hardwareOnly ? await openHardwareDevice() : await openDevice(opts.mode ?? 'auto'));
}

type Arg = GpuTensor | number;

export class GpuBackend implements Backend {
  readonly name: string = 'gpu';
  /** True on WebGPU: reads answer only from synced copies (Backend.asyncReads). */
  readonly asyncReads: boolean;
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  /** WebGPU: calls waiting for kernel builds (null when calls run at once), and those builds. */
  private queue: (() => void)[] | null = null;
  private builds: Promise<void>[] = [];
  /** WebGPU: every tensor not freed, for sync() of all. */
  private readonly tensors = new Set<WeakRef<GpuTensor>>();
  /** WebGPU: a CPU-mode twin for the native-surrogate check (which reads its probe back at once). */
  private cpuTwin: GpuBackend | null = null;
  private live = 0;
  private dummyBuf: DeviceArray | null = null;
  private readonly nativeSg = new WeakMap<SurrogateKernelSpec, [NativeSurrogate | null | undefined, NativeSurrogate | null | undefined]>();
  private disposed = false;

  constructor(private readonly device: GpuDevice) {
    this.asyncReads = device.mode === 'webgpu';
  }

  /** The gpu.js mode the kernels run in. */
  get mode(): string {
    return this.device.mode;
  }

  /** Mode and renderer, e.g. `gpu.js webgl2 (ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...)))`. */
  describe(): string {
    refreshRenderer(this.device);
    const r = this.device.mode === 'cpu' ? 'JavaScript kernels on the CPU' : this.device.renderer || (this.device.mode === 'webgpu' ? 'adapter unknown' : 'renderer unknown');
    return `gpu.js ${this.device.mode} (${r})`;
  }

  /** Device arrays held (tensors' contents and the backend's own scratch); flat over steps when nothing leaks. */
  liveBuffers(): number {
    return this.live;
  }

  /** Number of compiled kernels (one per kernel, constants and argument sizes). */
  compiledKernels(): number {
    return this.kernels.size;
  }

  /** Destroy the gpu.js instance (its kernels, textures and context). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.kernels.clear();
    await Promise.resolve(this.device.gpu.destroy());
    if (this.cpuTwin) await this.cpuTwin.dispose();
    if (this.device.mode === 'webgpu') await releaseWebGpu(); // the shared device: lets a Node process exit
  }

  /**
   * Bring tensors (default: every tensor not freed) to the host, after running what waits for
   * kernel builds; reads of them succeed until they change (Backend.sync). Immediate on GL and CPU.
   */
  async sync(tensors?: readonly Tensor[]): Promise<void> {
    if (!this.asyncReads) return;
    await this.flush();
    const list = tensors ? tensors.map((t) => this.check(t, 'sync')) : this.liveTensors();
    await Promise.all(list.map(async (t) => {
      const buf = t.buf;
      if (t.mirror || !buf || t.size === 0) return;
      const h = this.handle(buf);
      const values = await h.toArray();
      if (t.buf === buf) t.mirror = Float32Array.from(values); // unchanged while the copy was on its way
    }));
  }

  /** WebGPU: the tensors not freed (dropping the ones collected). */
  private liveTensors(): GpuTensor[] {
    const out: GpuTensor[] = [];
    for (const r of this.tensors) {
      const t = r.deref();
      if (!t || t.freed) this.tensors.delete(r);
      else out.push(t);
    }
    return out;
  }

  /** WebGPU: wait for the kernel builds, then run the queued calls in order (more may queue meanwhile). */
  private async flush(): Promise<void> {
    while (this.queue) {
      const builds = this.builds;
      this.builds = [];
      await Promise.all(builds);
      if (this.builds.length) continue;
      const q = this.queue;
      this.queue = null;
      for (const f of q) f();
    }
  }

  /** The buffer handle behind a WebGPU device array (a placeholder must have run). */
  private handle(buf: DeviceArray): WebGpuBuffer {
    if (isPending(buf)) {
      if (!buf.h) throw new SigpropError('internal: a queued WebGPU result was used before its kernel ran', 'device');
      return buf.h;
    }
    return buf as WebGpuBuffer;
  }

  /**
   * WebGPU: run a built kernel now and take its output buffer as a handle of its own (gpu.js hands
   * each immutable pipeline run a new buffer; the promise's own handle is released).
   */
  private dispatch(k: WebGpuKernel, args: unknown[]): WebGpuBuffer {
    const p = k.run(...args.map((a) => (isPending(a) ? this.handle(a) : a)));
    void p.then((h) => h.delete(), () => undefined);
    return new WebGPUBufferResult({ buffer: k.outputBuffer, output: [...k.output], context: k.context, kernel: k });
  }

  /** WebGPU: run the kernel now, or queue it (placeholder result) while it or an earlier call waits for a build. */
  private runWebGpu(k: IKernelRunShortcut, args: (DeviceArray | number)[], sizes: number[]): DeviceArray {
    const kernel = (k as unknown as { kernel: WebGpuKernel }).kernel;
    if (!kernel.built) {
      if (!kernel._buildPromise) {
        // argument types from stand-ins of the same sizes: a buffer handle binds wherever an array was declared
        const standIns = args.map((a, i) => (typeof a === 'number' ? a : new Float32Array(Math.max(1, sizes[i]))));
        this.builds.push(kernel.build(...standIns));
      }
      this.queue ??= [];
    }
    if (!this.queue) return this.dispatch(kernel, args);
    const out: Pending = { pending: true, h: null };
    this.queue.push(() => (out.h = this.dispatch(kernel, args)));
    return out;
  }

  // ---- device arrays ----

  private get isCpu(): boolean {
    return this.device.mode === 'cpu';
  }

  private adopt(t: GpuTensor, buf: DeviceArray | null): void {
    this.releaseBuf(t.buf);
    t.buf = buf;
    t.mirror = null;
    if (buf) this.live++;
  }

  private releaseBuf(buf: DeviceArray | null): void {
    if (!buf) return;
    this.live--;
    if (buf instanceof Float32Array) return;
    if (this.asyncReads) {
      if (this.queue) this.queue.push(() => this.handle(buf).delete()); // after the queued calls that read it
      else this.handle(buf).delete();
      return;
    }
    (buf as Texture).delete();
  }

  /** Upload host values as a new device array. */
  private upload(data: Float32Array): DeviceArray {
    if (this.isCpu) return data.slice();
    return this.runRaw('upload', K.kCopy, data.length, {}, [data], [data.length]);
  }

  /** A one-element array standing in for an empty tensor argument (never read). */
  private dummy(): DeviceArray {
    if (!this.dummyBuf) {
      this.dummyBuf = this.upload(new Float32Array(1));
      this.live++;
    }
    return this.dummyBuf;
  }

  private check(t: Tensor, kernel: string): GpuTensor {
    if (!(t instanceof GpuTensor)) throw new SigpropError(`${kernel}: tensor ${shapeString(t.shape)} belongs to backend "${t.backend}", not "gpu"`, 'shape');
    if (t.freed) throw new SigpropError(`${kernel}: tensor ${shapeString(t.shape)} was freed`, 'shape');
    return t;
  }

  private runRaw(
    op: string, fn: (...a: never[]) => number, outSize: number, constants: Record<string, number>, args: (DeviceArray | number)[], sizes: number[],
  ): DeviceArray {
    const key = `${op}|${outSize}|${JSON.stringify(constants)}|${sizes.join(',')}`;
    let k = this.kernels.get(key);
    if (!k) {
      k = this.device.gpu.createKernel(fn as never, {
        output: [outSize], pipeline: true, immutable: true, precision: 'single', constants, tactic: 'precision',
      } as never) as IKernelRunShortcut;
      this.kernels.set(key, k);
    }
    if (this.asyncReads) return this.runWebGpu(k, args, sizes);
    return (k as unknown as (...a: unknown[]) => DeviceArray)(...args);
  }

  /** Run a kernel over an output of outSize elements; tensor arguments pass their device arrays. */
  private run(op: string, fn: (...a: never[]) => number, outSize: number, constants: Record<string, number>, args: Arg[]): DeviceArray {
    const sizes: number[] = [];
    const vals = args.map((a) => {
      if (typeof a === 'number') {
        sizes.push(-1);
        return a;
      }
      sizes.push(a.size);
      return a.size === 0 || !a.buf ? this.dummy() : a.buf;
    });
    return this.runRaw(op, fn, outSize, constants, vals, sizes);
  }

  /** Run a kernel whose output replaces t's contents (the old array is deleted). */
  private into(t: GpuTensor, op: string, fn: (...a: never[]) => number, constants: Record<string, number>, args: Arg[]): void {
    if (t.size === 0) return;
    const buf = this.run(op, fn, t.size, constants, args);
    this.adopt(t, buf);
    t.mirror = null;
  }

  /** Run a kernel into a scratch tensor (caller frees it). */
  private scratch(shape: number[], op: string, fn: (...a: never[]) => number, constants: Record<string, number>, args: Arg[]): GpuTensor {
    const t = new GpuTensor(shape);
    if (t.size > 0) this.adopt(t, this.run(op, fn, t.size, constants, args));
    return t;
  }

  /** The refusal of a host read on WebGPU of a tensor not synced since it changed. */
  private notSynced(t: GpuTensor, what: string): ReadNotSyncedError {
    return new ReadNotSyncedError(
      `${what} of tensor ${shapeString(t.shape)} on the gpu backend (WebGPU): read-back is asynchronous there, so await backend.sync([tensor]) first ` +
        '(rules do so in trainBatchAsync / predictAsync; host fallbacks (equation models, custom surrogates and activations) cannot run inside a step on WebGPU)',
    );
  }

  /** Host values of a tensor: its mirror when it has one, else a read-back. */
  private hostValues(t: GpuTensor): Float32Array {
    return t.mirror ? t.mirror.slice() : this.read(t);
  }

  // ---- memory ----

  tensor(shape: readonly number[]): Tensor {
    return this.fromArray(shape, new Float32Array(shapeSize(shape)));
  }

  fromArray(shape: readonly number[], data: ArrayLike<number>): Tensor {
    checkShape(shape);
    const t = new GpuTensor([...shape]);
    this.write(t, data);
    if (this.asyncReads) this.tensors.add(new WeakRef(t));
    return t;
  }

  read(t: Tensor): Float32Array {
    const g = this.check(t, 'read');
    if (g.size === 0 || !g.buf) return new Float32Array(g.size);
    if (g.buf instanceof Float32Array) return g.buf.slice();
    if (this.asyncReads) {
      if (g.mirror) return g.mirror.slice();
      throw this.notSynced(g, 'read');
    }
    const arr = (g.buf as Texture).toArray() as unknown as ArrayLike<number>;
    const out = new Float32Array(g.size);
    for (let i = 0; i < g.size; i++) out[i] = arr[i];
    return out;
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    const g = this.check(t, 'write');
    if (data.length !== g.size) throw new RangeError(`write: got ${data.length} values for a tensor of ${g.size}`);
    const host = Float32Array.from(data);
    if (g.size > 0) this.adopt(g, this.upload(host));
    g.mirror = host;
  }

  free(t: Tensor): void {
    if (!(t instanceof GpuTensor) || t.freed) return;
    this.adopt(t, null);
    t.mirror = null;
    t.freed = true;
  }

  // ---- dense linear algebra ----

  matmul(out: Tensor, a: Tensor, b: Tensor, opts: MatmulOptions = {}): void {
    const [o, ga, gb] = [this.check(out, 'matmul'), this.check(a, 'matmul'), this.check(b, 'matmul')];
    const [M, Kd, N] = matmulDims(out, a, b, opts);
    const beta = opts.beta ?? 0;
    const c = {
      M, K: Kd, N, hasBeta: beta === 0 ? 0 : 1,
      sai: opts.transA ? 1 : Kd, sak: opts.transA ? M : 1, sbk: opts.transB ? 1 : N, sbj: opts.transB ? Kd : 1,
    };
    this.into(o, 'matmul', K.kMatmul, c, [ga, gb, o, opts.alpha ?? 1, beta]);
  }

  spikeMatmul(out: Tensor, s: Tensor, w: Tensor, beta = 0): void {
    const [o, gs, gw] = [this.check(out, 'spikeMatmul'), this.check(s, 'spikeMatmul'), this.check(w, 'spikeMatmul')];
    const [B, Kd] = expect2d('spikeMatmul', 's', s);
    const [, N] = expect2d('spikeMatmul', 'w', w);
    expectShape('spikeMatmul', 'w', w, [Kd, N]);
    expectShape('spikeMatmul', 'out', out, [B, N]);
    this.into(o, 'spikeMatmul', K.kSpikeMatmul, { K: Kd, N, hasBeta: beta === 0 ? 0 : 1 }, [gs, gw, o, beta]);
  }

  spikeOuter(w: Tensor, s: Tensor, g: Tensor, alpha: number): void {
    const [gw, gs, gg] = [this.check(w, 'spikeOuter'), this.check(s, 'spikeOuter'), this.check(g, 'spikeOuter')];
    const [B, Kd] = expect2d('spikeOuter', 's', s);
    const [, N] = expect2d('spikeOuter', 'g', g);
    expectShape('spikeOuter', 'g', g, [B, N]);
    expectShape('spikeOuter', 'w', w, [Kd, N]);
    this.into(gw, 'spikeOuter', K.kSpikeOuter, { B, K: Kd, N }, [gw, gs, gg, alpha]);
  }

  delayedSpikeMatmul(ring: Tensor, s: Tensor, w: Tensor, delays: Tensor, t: number): void {
    const ts = [ring, s, w, delays].map((x) => this.check(x, 'delayedSpikeMatmul'));
    const [B, Kd, N, D] = delayedDims('delayedSpikeMatmul', ring, s, w, delays, 's', 'ring');
    this.into(ts[0], 'delayedSpikeMatmul', K.kDelayedSpikeMatmul, { B, K: Kd, N, D }, [ts[0], ts[1], ts[2], ts[3], t]);
  }

  delayedOuter(w: Tensor, ring: Tensor, g: Tensor, delays: Tensor, t: number, alpha: number): void {
    const ts = [w, ring, g, delays].map((x) => this.check(x, 'delayedOuter'));
    const [B, Kd, N, D] = delayedDims('delayedOuter', ring, g, w, delays, 'g', 'ring', true);
    this.into(ts[0], 'delayedOuter', K.kDelayedOuter, { B, K: Kd, N, D }, [ts[0], ts[1], ts[2], ts[3], t, alpha]);
  }

  // ---- input encoding ----

  rateSpikes(out: Tensor, p: Tensor, rng: Rng): void {
    const [o, gp] = [this.check(out, 'rateSpikes'), this.check(p, 'rateSpikes')];
    expectSameSize('rateSpikes', ['out', 'p'], [out, p]);
    const P = gp.mirror ?? this.read(gp);
    const O = new Float32Array(P.length);
    for (let i = 0; i < P.length; i++) O[i] = P[i] > 0 && rng.uniform() < P[i] ? 1 : 0;
    this.write(o, O);
  }

  // ---- neuron steps ----

  lifStep(u: Tensor, s: Tensor, input: Tensor, p: LifKernelParams): void {
    const [gu, gs, gi] = [this.check(u, 'lifStep'), this.check(s, 'lifStep'), this.check(input, 'lifStep')];
    expectSameSize('lifStep', ['u', 's', 'input'], [u, s, input]);
    this.lif(gu, gs, gi, p);
  }

  private lif(u: GpuTensor, s: GpuTensor, input: GpuTensor, p: LifKernelParams): void {
    if (u.size === 0) return;
    const c = { reset: RESET_CODES[p.reset] ?? 0, delay: p.resetDelay ? 1 : 0, hasVMin: p.vMin === undefined ? 0 : 1 };
    const args: Arg[] = [u, s, input, p.beta, p.threshold, p.vMin ?? 0];
    const newU = this.run('lif', K.kLif, u.size, { ...c, out: 0 }, args);
    const newS = this.run('lif', K.kLif, u.size, { ...c, out: 1 }, args);
    this.adopt(u, newU);
    this.adopt(s, newS);
    u.mirror = s.mirror = null;
  }

  synapticStep(u: Tensor, isyn: Tensor, s: Tensor, input: Tensor, p: SynapticKernelParams): void {
    const ts = [u, isyn, s, input].map((x) => this.check(x, 'synapticStep'));
    expectSameSize('synapticStep', ['u', 'isyn', 's', 'input'], [u, isyn, s, input]);
    this.into(ts[1], 'synCurrent', K.kSynCurrent, {}, [ts[1], ts[3], p.alpha]);
    this.lif(ts[0], ts[2], ts[1], p);
  }

  leakyStep(h: Tensor, a: Tensor, input: Tensor, gain: number, activation: string): void {
    const [gh, ga, gi] = [this.check(h, 'leakyStep'), this.check(a, 'leakyStep'), this.check(input, 'leakyStep')];
    expectSameSize('leakyStep', ['h', 'a', 'input'], [h, a, input]);
    getActivation(activation); // unknown names fail before anything is written
    this.into(gh, 'leaky', K.kLeaky, {}, [gh, gi, gain]);
    this.activation(ga, gh, activation, false);
  }

  izhikevichStep(v: Tensor, u: Tensor, s: Tensor, input: Tensor, p: IzhikevichKernelParams): void {
    const ts = [v, u, s, input].map((x) => this.check(x, 'izhikevichStep'));
    expectSameSize('izhikevichStep', ['v', 'u', 's', 'input'], [v, u, s, input]);
    if (ts[0].size === 0) return;
    const args: Arg[] = [ts[0], ts[1], ts[3], p.a, p.b, p.c, p.d, p.vPeak, p.hMs];
    const outs = [0, 1, 2].map((out) => this.run('izhikevich', K.kIzhikevich, ts[0].size, { nSub: p.nSub, out }, args));
    for (let i = 0; i < 3; i++) {
      this.adopt(ts[i], outs[i]);
      ts[i].mirror = null;
    }
  }

  adexStep(v: Tensor, w: Tensor, s: Tensor, input: Tensor, p: AdexKernelParams): void {
    const ts = [v, w, s, input].map((x) => this.check(x, 'adexStep'));
    expectSameSize('adexStep', ['v', 'w', 's', 'input'], [v, w, s, input]);
    if (ts[0].size === 0) return;
    const args: Arg[] = [ts[0], ts[1], ts[3], p.C, p.gL, p.EL, p.deltaT, p.VT, p.tauWMs, p.a, p.b, p.Vr, p.Vpeak, p.hMs];
    const outs = [0, 1, 2].map((out) => this.run('adex', K.kAdex, ts[0].size, { nSub: p.nSub, out }, args));
    for (let i = 0; i < 3; i++) {
      this.adopt(ts[i], outs[i]);
      ts[i].mirror = null;
    }
  }

  // ---- elementwise ----

  /** The native kernel for sg in this direction, if it reproduces sg's own functions (decided once per spec). */
  private nativeSurrogate(sg: SurrogateKernelSpec, deriv: boolean): NativeSurrogate | null {
    if (this.asyncReads) {
      // the check reads its probe back at once: the same kernel source in a CPU-mode twin
      this.cpuTwin ??= new GpuBackend({ gpu: new GPU({ mode: 'cpu' }), mode: 'cpu', renderer: '' });
      return this.cpuTwin.nativeSurrogate(sg, deriv);
    }
    let entry = this.nativeSg.get(sg);
    if (!entry) this.nativeSg.set(sg, (entry = [undefined, undefined]));
    const i = deriv ? 1 : 0;
    if (entry[i] === undefined) {
      entry[i] = chooseNative(sg, deriv, (nat, d, xs) => {
        const probe = this.fromArray([xs.length], xs) as GpuTensor;
        const out = this.scratch([xs.length], 'surrogate', K.kSurrogate, { kind: nat.kind, deriv: d ? 1 : 0 }, [probe, 0, nat.param, nat.param2]);
        const got = this.read(out);
        this.free(probe);
        this.free(out);
        return got;
      });
    }
    return entry[i] ?? null;
  }

  surrogate(out: Tensor, u: Tensor, threshold: number, sg: SurrogateKernelSpec, deriv: boolean): void {
    const [o, gu] = [this.check(out, 'surrogate'), this.check(u, 'surrogate')];
    expectSameSize('surrogate', ['out', 'u'], [out, u]);
    if (o.size === 0) return;
    const nat = this.nativeSurrogate(sg, deriv);
    if (nat) {
      this.into(o, 'surrogate', K.kSurrogate, { kind: nat.kind, deriv: deriv ? 1 : 0 }, [gu, threshold, nat.param, nat.param2]);
      return;
    }
    const U = this.hostValues(gu);
    const O = new Float32Array(U.length);
    if (deriv) for (let i = 0; i < U.length; i++) O[i] = sg.df(U[i] - threshold);
    else for (let i = 0; i < U.length; i++) O[i] = sg.f(U[i] - threshold);
    this.write(o, O);
  }

  axpby(y: Tensor, x: Tensor, alpha: number, beta: number): void {
    const [gy, gx] = [this.check(y, 'axpby'), this.check(x, 'axpby')];
    expectSameSize('axpby', ['y', 'x'], [y, x]);
    this.into(gy, 'axpby', K.kAxpby, {}, [gy, gx, alpha, beta]);
  }

  mul(out: Tensor, a: Tensor, b: Tensor): void {
    const [o, ga, gb] = [this.check(out, 'mul'), this.check(a, 'mul'), this.check(b, 'mul')];
    expectSameSize('mul', ['out', 'a', 'b'], [out, a, b]);
    this.into(o, 'mul', K.kMul, {}, [ga, gb]);
  }

  addRow(x: Tensor, v: Tensor): void {
    const [gx, gv] = [this.check(x, 'addRow'), this.check(v, 'addRow')];
    const [, N] = expect2d('addRow', 'x', x);
    expectShape('addRow', 'v', v, [N]);
    this.into(gx, 'addRow', K.kAddRow, { N }, [gx, gv]);
  }

  sumRows(out: Tensor, x: Tensor, alpha = 1, beta = 0): void {
    const [o, gx] = [this.check(out, 'sumRows'), this.check(x, 'sumRows')];
    const [B, N] = expect2d('sumRows', 'x', x);
    expectShape('sumRows', 'out', out, [N]);
    this.into(o, 'sumRows', K.kSumRows, { B, N, hasBeta: beta === 0 ? 0 : 1 }, [gx, o, alpha, beta]);
  }

  fill(x: Tensor, value: number): void {
    const g = this.check(x, 'fill');
    if (g.size === 0) return;
    if (this.isCpu) {
      this.adopt(g, new Float32Array(g.size).fill(value));
      g.mirror = null;
      return;
    }
    this.into(g, 'fill', K.kFill, {}, [value]);
  }

  copy(dst: Tensor, src: Tensor): void {
    const [d, s] = [this.check(dst, 'copy'), this.check(src, 'copy')];
    expectSameSize('copy', ['dst', 'src'], [dst, src]);
    if (d === s) return;
    this.into(d, 'copy', K.kCopy, {}, [s]);
    if (s.mirror) d.mirror = s.mirror.slice();
  }

  copySlice(dst: Tensor, dstOffset: number, src: Tensor, srcOffset: number, count: number): void {
    const [d, s] = [this.check(dst, 'copySlice'), this.check(src, 'copySlice')];
    copySliceDims(dst, dstOffset, src, srcOffset, count);
    if (count === 0) return;
    this.into(d, 'copySlice', K.kCopySlice, {}, [d, s, dstOffset, srcOffset, count]);
  }

  elementwise(kernel: ElementwiseKernel, tensors: readonly Tensor[], params: readonly number[]): void {
    const ts = tensors.map((t) => this.check(t, 'elementwise'));
    const n = elementwiseSize(tensors);
    if (n === 0) return;
    // the same tensor may be passed twice: give both positions one array, written back once
    const arrays = new Map<GpuTensor, Float32Array>();
    for (const t of ts) if (!arrays.has(t)) arrays.set(t, this.hostValues(t));
    kernel(ts.map((t) => arrays.get(t)!), params, 0, n);
    for (const [t, a] of arrays) this.write(t, a);
  }

  private partialSum(x: GpuTensor, sq: 0 | 1): number {
    if (x.size === 0) return 0;
    if (x.mirror) {
      let acc = 0;
      const X = x.mirror;
      for (let i = 0; i < X.length; i++) acc += sq ? X[i] * X[i] : X[i];
      return acc;
    }
    if (this.asyncReads) throw this.notSynced(x, sq ? 'sumSquares' : 'sum');
    const parts = Math.ceil(x.size / SUM_CHUNK);
    const t = this.scratch([parts], 'partialSum', K.kPartialSum, { n: x.size, CH: SUM_CHUNK, sq }, [x]);
    const P = this.read(t);
    this.free(t);
    let acc = 0;
    for (let i = 0; i < P.length; i++) acc += P[i];
    return acc;
  }

  sum(x: Tensor): number {
    return this.partialSum(this.check(x, 'sum'), 0);
  }

  sumSquares(x: Tensor): number {
    return this.partialSum(this.check(x, 'sumSquares'), 1);
  }

  addScalar(x: Tensor, c: number): void {
    const g = this.check(x, 'addScalar');
    this.into(g, 'addScalar', K.kAddScalar, {}, [g, c]);
  }

  fillRows(x: Tensor, from: number, to: number, value: number): void {
    const g = this.check(x, 'fillRows');
    const [R, N] = expect2d('fillRows', 'x', x);
    expectRowRange('fillRows', from, to, R);
    if (from === to) return;
    this.into(g, 'fillRows', K.kFillRows, { N }, [g, from, to, value]);
  }

  gateBelow(g: Tensor, u: Tensor, vMin: number): void {
    const [gg, gu] = [this.check(g, 'gateBelow'), this.check(u, 'gateBelow')];
    expectSameSize('gateBelow', ['g', 'u'], [g, u]);
    this.into(gg, 'gateBelow', K.kGateBelow, {}, [gg, gu, vMin]);
  }

  activation(out: Tensor, x: Tensor, name: string, deriv: boolean): void {
    const [o, gx] = [this.check(out, 'activation'), this.check(x, 'activation')];
    expectSameSize('activation', ['out', 'x'], [out, x]);
    const act = getActivation(name);
    if (o.size === 0) return;
    const kind = Object.prototype.hasOwnProperty.call(NATIVE_ACTIVATIONS, name) ? NATIVE_ACTIVATIONS[name] : undefined;
    if (kind !== undefined) {
      this.into(o, 'activation', K.kActivation, { kind, deriv: deriv ? 1 : 0 }, [gx]);
      return;
    }
    const X = this.hostValues(gx);
    const O = new Float32Array(X.length);
    if (deriv) for (let k = 0; k < X.length; k++) O[k] = act.df(X[k]);
    else for (let k = 0; k < X.length; k++) O[k] = act.f(X[k]);
    this.write(o, O);
  }

  transpose(out: Tensor, x: Tensor): void {
    const [o, gx] = [this.check(out, 'transpose'), this.check(x, 'transpose')];
    const [R, C] = expect2d('transpose', 'x', x);
    expectShape('transpose', 'out', out, [C, R]);
    this.into(o, 'transpose', K.kTranspose, { R, C }, [gx]);
  }

  // ---- loss kernels ----

  normalizeRows(out: Tensor, norms: Tensor, x: Tensor, row0: number, normalize: boolean, eps: number): void {
    const [o, gn, gx] = [this.check(out, 'normalizeRows'), this.check(norms, 'normalizeRows'), this.check(x, 'normalizeRows')];
    const [, n] = normalizeDims('normalizeRows', out, norms, x, row0);
    this.into(gn, 'rowNorm', K.kRowNorm, { N: n, normalize: normalize ? 1 : 0 }, [gx, row0, eps]);
    this.into(o, 'normalizeOut', K.kNormalizeOut, { N: n }, [gx, gn, row0]);
  }

  normalizeRowsBackward(g: Tensor, x: Tensor, row0: number, dhat: Tensor, norms: Tensor, normalize: boolean): void {
    const ts = [g, x, dhat, norms].map((t) => this.check(t, 'normalizeRowsBackward'));
    const [rows, n] = normalizeDims('normalizeRowsBackward', dhat, norms, x, row0);
    expectShape('normalizeRowsBackward', 'g', g, x.shape);
    if (rows === 0) return;
    this.into(ts[0], 'normalizeBackward', K.kNormalizeBackward, { N: n, R: rows, normalize: normalize ? 1 : 0 }, [ts[0], ts[1], ts[2], ts[3], row0]);
  }

  /** loss[0] += mul·Σ rows / div. */
  private accumulate(loss: GpuTensor, rows: GpuTensor, mul: number, div: number): void {
    this.into(loss, 'accumulate', K.kAccumulate, { R: rows.size }, [loss, rows, mul, div]);
  }

  softmaxCrossEntropy(loss: Tensor, dy: Tensor | null, y: Tensor, p: Tensor, scales: SoftmaxCEScales = {}): void {
    const gl = this.check(loss, 'softmaxCrossEntropy');
    const gdy = dy ? this.check(dy, 'softmaxCrossEntropy') : null;
    const [gy, gp] = [this.check(y, 'softmaxCrossEntropy'), this.check(p, 'softmaxCrossEntropy')];
    const [R, C] = softmaxCEDims(loss, dy, y, p);
    const rows = this.scratch([R], 'ceRow', K.kCERow, { C }, [gy, gp]);
    if (gdy) this.into(gdy, 'ceGrad', K.kCEGrad, { C }, [gy, gp, scales.gradScale ?? 1, scales.gradDivisor ?? 1]);
    this.accumulate(gl, rows, 1, scales.lossDivisor ?? 1);
    this.free(rows);
  }

  softmaxRows(out: Tensor, x: Tensor): void {
    const [o, gx] = [this.check(out, 'softmaxRows'), this.check(x, 'softmaxRows')];
    const [R, C] = expect2d('softmaxRows', 'x', x);
    expectShape('softmaxRows', 'out', out, [R, C]);
    this.into(o, 'softmax', K.kSoftmax, { C }, [gx]);
  }

  l2PairLoss(loss: Tensor, g: Tensor | null, r: Tensor, nh: number): void {
    const gl = this.check(loss, 'l2PairLoss');
    const gg = g ? this.check(g, 'l2PairLoss') : null;
    const gr = this.check(r, 'l2PairLoss');
    const n = l2PairDims(loss, g, r, nh);
    const rows = this.scratch([nh], 'l2Row', K.kL2Row, { N: n, half: nh * n }, [gr]);
    if (gg) this.into(gg, 'l2Grad', K.kL2Grad, { half: nh * n }, [gr, 1 / nh]);
    this.accumulate(gl, rows, 0.5, nh);
    this.free(rows);
  }

  ffGoodness(loss: Tensor | null, g: Tensor | null, goodness: Tensor | null, y: Tensor, p: FfGoodnessParams): void {
    const gl = loss ? this.check(loss, 'ffGoodness') : null;
    const gg = g ? this.check(g, 'ffGoodness') : null;
    const ggood = goodness ? this.check(goodness, 'ffGoodness') : null;
    const gy = this.check(y, 'ffGoodness');
    const [R, n] = ffGoodnessDims(loss, g, goodness, y, p.nPos, p.nNeg);
    const c = p.mean ? 1 / n : 1, gb = p.goodnessBeta ?? 0, end = p.nPos + p.nNeg;
    const G = this.scratch([R], 'squares', K.kSquares, { N: n }, [gy, c]);
    if (ggood) this.into(ggood, 'goodness', K.kGoodness, { hasGb: gb === 0 ? 0 : 1 }, [ggood, G, gb]);
    if (gg) this.into(gg, 'ffGrad', K.kFFGrad, { N: n }, [gy, G, p.theta, c, p.gradDivisor ?? 1, p.nPos, end]);
    if (gl) {
      const rows = this.scratch([R], 'ffLoss', K.kFFLoss, {}, [G, p.theta, p.nPos, end]);
      this.accumulate(gl, rows, 1, p.lossDivisor ?? 1);
      this.free(rows);
    }
    this.free(G);
  }

  ffPeerNorm(loss: Tensor | null, g: Tensor | null, running: Tensor, y: Tensor, nPos: number, momentum: number, weight: number): void {
    const gl = loss ? this.check(loss, 'ffPeerNorm') : null;
    const gg = g ? this.check(g, 'ffPeerNorm') : null;
    const [gr, gy] = [this.check(running, 'ffPeerNorm'), this.check(y, 'ffPeerNorm')];
    const [, n] = ffPeerNormDims(loss, g, running, y, nPos);
    if (n === 0) return;
    this.into(gr, 'peerRunning', K.kPeerRunning, { N: n, P: nPos }, [gr, gy, momentum]);
    const rbar = this.scratch([1], 'mean', K.kMean, { R: n }, [gr, n]);
    if (gl) this.into(gl, 'peerLoss', K.kPeerLoss, { N: n }, [gl, gr, rbar, weight]);
    if (gg) this.into(gg, 'peerGrad', K.kPeerGrad, { N: n, P: nPos }, [gg, gr, rbar, (weight * 2 * (1 - momentum)) / (n * nPos)]);
    this.free(rbar);
  }

  // ---- optimisers ----

  sgdStep(w: Tensor, g: Tensor, lr: number, weightDecay: number): void {
    const [gw, gg] = [this.check(w, 'sgdStep'), this.check(g, 'sgdStep')];
    expectSameSize('sgdStep', ['w', 'g'], [w, g]);
    this.into(gw, 'sgd', K.kSgd, {}, [gw, gg, lr, weightDecay]);
  }

  momentumStep(w: Tensor, g: Tensor, v: Tensor, lr: number, momentum: number, weightDecay: number): void {
    const [gw, gg, gv] = [this.check(w, 'momentumStep'), this.check(g, 'momentumStep'), this.check(v, 'momentumStep')];
    expectSameSize('momentumStep', ['w', 'g', 'v'], [w, g, v]);
    this.into(gv, 'momentumV', K.kMomentumV, {}, [gw, gg, gv, momentum, weightDecay]);
    this.into(gw, 'momentumW', K.kMomentumW, {}, [gw, gv, lr]);
  }

  adamStep(w: Tensor, g: Tensor, m: Tensor, v: Tensor, p: AdamStepParams): void {
    const ts = [w, g, m, v].map((t) => this.check(t, 'adamStep'));
    expectSameSize('adamStep', ['w', 'g', 'm', 'v'], [w, g, m, v]);
    const [gw, gg, gm, gv] = ts;
    this.into(gm, 'adamMoment', K.kAdamMoment, { sq: 0 }, [gw, gg, gm, p.beta1, p.weightDecay]);
    this.into(gv, 'adamMoment', K.kAdamMoment, { sq: 1 }, [gw, gg, gv, p.beta2, p.weightDecay]);
    this.into(gw, 'adamW', K.kAdamW, {}, [gw, gm, gv, p.lr, p.c1, p.c2, p.eps]);
  }
}
