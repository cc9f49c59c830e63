/**
 * Shared set-up of the tests that compare kernels and rules on wasm with the reference backend:
 * one wasm backend per test file, and the element-wise closeness check they all use.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { createBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';

/** Create a wasm backend (`threads` workers) before the file's tests, hand it to `set`, dispose it after them. */
export function withWasm(set: (backend: WasmBackend) => void, threads = 1): void {
  let backend: WasmBackend | undefined;
  beforeAll(async () => {
    backend = (await createBackend('wasm', { threads })) as WasmBackend;
    set(backend);
  });
  afterAll(async () => {
    await backend?.dispose();
  });
}

/** Element-wise |got − want| ≤ atol + rtol·|want| (NaN matches NaN); fails naming the first element that is not. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const tol = atol + rtol * Math.abs(want[i]);
    const ok = Math.abs(got[i] - want[i]) <= tol || (Number.isNaN(got[i]) && Number.isNaN(want[i]));
    if (!ok) expect.fail(`element ${i}: got ${got[i]}, want ${want[i]} (tol ${tol})`);
  }
}
