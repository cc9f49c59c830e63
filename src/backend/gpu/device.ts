/**
 * Opening the device of the `gpu` backend: which gpu.js mode runs the kernels.
 *
 * - 'cpu': gpu.js CPU mode (the same kernel sources run as JavaScript); works everywhere, and is
 *   what the Node tests use.
 * - 'webgpu': WebGPU compute shaders (WGSL over storage buffers): a browser's `navigator.gpu`, or in
 *   Node the `webgpu` package (Dawn) set up as `navigator.gpu`. Read-back is asynchronous there, so
 *   the backend has `asyncReads` (backend.ts) and rules train through trainBatchAsync.
 * - 'webgl2' / 'webgl': a browser's WebGL context.
 * - 'headlessgl': Node with the optional `gl` package (headless-gl).
 * - 'auto': in a browser WebGPU when an adapter answers, else webgl2, else webgl; in Node
 *   headless-gl when `gl` loads, else WebGPU when the `webgpu` package finds an adapter (probed
 *   in a child process first: Dawn writes its adapter diagnostics straight to stderr), else a
 *   SigpropError that says what was tried and what to install.
 *
 * The Node-only probes load their packages through dynamic imports of a computed name, so a
 * bundler building for the browser neither resolves nor includes them.
 */
import pkg from 'gpu.js';
import type { GPU as GPUType } from 'gpu.js';
import { SigpropError } from '../../errors.js';
import { noGpuDevice, probeWebGpuAdapter, type AdapterInfo } from './node-probe.js';

const { GPU, WebGPUContext } = pkg as unknown as { GPU: typeof GPUType; WebGPUContext: WebGpuContextStatic };

/** The parts of gpu.js's WebGPUContext (one shared GPUDevice) the backend uses. */
interface WebGpuContextStatic {
  acquire(): Promise<{ adapter: { info?: AdapterInfo; isFallbackAdapter?: boolean }; device: unknown }>;
  destroy(): Promise<void>;
}

export type GpuMode = 'auto' | 'cpu' | 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl';
export const GPU_MODES: readonly GpuMode[] = ['auto', 'cpu', 'webgpu', 'webgl2', 'webgl', 'headlessgl'];

/** An opened device: the gpu.js instance, the mode it runs and the renderer's name (if known). */
export interface GpuDevice {
  gpu: GPUType;
  mode: Exclude<GpuMode, 'auto'>;
  renderer: string;
}

/** Release the shared WebGPU device (so that a Node process can exit); no-op when none was acquired. */
export async function releaseWebGpu(): Promise<void> {
  await WebGPUContext.destroy();
}


/**
 * A WebGPU device through gpu.js's shared context: in Node first sets `navigator.gpu` from the
 * `webgpu` package (Dawn). Returns the adapter's name, or throws GpuUnavailableError.
 */
