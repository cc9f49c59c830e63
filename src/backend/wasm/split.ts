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

/**
 * Boundaries cutting rows [0, counts.length) into `parts` pieces of about equal work, row b
 * weighing counts[b] + base (its non-zeros plus a per-row cost): [0, ..., n], increasing, every piece
 * non-empty. For event-driven kernels whose rows differ in density (sigprop's target-stream rows).
 */
export function weightedCuts(counts: ArrayLike<number>, parts: number, base: number): number[] {
  const n = counts.length;
  const pieces = Math.max(1, Math.min(parts, n));
  let total = 0;
  for (let b = 0; b < n; b++) total += counts[b] + base;
  const cuts = [0];
  let acc = 0, b = 0;
  for (let i = 1; i < pieces; i++) {
    const target = (total * i) / pieces;
    while (b < n && acc + (counts[b] + base) / 2 < target) acc += counts[b++] + base;
    // leave at least one row for each of the remaining pieces
    const c = Math.min(Math.max(b, cuts[cuts.length - 1] + 1), n - (pieces - i));
    if (c > cuts[cuts.length - 1]) cuts.push(c);
    while (b < c) acc += counts[b++] + base;
  }
  cuts.push(n);
  return cuts;
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
