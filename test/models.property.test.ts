import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReferenceBackend } from '../src/backend/reference.js';
import { defineEquationModel, getModel } from '../models/registry.js';
import type { LeakyResolved } from '../models/leaky.js';
import type { LifResolved } from '../models/lif.js';

const backend = new ReferenceBackend();
const f32 = (x: number) => Math.fround(x);

describe('model properties over random parameters', () => {
  it('leaky exact method equals the analytic solution for any tau, dt, h0, I', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 100, noNaN: true }),
        fc.double({ min: 0.01, max: 5, noNaN: true }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        fc.double({ min: -5, max: 5, noNaN: true }),
        (tauMs, dtMs, h0, I) => {
          const m = getModel<LeakyResolved>('leaky');
          const p = m.resolve({ tauMs, h0: f32(h0), activation: 'identity' }, dtMs);
          const st = m.init(backend, 1, 1, p);
          const x = backend.fromArray([1, 1], [I]);
          for (let k = 0; k < 20; k++) m.step(backend, p, st, x);
          const ref = f32(I) + (f32(h0) - f32(I)) * Math.exp((-20 * dtMs) / tauMs);
          expect(Math.abs(st.h.data[0] - ref)).toBeLessThan(1e-5 * (1 + Math.abs(h0) + Math.abs(I)));
          expect(st.a.data[0]).toBe(st.h.data[0]);
        },
      ),
      { numRuns: 60, seed: 11 },
    );
  });

  it('equation-defined LIF equals the built-in LIF bit for bit for any beta and threshold', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.array(fc.double({ min: -1, max: 2, noNaN: true }), { minLength: 30, maxLength: 30 }),
        (beta, threshold, inputs) => {
          const lif = getModel<LifResolved>('lif');
          const p = lif.resolve({ beta, threshold }, 1);
          const eq = defineEquationModel({
            name: 'prop-eqlif',
            equations: 'u = beta*u + I - s*threshold',
            threshold: 'u > threshold',
            parameters: { beta, threshold },
          });
          const q = eq.resolve({}, 1);
          const a = lif.init(backend, 1, 3, p), b = eq.init(backend, 1, 3, q);
          const x = backend.tensor([1, 3]);
          for (let t = 0; t < 10; t++) {
            backend.write(x, inputs.slice(3 * t, 3 * t + 3));
            lif.step(backend, p, a, x);
            eq.step(backend, q, b, x);
            expect(Array.from(b.u.data)).toEqual(Array.from(a.u.data));
            expect(Array.from(b.s.data)).toEqual(Array.from(a.s.data));
          }
        },
      ),
      { numRuns: 40, seed: 5 },
    );
  });
});
