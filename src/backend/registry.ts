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
   * Where 'auto' reports that it skipped a preferred backend that failed to start (one line,
   * without the `warning: ` prefix). Default: write `warning: <line>` to stderr, once per
   * process. `false`: say nothing (the caller reports the fall-back itself).
   */
  onFallback?: ((message: string) => void) | false;
}

/** How much slower the reference backend trains than the wasm one (experiments/RESULTS.md: 13-17x). */
const SLOWDOWN: Readonly<Record<string, string>> = { wasm: 'about 14x' };

let fallbackReported = false;

/** Default `onFallback`: one stderr line per process (a sweep creates a backend per point); console.warn in a browser. */
function reportFallbackOnce(message: string): void {
  if (fallbackReported) return;
  fallbackReported = true;
  // environment-neutral: stderr in Node, the console in a browser (the browser bundle imports this file)
  const stderr = (globalThis as { process?: { stderr?: { write(s: string): unknown } } }).process?.stderr;
  if (stderr) stderr.write(`warning: ${message}\n`);
  else console.warn(`warning: ${message}`);
}

/** The one-line fall-back message: what was skipped, what runs instead, why, and the fix. */
export function fallbackMessage(skipped: string, used: string, err: unknown): string {
  const why = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, ' ').trim();
  const slower = SLOWDOWN[skipped] ? `, ${SLOWDOWN[skipped]} slower` : '';
  const fix = skipped === 'wasm' && !why.includes('npm run build:wasm') ? '; build it with `npm run build:wasm`' : '';
  return `backend "auto" runs on "${used}"${slower}, because "${skipped}" could not start: ${why}${fix}`;
}

export async function createBackend(name = 'auto', opts: BackendOptions = {}): Promise<Backend> {
  const { onFallback, ...factoryOpts } = opts;
  if (name === 'auto') {
    const failed: [string, unknown][] = [];
    const report = (used: string): void => {
      if (!failed.length || onFallback === false) return;
      const [skipped, err] = failed[0];
      (onFallback ?? reportFallbackOnce)(fallbackMessage(skipped, used, err));
    };
    for (const n of autoOrder) {
      const f = factories.get(n);
      if (!f) continue;
      try {
        const backend = await f(factoryOpts);
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
  return mod.createGpuBackend({ mode: (opts?.gpuMode ?? envGpuMode()) as never });
});

/** SIGPROP_GPU_MODE, where there is a process environment. */
function envGpuMode(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.SIGPROP_GPU_MODE || undefined;
}
