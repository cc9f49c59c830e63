import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { ParameterError, ShapeError } from '../src/errors.js';
import { getModel, modelNames } from '../models/registry.js';
import type { LifResolved } from '../models/lif.js';
import type { SynapticResolved } from '../models/synaptic.js';

const backend = new ReferenceBackend();

/** Run a 1-neuron LIF on a sequence of inputs; return [u[t]], [s[t]]. */
function runLif(params: Record<string, unknown>, inputs: number[], dtMs = 1): { u: number[]; s: number[] } {
  const m = getModel<LifResolved>('lif');
  const p = m.resolve(params as Partial<LifResolved>, dtMs);
  const st = m.init(backend, 1, 1, p);
  const x = backend.tensor([1, 1]);
  const u: number[] = [], s: number[] = [];
  for (const i of inputs) {
    backend.write(x, [i]);
    m.step(backend, p, st, x);
    u.push(st.u.data[0]);
    s.push(st.s.data[0]);
  }
  return { u, s };
}

const I5 = [0.75, 0.75, 0.75, 0.75, 0.75, 0.75];

describe('LIF (snnTorch Leaky semantics), hand-computed sequences, beta 0.5, theta 1, I 0.75', () => {
  it('reset subtract, delayed (default): reset applied at t+1 from S[t]', () => {
    // t0 0.75; t1 0.375+0.75=1.125 spike; t2 0.5625+0.75-1=0.3125; t3 0.90625; t4 1.203125 spike; t5 0.6015625+0.75-1
    const r = runLif({ beta: 0.5 }, I5);
    expect(r.u).toEqual([0.75, 1.125, 0.3125, 0.90625, 1.203125, 0.3515625]);
    expect(r.s).toEqual([0, 1, 0, 0, 1, 0]);
  });
  it('reset zero, delayed', () => {
    const r = runLif({ beta: 0.5, reset: 'zero' }, I5);
    expect(r.u).toEqual([0.75, 1.125, 0.75, 1.125, 0.75, 1.125]);
    expect(r.s).toEqual([0, 1, 0, 1, 0, 1]);
  });
  it('reset none: voltage keeps integrating and spikes on every step above threshold', () => {
    const r = runLif({ beta: 0.5, reset: 'none' }, I5);
    expect(r.u).toEqual([0.75, 1.125, 1.3125, 1.40625, 1.453125, 1.4765625]);
    expect(r.s).toEqual([0, 1, 1, 1, 1, 1]);
  });
  it('membrane floor vMin: U is clamped after the update and the reset; spikes read the clamped U', () => {
    // β 0.5, vMin −0.5: t0 −1 → −0.5; t1 −0.25 − 1 → −0.5; t2 −0.25 + 0.75 = 0.5; t3 0.25 + 1 = 1.25 spike;
    // t4 0.625 + 0 − 1 = −0.375; t5 −0.1875 − 1 → −0.5
    const r = runLif({ beta: 0.5, vMin: -0.5 }, [-1, -1, 0.75, 1, 0, -1]);
    expect(r.u).toEqual([-0.5, -0.5, 0.5, 1.25, -0.375, -0.5]);
    expect(r.s).toEqual([0, 0, 0, 1, 0, 0]);
    // without the floor the same inputs go to −1.5 at t1
    expect(runLif({ beta: 0.5 }, [-1, -1]).u).toEqual([-1, -1.5]);
    // an immediate subtract reset that lands below the floor is clamped: 1.5 → spike → 0.5 → 0.625
    const imm = runLif({ beta: 0.5, resetDelay: false, vMin: 0.625 }, [1.5]);
    expect(imm.u).toEqual([0.625]);
    expect(imm.s).toEqual([1]);
  });
  it('vMin must be finite and below the threshold', () => {
    const m = getModel<LifResolved>('lif');
    expect(() => m.resolve({ vMin: 1 }, 1)).toThrow(/vMin = 1 is out of range.*value < 1/);
    expect(() => m.resolve({ vMin: NaN } as never, 1)).toThrow(/vMin/);
    expect(() => m.resolve({ vMin: -Infinity } as never, 1)).toThrow(/vMin.*finite/);
    expect(m.resolve({}, 1).vMin).toBeUndefined();
    expect(getModel<SynapticResolved>('synaptic').resolve({ vMin: -2 }, 1).vMin).toBe(-2);
  });
  it('reset subtract, immediate (resetDelay false)', () => {
    // t1 1.125 -> spike -> 0.125; t2 0.0625+0.75=0.8125; t3 1.15625 -> 0.15625; t4 0.828125; t5 1.1640625 -> 0.1640625
    const r = runLif({ beta: 0.5, resetDelay: false }, I5);
    expect(r.u).toEqual([0.75, 0.125, 0.8125, 0.15625, 0.828125, 0.1640625]);
    expect(r.s).toEqual([0, 1, 0, 1, 0, 1]);
  });
  it('reset zero, immediate', () => {
    const r = runLif({ beta: 0.5, reset: 'zero', resetDelay: false }, I5);
    expect(r.u).toEqual([0.75, 0, 0.75, 0, 0.75, 0]);
    expect(r.s).toEqual([0, 1, 0, 1, 0, 1]);
  });
  it('t+1 timing: a spike at t with zero input afterwards is subtracted at t+1, not at t', () => {
    const delayed = runLif({ beta: 0.5 }, [1.5, 0, 0]);
    expect(delayed.u).toEqual([1.5, -0.25, -0.125]);
    expect(delayed.s).toEqual([1, 0, 0]);
    const immediate = runLif({ beta: 0.5, resetDelay: false }, [1.5, 0, 0]);
    expect(immediate.u).toEqual([0.5, 0.25, 0.125]);
    expect(immediate.s).toEqual([1, 0, 0]);
    const zeroDelayed = runLif({ beta: 0.5, reset: 'zero' }, [1.5, 0.25, 0]);
    expect(zeroDelayed.u).toEqual([1.5, 0.25, 0.125]);
  });
  it('spike needs U strictly above threshold; threshold parameter is used', () => {
    expect(runLif({ beta: 0 }, [1, 1]).s).toEqual([0, 0]);
    const r = runLif({ beta: 0.5, threshold: 2 }, [1.5, 1.5, 0]);
    expect(r.u).toEqual([1.5, 2.25, -0.875]);
    expect(r.s).toEqual([0, 1, 0]);
  });
  it('beta from tauMs and dtMs: beta = exp(-dt/tau)', () => {
    const m = getModel<LifResolved>('lif');
    expect(m.resolve({ tauMs: 10 }, 1).beta).toBeCloseTo(Math.exp(-0.1), 12);
    expect(m.resolve({ tauMs: 10 }, 0.5).beta).toBeCloseTo(Math.exp(-0.05), 12);
    expect(m.resolve({ beta: Math.exp(-0.2) }, 2).tauMs).toBeCloseTo(10, 9);
    const r = runLif({ tauMs: 10 }, [0.5, 0]);
    expect(r.u[1]).toBeCloseTo(0.5 * Math.exp(-0.1), 6);
  });
  it('resolve is idempotent (resolved parameters can be resolved again), including beta 0 and 1', () => {
    const m = getModel<LifResolved>('lif');
    for (const params of [{ beta: 0 }, { beta: 1 }, { beta: 0.5 }, { tauMs: 7 }, { tauMs: 7, reset: 'zero' as const }]) {
      const p = m.resolve(params, 0.5);
      expect(m.resolve(p, 0.5)).toEqual(p);
    }
    expect(m.resolve({ beta: 1 }, 1).tauMs).toBe(Infinity);
    expect(m.resolve({ beta: 0 }, 1).tauMs).toBe(0);
    const s = getModel<SynapticResolved>('synaptic');
    const q = s.resolve({ alpha: 0, beta: 1 }, 1);
    expect(s.resolve(q, 1)).toEqual(q);
  });
  it('is elementwise over a [batch, n] population', () => {
    const m = getModel<LifResolved>('lif');
    const p = m.resolve({ beta: 0.5 }, 1);
    const st = m.init(backend, 2, 3, p);
    const x = backend.fromArray([2, 3], [0.75, 0, 1.5, 2, 0.25, 0.75]);
    m.step(backend, p, st, x);
    m.step(backend, p, st, x);
    // I 1.5: 1.5 (spike) -> 0.75+1.5-1 = 1.25; I 2: 2 (spike) -> 1+2-1 = 2
    expect(Array.from(st.u.data)).toEqual([1.125, 0, 1.25, 2, 0.375, 1.125]);
    expect(Array.from(st.s.data)).toEqual([1, 0, 1, 1, 0, 1]);
  });
});

