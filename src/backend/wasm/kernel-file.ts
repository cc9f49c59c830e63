/**
 * Node's source of the wasm kernels: kernels.wasm read from disk (module.ts compiles it). The
 * browser build replaces this file with src/web/shims/kernel-file.ts (see src/web/build.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SigpropError } from '../../errors.js';

/** Candidate locations of kernels.wasm: next to this file (source tree) or the source tree from dist/. */
export function wasmCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  return [
    join(here, 'build', 'kernels.wasm'),
    resolve(here, '../../../../src/backend/wasm/build/kernels.wasm'),
  ];
}

/** The kernel bytes and the file they came from; a SigpropError telling to build them when missing. */
export async function readKernelFile(): Promise<{ bytes: BufferSource; where: string }> {
  const candidates = wasmCandidates();
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new SigpropError(
      `wasm backend: the compiled kernels are missing (looked for ${candidates[0]}). ` +
        'Run `npm run build:wasm` (it runs automatically on `npm install`), or use backend "reference".',
      'backend',
    );
  }
  return { bytes: readFileSync(path) as Uint8Array<ArrayBuffer>, where: path };
}
