/**
 * Pinned training results (test/fixtures/engine-pin.ts): every named experiment and both backprop
 * baselines, at 64 hidden units and 5 batches on the reference backend, must reproduce the state
 * tensors recorded from the code as it was before the engine is rewritten: every sampled value and
 * both norms within 1e-5 relative (bit-identical while the arithmetic order is unchanged; the test
 * reports which).
 */
import { describe, expect, it } from 'vitest';
import { PIN_CASES, pinTensor, readPins, trainCase } from './fixtures/engine-pin.js';

const pins = readPins();
const REL = 1e-5;

/** |a − b| within REL of the larger magnitude (values near 0 compared against the tensor's RMS). */
function close(a: number, b: number, scale: number): boolean {
  return Math.abs(a - b) <= REL * Math.max(Math.abs(a), Math.abs(b), scale);
}

describe('pinned training results (reference backend, 64 hidden units, 5 batches)', () => {
  it('covers every case', () => {
    expect(Object.keys(pins).sort()).toEqual(PIN_CASES.map((c) => c.id).sort());
  });

  for (const c of PIN_CASES) {
    it(c.id, async () => {
      const tensors = await trainCase(c);
      const want = pins[c.id];
      expect(Object.keys(tensors).sort()).toEqual(Object.keys(want).sort());
      const differ: string[] = [];
      for (const [name, data] of Object.entries(tensors)) {
        const w = want[name];
        const got = pinTensor(data);
        expect(got.length, name).toBe(w.length);
        if (got.sha256 !== w.sha256) differ.push(name);
        const rms = w.l2 / Math.sqrt(Math.max(1, w.length));
        expect(close(got.l1, w.l1, 0), `${name} L1 ${got.l1} vs ${w.l1}`).toBe(true);
        expect(close(got.l2, w.l2, 0), `${name} L2 ${got.l2} vs ${w.l2}`).toBe(true);
        for (const [i, v] of w.samples) expect(close(data[i], v, rms * 1e-3), `${name}[${i}] ${data[i]} vs ${v}`).toBe(true);
      }
      if (differ.length) console.info(`${c.id}: within ${REL} but not bit-identical: ${differ.join(', ')}`);
    }, 30000);
  }
});