describe('LIF and synaptic parameter validation', () => {
  const lif = () => getModel<LifResolved>('lif');
  it('registry lists lif and synaptic and rejects unknown names with the known list', () => {
    expect(modelNames()).toEqual(expect.arrayContaining(['lif', 'synaptic']));
    expect(() => getModel('lfi')).toThrow(ParameterError);
    expect(() => getModel('lfi')).toThrow(/lfi.*lif/);
  });
  it('beta outside [0, 1]', () => {
    expect(() => lif().resolve({ beta: 1.5 }, 1)).toThrow(ParameterError);
    expect(() => lif().resolve({ beta: -0.1 }, 1)).toThrow(/beta.*0 <= value <= 1/);
  });
  it('negative or zero tau', () => {
    expect(() => lif().resolve({ tauMs: -5 }, 1)).toThrow(/tauMs.*0 < value/);
    expect(() => lif().resolve({ tauMs: 0 }, 1)).toThrow(ParameterError);
  });
  it('dt <= 0 or not finite', () => {
    expect(() => lif().resolve({}, 0)).toThrow(/dtMs.*0 < value/);
    expect(() => lif().resolve({}, -1)).toThrow(ParameterError);
    expect(() => lif().resolve({}, NaN)).toThrow(/dtMs/);
  });
  it('threshold, reset, resetDelay, unknown keys, beta/tau disagreement', () => {
    expect(() => lif().resolve({ threshold: 0 }, 1)).toThrow(/threshold.*0 < value/);
    expect(() => lif().resolve({ threshold: Infinity }, 1)).toThrow(/threshold/);
    expect(() => lif().resolve({ reset: 'zeros' as never }, 1)).toThrow(/reset.*subtract, zero, none/);
    expect(() => lif().resolve({ resetDelay: 'yes' as never }, 1)).toThrow(/resetDelay/);
    expect(() => lif().resolve({ tau: 5 } as never, 1)).toThrow(/unknown parameter "tau".*tauMs/);
    expect(() => lif().resolve({ beta: 0.5, tauMs: 10 }, 1)).toThrow(/beta.*tauMs.*disagree/);
    expect(lif().resolve({ beta: Math.exp(-0.1), tauMs: 10 }, 1).beta).toBeCloseTo(Math.exp(-0.1), 12);
  });
  it('mismatched input shape and bad population sizes', () => {
    const m = lif();
    const p = m.resolve({}, 1);
    const st = m.init(backend, 2, 3, p);
    expect(() => m.step(backend, p, st, backend.tensor([2, 4]))).toThrow(ShapeError);
    expect(() => m.step(backend, p, st, backend.tensor([3, 2]))).toThrow(/input has shape \[3, 2\].*\[2, 3\]/);
    expect(() => m.init(backend, 0, 3, p)).toThrow(/batch/);
    expect(() => m.init(backend, 2, 1.5, p)).toThrow(/n .*integer/);
  });
  it('synaptic: alpha/tauSynMs validation', () => {
    const m = getModel<SynapticResolved>('synaptic');
    expect(() => m.resolve({ alpha: 2 }, 1)).toThrow(/alpha.*0 <= value <= 1/);
    expect(() => m.resolve({ tauSynMs: -1 }, 1)).toThrow(/tauSynMs/);
    expect(m.resolve({ tauSynMs: 5, tauMs: 10 }, 1).alpha).toBeCloseTo(Math.exp(-0.2), 12);
  });
});

