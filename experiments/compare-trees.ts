/**
 * Two checkouts of this project compared in one process, for a change to the hot path that cannot
 * be switched on and off at run time:
 *
 *   git worktree add /tmp/base HEAD~1 && (cd /tmp/base && npm ci)        # or a copy with node_modules and the kernels built
 *   node --import tsx experiments/compare-trees.ts '{"a":"/tmp/base","b":".","threads":2,"pairs":40}'
 *
 * Each tree builds the mnist-lif trainer of its own experiments/bench-train.ts (its own engine and
 * kernels); their batches alternate (a then b, then b then a, ...) after `warmup` pairs, so both
 * see the machine in the same state. On the project's 2-core VM, whose speed drifts by tens of percent
 * within minutes, separate benchmark runs of the two trees differ more than most changes do; the
 * ratio of adjacent batches does not (the same tree in both places gave 0.99–1.01). Prints one JSON
 * line: `aOverB`, the median over the pairs of a's batch time ÷ b's (above 1: b is faster), and
 * each tree's median batch in ms.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { childEntry } from './bench-train.js';

export interface CompareTreesOptions {
  /** Directory of the first tree (this project, its node_modules and built kernels). */
  a: string;
  /** Directory of the second tree. */
  b: string;
  /** wasm threads of both trainers (default 2). */
  threads?: number;
  /** Steps T of the window (default 25, the mnist-lif preset's). */
  steps?: number;
  /** Timed batch pairs (default 40). */
  pairs?: number;
  /** Untimed pairs first (default 30: V8 compiles for about the first 50 batches of mnist-lif). */
  warmup?: number;
}

export interface CompareTreesResult {
  a: string;
  b: string;
  threads: number;
  steps: number;
  pairs: number;
  warmup: number;
  /** Median over the pairs of (a's batch time ÷ b's). */
  aOverB: number;
  /** The pairs' ratios, quartiles [25%, 50%, 75%]. */
  aOverBQuartiles: number[];
  aMsPerBatch: number;
  bMsPerBatch: number;
}

type Trainer = { train(i: number): Promise<unknown>; dispose(): Promise<void> };

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function count(name: string, v: unknown, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`compare-trees: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

async function trainer(dir: string, threads: number, steps: number): Promise<Trainer> {
  const entry = resolve(dir, 'experiments', 'bench-train.ts');
  if (!existsSync(entry)) throw new Error(`compare-trees: ${dir} holds no experiments/bench-train.ts; give the directory of a checkout of this project`);
  const m = (await import(pathToFileURL(entry).href)) as typeof import('./bench-train.js');
  const t = await m.setUpTrainer({ purpose: 'throughput', rule: 'sigprop', backend: 'wasm', threads, steps, preset: 'mnist-lif' }, 20);
  if (!t.ok) throw new Error(`compare-trees: ${dir}: ${t.reason} (are its node_modules installed and its kernels built, npm run build:wasm?)`);
  return t;
}

export async function compareTrees(o: CompareTreesOptions): Promise<CompareTreesResult> {
  if (typeof o.a !== 'string' || typeof o.b !== 'string') throw new Error('compare-trees: give both trees, {"a": "<dir>", "b": "<dir>"}');
  const threads = count('threads', o.threads, 2, 1), steps = count('steps', o.steps, 25, 1);
  const pairs = count('pairs', o.pairs, 40, 1), warmup = count('warmup', o.warmup, 30, 0);
  const ta = await trainer(o.a, threads, steps), tb = await trainer(o.b, threads, steps);
  try {
    let i = 0;
    for (; i < warmup; i++) {
      await ta.train(i);
      await tb.train(i);
    }
    const ratios: number[] = [], msA: number[] = [], msB: number[] = [];
    for (let p = 0; p < pairs; p++, i++) {
      const ms = new Map<Trainer, number>();
      for (const t of p % 2 === 0 ? [ta, tb] : [tb, ta]) {
        const t0 = performance.now();
        await t.train(i);
        ms.set(t, performance.now() - t0);
      }
      msA.push(ms.get(ta)!);
      msB.push(ms.get(tb)!);
      ratios.push(ms.get(ta)! / ms.get(tb)!);
    }
    const sorted = (x: number[]) => [...x].sort((p, q) => p - q);
    const r = sorted(ratios), round = (x: number, d: number) => +x.toFixed(d);
    return {
      a: o.a, b: o.b, threads, steps, pairs, warmup,
      aOverB: round(quantile(r, 0.5), 4), aOverBQuartiles: [0.25, 0.5, 0.75].map((q) => round(quantile(r, q), 4)),
      aMsPerBatch: round(quantile(sorted(msA), 0.5), 2), bMsPerBatch: round(quantile(sorted(msB), 0.5), 2),
    };
  } finally {
    await ta.dispose();
    await tb.dispose();
  }
}

childEntry(import.meta.url, compareTrees);
