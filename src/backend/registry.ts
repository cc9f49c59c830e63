/**
 * Backend registry. Backends register a factory under a name; `createBackend('auto')` picks the
 * fastest available on this machine (wasm on CPU once it is registered, else reference).
 *
 * When 'auto' has to skip a preferred backend because it failed to start (e.g. kernels.wasm is
 * not built), it says so: one `warning: ...` line naming the reason and the fix, by default on
 * stderr once per process (`onFallback` redirects or silences it), never a silent 14x slow-down.
 */
import { ParameterError } from '../errors.js';
import type { Backend, BackendFactory } from './backend.js';
import { ReferenceBackend } from './reference.js';

const factories = new Map<string, BackendFactory>();
/** Preference order for 'auto'. */
const autoOrder = ['wasm', 'reference'];

export function registerBackend(name: string, factory: BackendFactory): void {
  factories.set(name, factory);
}

/** The factory registered under `name` (undefined when none is). */
export function backendFactory(name: string): BackendFactory | undefined {
  return factories.get(name);
}

export function backendNames(): string[] {
  return [...factories.keys()];
}

export interface BackendOptions {
  threads?: number;
  /**
   * gpu backend only: the gpu.js mode, 'auto' (default: headless-gl, else WebGPU through the
   * `webgpu` package in Node; WebGPU, else WebGL2/WebGL in a browser), 'cpu' (the same kernels as
   * JavaScript), 'webgpu', 'webgl2', 'webgl' or 'headlessgl'. Default: the environment variable
   * SIGPROP_GPU_MODE, else 'auto'.
   */
  gpuMode?: 'auto' | 'cpu' | 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl';
  /**
   * 'auto' only: try a hardware GPU first (the gpu backend; never gpu.js CPU mode or a software
   * renderer), then wasm, then reference. The run loop asks for it when the rule's form trains on
   * asynchronous read-back as well (learning/rule.ts ruleHasAsyncForm), so that any GPU mode works.
   * Where there is none, one line says so (a `note:`, unlike a skipped wasm's `warning:`).
   */
  preferGpu?: boolean;
  /**
   * Where 'auto' reports that it skipped a preferred backend that failed to start (one line,
   * without the `warning: ` prefix). Default: write `warning: <line>` to stderr, once per
   * process. `false`: say nothing (the caller reports the fall-back itself).
   */
  onFallback?: ((message: string, serious?: boolean) => void) | false;
}

/** How much slower the reference backend trains than the wasm one (experiments/RESULTS.md: 13-17x). */
const SLOWDOWN: Readonly<Record<string, string>> = { wasm: 'about 14x' };

let fallbackReported = false;

/**
 * Default `onFallback`: one stderr line per process (a sweep creates a backend per point);
 * console.warn in a browser. `warning:` when a CPU backend was skipped, `note:` when only the GPU was.
 */
function reportFallbackOnce(message: string, serious = true): void {
  if (fallbackReported) return;
  fallbackReported = true;
  const line = `${serious ? 'warning' : 'note'}: ${message}`;
  // environment-neutral: stderr in Node, the console in a browser (the browser bundle imports this file)
  const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process?.stderr;
  if (stderr) stderr.write(`${line}\n`);
  else console.warn(line);
}

/** The one-line fall-back message: what was skipped, what runs instead, why, and the fix. */
export function fallbackMessage(skipped: string, used: string, err: unknown): string {
  const why = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  if (skipped === 'gpu') return `backend "auto" runs on "${used}": ${why}`;
  const slower = SLOWDOWN[skipped] ? `, ${SLOWDOWN[skipped]} slower` : '';
  const fix = skipped === 'wasm' && !why.includes('npm run build:wasm') ? '; build it with `npm run build:wasm`' : '';
  return `backend "auto" runs on "${used}"${slower}, because "${skipped}" could not start: ${why}${fix}`;
}

export async function createBackend(name = 'auto', opts: BackendOptions = {}): Promise<Backend> {
  const { onFallback, preferGpu, ...factoryOpts } = opts;
  if (name === 'auto') {
    const failed: [string, unknown][] = [];
    const report = (used: string): void => {
      if (!failed.length || onFallback === false) return;
      // the CPU backend skipped matters more than the GPU (a skipped wasm is 14x slower)
      const [skipped, err] = failed.find(([n]) => n !== 'gpu') ?? failed[0];
      (onFallback ?? reportFallbackOnce)(fallbackMessage(skipped, used, err), skipped !== 'gpu');
    };
    for (const n of preferGpu ? ['gpu', ...autoOrder] : autoOrder) {
      const f = factories.get(n);
      if (!f) continue;
      try {
        const backend = await f(n === 'gpu' ? { threads: factoryOpts.threads, gpuMode: 'auto', hardwareOnly: true } : factoryOpts);
        report(backend.name);
        return backend;
      } catch (err) {
        failed.push([n, err]); // fall through to the next preference
      }
    }
    const backend = new ReferenceBackend();
    report(backend.name);
    return backend;
  }
  const f = factories.get(name);
  if (!f) {
    throw new ParameterError(`backend = "${name}" is not known; backend must be one of: auto, ${backendNames().join(', ')}`);
  }
  return f(factoryOpts);
}

registerBackend('reference', () => new ReferenceBackend());
// SIMD WebAssembly kernels (src/backend/wasm); loaded lazily so that importing the registry never
// compiles wasm. Fails with a message telling to run `npm run build:wasm` when the build is missing.
registerBackend('wasm', async (opts) => (await import('./wasm/backend.js')).createWasmBackend(opts));
// gpu.js kernels (src/backend/gpu): loaded lazily so that importing the registry never loads gpu.js.
// Not in the 'auto' order: it fails with a message naming what to install when there is no device.
registerBackend('gpu', async (opts) => {
  if (opts?.hardwareOnly) {
    // 'auto' on a machine without any GPU device node: say so without loading gpu.js (~120 ms)
    const none = (await import('./gpu/node-probe.js')).noGpuDevice();
    if (none) throw new ParameterError(none);
  }
  let mod: typeof import('./gpu/backend.js');
  try {
    mod = await import('./gpu/backend.js');
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && /gpu\.js/.test(e.message ?? '')) {
      throw new ParameterError(
        'backend "gpu" needs the gpu.js package, which is not installed: npm install gpu.js ' +
          '(for WebGPU in Node add the npm override "webgpu": "0.6.2": the webgpu 0.2.9 that gpu.js pins needs glibc 2.38)',
      );
    }
    throw err;
  }
  return mod.createGpuBackend({ mode: (opts?.gpuMode ?? envGpuMode()) as never, hardwareOnly: opts?.hardwareOnly });
});

/** SIGPROP_GPU_MODE, where there is a process environment. */
function envGpuMode(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.SIGPROP_GPU_MODE || undefined;
}
