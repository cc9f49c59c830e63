/**
 * Backend registry. Backends register a factory under a name; `createBackend('auto')` picks the
 * fastest available on this machine (wasm on CPU once it is registered, else reference).
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
}

export async function createBackend(name = 'auto', opts: BackendOptions = {}): Promise<Backend> {
  if (name === 'auto') {
    for (const n of autoOrder) {
      const f = factories.get(n);
      if (!f) continue;
      try {
        return await f(opts);
      } catch {
        // fall through to the next preference
      }
    }
    return new ReferenceBackend();
  }
  const f = factories.get(name);
  if (!f) {
    throw new ParameterError(`backend = "${name}" is not known; backend must be one of: auto, ${backendNames().join(', ')}`);
  }
  return f(opts);
}

registerBackend('reference', () => new ReferenceBackend());
// SIMD WebAssembly kernels (src/backend/wasm); loaded lazily so that importing the registry never
// compiles wasm. Fails with a message telling to run `npm run build:wasm` when the build is missing.
registerBackend('wasm', async (opts) => (await import('./wasm/backend.js')).createWasmBackend(opts));