describe('synaptic LIF, hand-computed', () => {
  it('I_syn = alpha I_syn + I; U = beta U + I_syn - R theta', () => {
    const m = getModel<SynapticResolved>('synaptic');
    const p = m.resolve({ alpha: 0.5, beta: 0.5 }, 1);
    const st = m.init(backend, 1, 1, p);
    const x = backend.tensor([1, 1]);
    const u: number[] = [], j: number[] = [], s: number[] = [];
    for (const i of [0.5, 0.5, 0, 0, 0]) {
      backend.write(x, [i]);
      m.step(backend, p, st, x);
      u.push(st.u.data[0]); j.push(st.isyn.data[0]); s.push(st.s.data[0]);
    }
    // isyn: 0.5, 0.75, 0.375, 0.1875, 0.09375
    // u: 0.5, 0.25+0.75=1.0 (no spike, not > 1), 0.5+0.375=0.875, 0.4375+0.1875=0.625, 0.3125+0.09375
    expect(j).toEqual([0.5, 0.75, 0.375, 0.1875, 0.09375]);
    expect(u).toEqual([0.5, 1, 0.875, 0.625, 0.40625]);
    expect(s).toEqual([0, 0, 0, 0, 0]);
    // now drive it over threshold: a spike at t then subtraction at t+1
    backend.write(x, [2]);
    m.step(backend, p, st, x); // isyn 2.046875, u 0.203125+2.046875=2.25 -> spike
    expect(st.u.data[0]).toBe(2.25);
    expect(st.s.data[0]).toBe(1);
    backend.write(x, [0]);
    m.step(backend, p, st, x); // isyn 1.0234375, u 1.125+1.0234375-1
    expect(st.u.data[0]).toBe(1.1484375);
  });
});
