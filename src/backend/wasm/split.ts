/**
 * Pure helpers of the wasm backend for splitting work: chunk boundaries for threads and runs of
 * sparse / dense rows for the event kernels.
 */

/** Boundaries cutting [0, n) into at most `parts` pieces aligned to `align`: [0, ..., n] (length pieces + 1). */
export function chunkCuts(n: number, parts: number, align: number): number[] {
  const pieces = Math.max(1, Math.min(parts, Math.ceil(n / align)));
  const cuts = [0];
  for (let i = 1; i < pieces; i++) {
    const c = Math.min(n, Math.round((n * i) / pieces / align) * align);
    if (c > cuts[cuts.length - 1]) cuts.push(c);
  }
  if (n > cuts[cuts.length - 1] || cuts.length === 1) cuts.push(n);
  return cuts;
}

/** Each piece of twoEndedCuts is this fraction of its outer neighbour. */
export const GUIDED_RATIO = 0.5;

/**
 * Boundaries for two threads that claim pieces from opposite ends of [0, n) (threads.ts: the
 * caller from the front, the worker from the back): `perThread` pieces per half, each GUIDED_RATIO
 * times the size of its outer neighbour, so both threads start on large pieces of their own half
 * and the one that finishes first takes over small pieces near the middle (a late or slower thread
 * leaves little for the other to wait on). Aligned to `align`: [0, ..., n], increasing.
 */
export function twoEndedCuts(n: number, perThread: number, align: number): number[] {
  const k = Math.max(1, perThread);
  let sum = 0;
  for (let i = 0; i < k; i++) sum += GUIDED_RATIO ** i;
  const half = n / 2;
  const left: number[] = [];
  let acc = 0;
  for (let i = 0; i < k - 1; i++) {
    acc += (half * GUIDED_RATIO ** i) / sum;
    left.push(Math.round(acc / align) * align);
  }
  const mid = Math.round(half / align) * align;
  const raw = [0, ...left, mid, ...left.reverse().map((c) => n - c), n].map((c) => Math.min(n, Math.max(0, c)));
  const cuts = [0];
  for (const c of raw) if (c > cuts[cuts.length - 1]) cuts.push(c);
  if (cuts.length === 1) cuts.push(n);
  return cuts;
}

/**
 * Boundaries cutting rows [0, counts.length) by work, row b weighing counts[b] + base (its
 * non-zeros plus a per-row cost): piece i ends where the cumulative work reaches fractions[i] of
 * the total (fractions increasing in (0, 1); e.g. twoEndedCuts' boundaries over n). [0, ..., n],
 * increasing, every piece non-empty. For event-driven kernels whose rows differ in density
 * (sigprop's target-stream rows).
 */
export function weightedCuts(counts: ArrayLike<number>, fractions: readonly number[], base: number): number[] {
  const n = counts.length;
  const pieces = Math.max(1, Math.min(fractions.length + 1, n));
  let total = 0;
  for (let b = 0; b < n; b++) total += counts[b] + base;
  const cuts = [0];
  let acc = 0, b = 0;
  for (let i = 1; i < pieces; i++) {
    const target = total * fractions[i - 1];
    while (b < n && acc + (counts[b] + base) / 2 < target) acc += counts[b++] + base;
    // leave at least one row for each of the remaining pieces
    const c = Math.min(Math.max(b, cuts[cuts.length - 1] + 1), n - (pieces - i));
    if (c > cuts[cuts.length - 1]) cuts.push(c);
    while (b < c) acc += counts[b++] + base;
  }
  cuts.push(n);
  return cuts;
}

/** The inner boundaries of `parts` equal pieces as fractions of the whole (for weightedCuts). */
export function equalFractions(parts: number): number[] {
  return Array.from({ length: Math.max(0, parts - 1) }, (_, i) => (i + 1) / parts);
}

/** The inner boundaries of twoEndedCuts as fractions of the whole (for weightedCuts). */
export function twoEndedFractions(perThread: number): number[] {
  const n = 1 << 20;
  return twoEndedCuts(n, perThread, 1).slice(1, -1).map((c) => c / n);
}

/**
 * Runs of consecutive rows, given each row's count of non-zeros out of `K`: dense where the
 * fraction exceeds `fraction`; dense runs shorter than `minRun` rows count as sparse; adjacent
 * runs of the same kind are merged. Returns [r0, r1, dense] triples covering [0, counts.length).
 */
export function densityRuns(counts: ArrayLike<number>, K: number, fraction: number, minRun: number): [number, number, boolean][] {
  const B = counts.length;
  const limit = fraction * K;
  const runs: [number, number, boolean][] = [];
  let r0 = 0;
  for (let r = 1; r <= B; r++) {
    if (r === B || counts[r] > limit !== counts[r0] > limit) {
      const dense = counts[r0] > limit && r - r0 >= minRun;
      const last = runs[runs.length - 1];
      if (last && last[2] === dense) last[1] = r;
      else runs.push([r0, r, dense]);
      r0 = r;
    }
  }
  return runs;
}