async function openWebGpu(): Promise<string> {
  if (inNode()) {
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator?.gpu) {
      let create: (flags: string[]) => unknown;
      try {
        ({ create } = (await importOptional('webgpu')) as { create: (flags: string[]) => unknown });
      } catch (err) {
        throw new GpuUnavailableError(`gpu mode "webgpu" needs the \`webgpu\` package (Dawn) in Node, which did not load: ${(err as Error).message.split('\n')[0]}`);
      }
      const gpu = create([]);
      if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    }
  }
  if (!GPU.isWebGPUSupported) throw new GpuUnavailableError('gpu mode "webgpu": this environment has no navigator.gpu (WebGPU); use webgl2 in a browser, or another backend (wasm)');
  try {
    const ctx = await WebGPUContext.acquire();
    return adapterName(ctx.adapter.info, ctx.adapter.isFallbackAdapter);
  } catch (err) {
    throw new GpuUnavailableError(`gpu mode "webgpu" found no device: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The backend cannot start (no device for the mode asked for). */
export class GpuUnavailableError extends SigpropError {
  constructor(message: string) {
    super(message, 'gpu-unavailable');
    this.name = 'GpuUnavailableError';
  }
}

function inNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/** Import an optional package by a computed name (so that bundlers leave it alone). */
async function importOptional(name: string): Promise<unknown> {
  return import(/* @vite-ignore */ name);
}

/** The adapter's name as one string, e.g. 'google swiftshader (fallback adapter)'. */
export function adapterName(info: AdapterInfo | undefined, fallback?: boolean): string {
  const i = info ?? {};
  const name = [i.vendor, i.architecture, i.device, i.description].filter((x) => x).join(' ') || 'unnamed adapter';
  return fallback ?? i.isFallbackAdapter ? `${name} (fallback adapter)` : name;
}

/**
 * In Node: ask the \`webgpu\` package (Dawn) for an adapter (node-probe.ts, in a child process).
 * Returns 'ok:<adapter name>' when one answers, else a sentence for the error message.
 */
export async function probeWebGpu(timeoutMs = 15_000): Promise<string> {
  const info = await probeWebGpuAdapter(timeoutMs);
  if (info && 'error' in info) return `a WebGPU adapter was probed and the \`webgpu\` package (Dawn) did not answer (${info.error})`;
  if (!info) return 'a WebGPU adapter was probed (the `webgpu` package, Dawn) and none answered';
  return `ok:${adapterName(info)}`;
}

/** Whether the optional `gl` (headless-gl) package loads and gpu.js sees it. */
async function headlessGlLoads(): Promise<string | null> {
  try {
    await importOptional('gl');
  } catch (err) {
    return `the \`gl\` package (headless-gl) did not load (${(err as Error).message.split('\n')[0]})`;
  }
  if (!GPU.isHeadlessGLSupported) return 'the `gl` package loads but gpu.js cannot create a headless-gl context';
  return null;
}


/** The renderer of a GL context (unmasked where the debug extension allows), else ''. */
function rendererName(gpu: GPUType): string {
  const ctx = (gpu as unknown as { context?: WebGLRenderingContext | null }).context;
  if (!ctx || typeof ctx.getParameter !== 'function') return '';
  try {
    const ext = ctx.getExtension('WEBGL_debug_renderer_info');
    const name = ext ? ctx.getParameter(ext.UNMASKED_RENDERER_WEBGL) : ctx.getParameter(ctx.RENDERER);
    return typeof name === 'string' ? name : '';
  } catch {
    return '';
  }
}

/** Open a gpu.js instance for `mode` (see the file header); throws GpuUnavailableError when there is no device. */
export async function openDevice(mode: GpuMode = 'auto'): Promise<GpuDevice> {
  if (!GPU_MODES.includes(mode)) {
    throw new SigpropError(`gpu mode = "${String(mode)}" is not known; it must be one of: ${GPU_MODES.join(', ')}`, 'parameter');
  }
  let chosen: Exclude<GpuMode, 'auto'>;
  let renderer = '';
  if (mode === 'cpu') chosen = 'cpu';
  else if (mode === 'webgpu') {
    renderer = await openWebGpu();
    chosen = 'webgpu';
  } else if (inNode()) {
    if (mode === 'webgl2' || mode === 'webgl') {
      throw new GpuUnavailableError(`gpu mode "${mode}" needs a browser's WebGL context; in Node use gpuMode "webgpu" (a GPU through the \`webgpu\` package), "headlessgl" (install the \`gl\` package) or "cpu"`);
    }
    const glProblem = await headlessGlLoads();
    if (!glProblem) chosen = 'headlessgl';
    else {
      const webgpu = mode === 'auto' ? await probeWebGpu() : '';
      if (!webgpu.startsWith('ok:')) {
        throw new GpuUnavailableError(
          `backend "gpu" found no device: it tried headless-gl, and ${glProblem}${webgpu ? `; ${webgpu}` : ''}. ` +
            'On a machine with a GPU the `webgpu` package (Dawn, installed with sigprop) needs a Vulkan driver for it; ' +
            'or install the optional `gl` package (npm install gl; it builds against the system\'s OpenGL/Mesa libraries), ' +
            'run in a browser with WebGPU or WebGL2, or use gpuMode "cpu" (SIGPROP_GPU_MODE=cpu: the same kernels as JavaScript) or another backend (--backend wasm)',
        );
      }
      renderer = await openWebGpu();
      chosen = 'webgpu';
    }
  } else if (mode === 'auto') {
    let webgpu = false;
    if (GPU.isWebGPUSupported && (await GPU.isWebGPUAvailable())) {
      try {
        renderer = await openWebGpu();
        webgpu = true;
      } catch {
        webgpu = false; // fall back to WebGL below
      }
    }
    if (webgpu) chosen = 'webgpu';
    else if (GPU.isWebGL2Supported) chosen = 'webgl2';
    else if (GPU.isWebGLSupported) chosen = 'webgl';
    else throw new GpuUnavailableError('backend "gpu" found no device: this browser offers neither WebGPU, WebGL2 nor WebGL; use another backend (wasm)');
  } else if (mode === 'headlessgl') {
    throw new GpuUnavailableError('gpu mode "headlessgl" runs only in Node (with the `gl` package); in a browser use "webgpu", "webgl2" or "webgl"');
  } else {
    const ok = mode === 'webgl2' ? GPU.isWebGL2Supported : GPU.isWebGLSupported;
    if (!ok) throw new GpuUnavailableError(`gpu mode "${mode}" is not supported by this browser (no ${mode === 'webgl2' ? 'WebGL2' : 'WebGL'} context with float textures)`);
    chosen = mode;
  }
  const gpu = new GPU({ mode: chosen });
  return { gpu, mode: chosen, renderer: renderer || rendererName(gpu) };
}

/** Renderers and adapters that are a CPU emulating a GPU. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|fallback adapter|microsoft basic render/i;

/**
 * A hardware GPU for backend 'auto' (createBackend's preferGpu), or a GpuUnavailableError with a
 * short reason: never CPU mode, never a software renderer or fallback adapter (wasm is faster than
 * an emulated GPU), and in Node on Linux no Dawn probe at all where no GPU device node exists.
 */
export async function openHardwareDevice(): Promise<GpuDevice> {
  const none = inNode() ? noGpuDevice() : null;
  if (none) throw new GpuUnavailableError(none);
  let dev: GpuDevice;
  try {
    dev = await openDevice('auto');
  } catch (err) {
    throw new GpuUnavailableError(`no usable GPU (${(err as Error).message.split(/[.;] /)[0]})`);
  }
  if (dev.mode === 'cpu') throw new GpuUnavailableError('no GPU device (only gpu.js CPU mode)');
  refreshRenderer(dev);
  if (SOFTWARE.test(dev.renderer)) {
    await Promise.resolve(dev.gpu.destroy());
    if (dev.mode === 'webgpu') await releaseWebGpu();
    throw new GpuUnavailableError(`the GPU here is a software renderer (${dev.renderer}), slower than wasm`);
  }
  return dev;
}

/** Fill in the renderer once a GL context exists (gpu.js creates it with the first kernel). */
export function refreshRenderer(dev: GpuDevice): void {
  if (!dev.renderer && dev.mode !== 'cpu') dev.renderer = rendererName(dev.gpu);
}
