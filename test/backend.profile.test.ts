// The profiling Backend wrapper: same results, calls counted by kernel name, nested calls once.
import { describe, expect, it } from 'vitest';
import { formatProfile, profileBackend } from '../src/backend/profile.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { createBackend } from '../src/backend/registry.js';

describe('profileBackend', () => {
  it('forwards every call unchanged and counts calls per kernel; the remainder is glue', () => {
    const prof = profileBackend(new ReferenceBackend());
    const be = prof.backend;
    expect(be.name).toBe('reference');
    const a = be.fromArray([2, 2], [1, 2, 3, 4]), b = be.fromArray([2, 2], [1, 0, 0, 1]), c = be.tensor([2, 2]);
    prof.reset();
    be.matmul(c, a, b);
    be.matmul(c, a, b);
    be.axpby(c, a, 1, 1);
    expect(Array.from(be.read(c))).toEqual([2, 4, 6, 8]);
    const inside = prof.section('host loop', () => be.sum(c)); // backend calls inside a section count for the section
    expect(inside).toBe(20);
    const r = prof.report(1000);
    const calls = Object.fromEntries(r.kernels.map((k) => [k.kernel, k.calls]));
    expect(calls).toEqual({ matmul: 2, axpby: 1, read: 1, 'host loop': 1 });
    expect(r.kernels.find((k) => k.kernel === 'matmul')?.group).toBe('propagation');
    expect(r.glueMs).toBeCloseTo(1000 - r.kernelMs, 9);
    expect(r.groups[r.groups.length - 1].group).toMatch(/JS glue/);
    const text = formatProfile(r, 2, 'batch');
    expect(text).toMatch(/matmul\s+1\.0\s/);
    expect(text).toMatch(/total/);
  });

  it('paused: calls go to the wrapped backend untimed, replayed blocks available; timing resumes after', async () => {
    const inner = await createBackend('wasm', { threads: 2 });
    try {
      const prof = profileBackend(inner);
      const be = prof.backend;
      const x = be.fromArray([4], [1, 2, 3, 4]), y = be.fromArray([4], [0, 0, 0, 0]);
      expect(be.replayable).toBeUndefined(); // profiled: every call made, timed by kernel
      prof.reset();
      be.axpby(y, x, 1, 1);
      prof.paused = true;
      expect(prof.paused).toBe(true);
      expect(typeof be.replayable).toBe('function');
      be.axpby(y, x, 2, 1);
      expect(prof.section('host loop', () => be.sum(y))).toBe(30); // y = x + 2x
      prof.paused = false;
      be.axpby(y, x, 1, 1);
      const calls = Object.fromEntries(prof.report(1).kernels.map((k) => [k.kernel, k.calls]));
      expect(calls).toEqual({ axpby: 2 }); // the paused axpby, sum and section not counted
      expect(be.replayable).toBeUndefined();
      expect(Array.from(be.read(y))).toEqual([4, 8, 12, 16]);
    } finally {
      await (inner as { dispose?: () => Promise<void> }).dispose?.();
    }
  });

  it('times a call of a backend whose calls return before their work (wasm, two threads) as its own, not the next call\'s', async () => {
    const inner = await createBackend('wasm', { threads: 2 });
    try {
      const prof = profileBackend(inner);
      const be = prof.backend;
      const n = 1 << 22; // 16 MB: an axpby of milliseconds, split over the threads and deferred
      const x = be.fromArray([n], new Float32Array(n).fill(1)), y = be.fromArray([n], new Float32Array(n).fill(2));
      const one = be.tensor([1]);
      // each pair timed on its own; the median of the ratios, so that one call slowed by the OS
      // (a worker preempted in the middle of its chunk on a loaded machine) does not decide
      const ratios: number[] = [];
      for (let i = 0; i < 7; i++) {
        prof.reset();
        be.axpby(y, x, 0.5, 1);
        be.fill(one, 0); // without the wait inside the profiler, this call would absorb the axpby's work
        const ms = Object.fromEntries(prof.report(1).kernels.map((k) => [k.kernel, k.ms]));
        ratios.push(ms.axpby / Math.max(ms.fill, 1e-6));
      }
      ratios.sort((a, b) => a - b);
      expect(ratios[3]).toBeGreaterThan(5);
      expect(be.read(y)[n - 1]).toBe(5.5); // y = 0.5·x + y, seven times
    } finally {
      await (inner as { dispose?: () => Promise<void> }).dispose?.();
    }
  });
});
