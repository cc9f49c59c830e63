// Blocks of kernel calls issued again from their recorded calls (Backend.replayable), on wasm with
// one and two threads: the same values, bit for bit, as the plain calls; blocks that cannot be
// replayed run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/backend.js';
import { createBackend } from '../src/backend/registry.js';
import type { WasmBackend } from '../src/backend/wasm/backend.js';
import { createRule } from '../src/learning/index.js';
import { Rng } from '../src/rng.js';
import type { Tensor } from '../src/tensor.js';

const backends: Record<number, WasmBackend> = {};
beforeAll(async () => {
  for (const threads of [1, 2]) backends[threads] = (await createBackend('wasm', { threads })) as WasmBackend;
});
afterAll(async () => {
  for (const b of Object.values(backends)) await b.dispose();
});

/** `be` without replayable: every block runs its calls. */
function plain(be: WasmBackend): Backend {
  return new Proxy(be, {
    get(t, p) {
      if (p === 'replayable') return undefined;
      const v = Reflect.get(t, p) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  }) as unknown as Backend;
}

/** Bit-for-bit equal lists of arrays; a failure names the first element that differs (not a diff of 350,000 numbers). */
function expectSame(got: ArrayLike<number>[], want: ArrayLike<number>[], what = 'tensor'): void {
  expect(got.length).toBe(want.length);
  for (let t = 0; t < want.length; t++) {
    expect(got[t].length).toBe(want[t].length);
    for (let i = 0; i < want[t].length; i++) {
      if (!Object.is(got[t][i], want[t][i])) expect.fail(`${what} ${t}, element ${i}: got ${got[t][i]}, want ${want[t][i]}`);
    }
  }
}

// [64, 1100]: large enough to be split over two threads
const [R, N] = [64, 1100];

function tensors(be: Backend, seed: number): { acc: Tensor; m: Tensor; gs: Tensor[] } {
  const rng = new Rng(seed);
  const t = () => be.fromArray([R, N], rng.fillNormal(new Float32Array(R * N)));
  return { acc: t(), m: t(), gs: [t(), t(), t(), t()] };
}

/** Run the block `runs` times, run i on gs[pick(i)] with alpha(i), through replayable or plainly; returns what it wrote and how often fn ran. */
function runBlocks(
  be: Backend, runs: number, opts: { pick?: (i: number) => number; alpha?: (i: number) => number; read?: boolean; allocAfter?: number } = {},
): { out: number[][]; ran: number } {
  const { acc, m, gs } = tensors(be, 5);
  const key = {};
  let ran = 0;
  for (let i = 0; i < runs; i++) {
    const g = gs[(opts.pick ?? ((j) => j % 4))(i)], alpha = opts.alpha?.(i) ?? 0.5;
    const block = (): void => {
      ran++;
      be.axpby(acc, g, alpha, 1);
      be.mul(g, g, m);
      be.fillRows(g, R - 4, R, 0);
      if (opts.read) be.sum(acc);
    };
    if (be.replayable) be.replayable(key, [g], block);
    else block();
    if (i === opts.allocAfter) be.free(be.tensor([3]));
  }
  return { out: [acc, ...gs].map((t) => Array.from(be.read(t))), ran };
}

describe('replayable blocks (wasm)', () => {
  for (const threads of [1, 2]) {
    it(`the calls of two runs are issued again with the params of each later run, the same values (${threads} thread(s))`, () => {
      const be = backends[threads];
      const before = be.replayedBlocks;
      const got = runBlocks(be, 10), want = runBlocks(plain(be), 10);
      expectSame(got.out, want.out);
      expect(got.ran).toBe(2);
      expect(be.replayedBlocks - before).toBe(8);
    });

    it(`a block that reads a result on the host, or whose scalar changes, runs every time (${threads} thread(s))`, () => {
      const be = backends[threads];
      const before = be.replayedBlocks;
      for (const opts of [{ read: true }, { alpha: (i: number) => 0.1 * i }]) {
        const got = runBlocks(be, 6, opts), want = runBlocks(plain(be), 6, opts);
        expectSame(got.out, want.out);
        expect(got.ran).toBe(6);
      }
      expect(be.replayedBlocks).toBe(before);
    });
  }

  it('a param that kept its tensor in the recorded runs is not replayed onto another tensor', () => {
    const be = backends[2];
    // runs 0 and 1 on gs[0] (no argument known to be the param), then gs[1], gs[0], gs[2]
    const pick = (i: number) => [0, 0, 1, 0, 2][i];
    const got = runBlocks(be, 5, { pick }), want = runBlocks(plain(be), 5, { pick });
    expectSame(got.out, want.out);
    expect(got.ran).toBe(4); // only run 3 (gs[0] again) is replayed
  });

  it('an allocation or release forgets the recorded calls: the next two runs record again', () => {
    const be = backends[1];
    const got = runBlocks(be, 8, { allocAfter: 3 }), want = runBlocks(plain(be), 8, { allocAfter: 3 });
    expectSame(got.out, want.out);
    expect(got.ran).toBe(4); // runs 0, 1, then 4, 5
  });

  it("a block run inside another block's recording is recorded there, not replayed on its own", () => {
    const be = backends[2];
    const run = (b: Backend): number[][] => {
      const { acc, m, gs } = tensors(b, 5);
      const inner = {}, outer = {};
      const add = (g: Tensor): void => {
        const block = (): void => b.axpby(acc, g, 0.5, 1);
        if (b.replayable) b.replayable(inner, [g], block);
        else block();
      };
      for (let i = 0; i < 4; i++) add(gs[i]); // the inner block has its recorded calls
      for (let i = 0; i < 6; i++) {
        const g = gs[i % 4];
        const block = (): void => {
          add(g);
          b.mul(g, g, m);
        };
        if (b.replayable) b.replayable(outer, [g], block);
        else block();
      }
      return [acc, ...gs].map((t) => Array.from(b.read(t)));
    };
    expectSame(run(be), run(plain(be)));
  });

  for (const threads of [1, 2]) {
    it(`spiking sigprop trains to the same weights with its per-step blocks replayed (${threads} thread(s))`, () => {
      const be = backends[threads];
      const train = (b: Backend): Record<string, Float32Array> => {
        const rule = createRule(
          {
            dataset: 'synthetic', rule: 'sigprop', mode: 'spiking', steps: 12, encoder: 'rate', ruleParams: { dropout: 0.1, inputDropout: 0.2 },
            layers: [{ size: 40, model: 'lif', params: { beta: 0.9 } }, { size: 40, model: 'lif', params: { beta: 0.9 } }, { size: 3 }],
          },
          { backend: b, rng: new Rng(1), inputSize: 30, numClasses: 3 },
        );
        const rng = new Rng(2);
        for (let i = 0; i < 3; i++) rule.trainBatch(rng.fillUniform(new Float32Array(8 * 30)), Int32Array.from({ length: 8 }, (_, j) => (i + j) % 3));
        const st = rule.state();
        rule.dispose?.();
        return st;
      };
      const before = be.replayedBlocks;
      const got = train(be);
      expect(be.replayedBlocks).toBeGreaterThan(before);
      const want = train(plain(be));
      expect(Object.keys(got)).toEqual(Object.keys(want));
      for (const k of Object.keys(want)) expectSame([Array.from(got[k])], [Array.from(want[k])], k);
    });
  }
});
