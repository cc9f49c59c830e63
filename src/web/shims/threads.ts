/**
 * Browser stand-in for src/backend/wasm/threads.ts (src/web/build.ts swaps it in): the wasm
 * backend runs on the page's thread only (threads = 1; `threads: 0` means 1 here).
 */
import { SigpropError } from '../../errors.js';
import type * as NodeThreads from '../../backend/wasm/threads.js';

export const MAX_CHUNKS: typeof NodeThreads.MAX_CHUNKS = 511;

export function availableCores(): number {
  return 1;
}

export const ThreadPool = {
  async start(threads: number): Promise<never> {
    throw new SigpropError(`wasm backend: threads = ${threads} needs worker threads, which the browser build does not start; use threads = 1`, 'backend');
  },
} as unknown as typeof NodeThreads.ThreadPool;
