/**
 * Browser stand-in for src/backend/wasm/kernel-file.ts (src/web/build.ts swaps it in): the
 * kernels are fetched from kernels.wasm beside the bundle (dist-web/kernels.wasm, or
 * /kernels.wasm under `sigprop serve`). A page that keeps them elsewhere calls setKernelSource.
 */
import { SigpropError } from '../../errors.js';

export async function readKernelFile(): Promise<{ bytes: ArrayBuffer; where: string }> {
  const url = new URL('kernels.wasm', import.meta.url);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    throw new SigpropError(`wasm backend: could not fetch ${url} (${err instanceof Error ? err.message : String(err)}); serve kernels.wasm beside sigprop.js or call setKernelSource`, 'backend');
  }
  if (!res.ok) throw new SigpropError(`wasm backend: fetching ${url} failed with HTTP ${res.status}; serve kernels.wasm beside sigprop.js or call setKernelSource`, 'backend');
  return { bytes: await res.arrayBuffer(), where: String(url) };
}
