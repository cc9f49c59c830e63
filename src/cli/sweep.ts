/**
 * Sweeps: a grid over surrogates, seeds and learning rates (and any base config), split into
 * shards with no coordinator. The grid order is fixed (surrogate, then learning rate, then
 * seed), point i belongs to shard (i mod n) + 1, and every point trains into its own run folder
 * `<sweepDir>/<point name>`, so a job array (`--shard $SLURM_ARRAY_TASK_ID/$N`, 1-based) or
 * several machines sharing a folder cover the grid exactly once. Re-running a shard skips
 * finished points and resumes interrupted ones.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig } from '../config/resolve.js';
import { ignoredSettings } from '../config/semantics.js';
import type { ResolvedConfig } from '../config/types.js';
import { toCsv, writeFileAtomic, writeJsonAtomic } from '../io.js';
import { resumeRun, runExperiment, RUN_FILES, type RunEpochMetrics, type RunExperimentOptions, type RunState } from '../runner.js';
import { UsageError } from './args.js';

/** The swept values; an empty or missing axis keeps the base config's value. */
export interface SweepAxes {
  surrogates?: string[];
  seeds?: number[];
  learningRates?: number[];
}

/** One point of the grid. */
export interface GridPoint {
  /** Position in the full grid (0-based). */
  index: number;
  /** Folder name, e.g. 'atan_alpha=2__lr0.01__seed3'. */
  name: string;
  /** Config fields this point sets. */
  overrides: { surrogate?: string; learningRate?: number; seed?: number };
}

/** A shard: number `index` (1-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9.=+-]+/g, '_');

/** The full grid in its fixed order (surrogate-major, then learning rate, then seed). */
export function sweepGrid(axes: SweepAxes): GridPoint[] {
  const sgs: (string | undefined)[] = axes.surrogates?.length ? axes.surrogates : [undefined];
  const lrs: (number | undefined)[] = axes.learningRates?.length ? axes.learningRates : [undefined];
  const seeds: (number | undefined)[] = axes.seeds?.length ? axes.seeds : [undefined];
  const points: GridPoint[] = [];
  const names = new Set<string>();
  for (const surrogate of sgs) {
    for (const learningRate of lrs) {
      for (const seed of seeds) {
        const parts: string[] = [];
        if (surrogate !== undefined) parts.push(safe(surrogate));
        if (learningRate !== undefined) parts.push(`lr${learningRate}`);
        if (seed !== undefined) parts.push(`seed${seed}`);
        const name = parts.join('__') || 'base';
        if (names.has(name)) throw new UsageError(`sweep: the grid has the point ${name} twice; list each surrogate, seed and learning rate once`);
        names.add(name);
        const overrides: GridPoint['overrides'] = {};
        if (surrogate !== undefined) overrides.surrogate = surrogate;
        if (learningRate !== undefined) overrides.learningRate = learningRate;
        if (seed !== undefined) overrides.seed = seed;
        points.push({ index: points.length, name, overrides });
      }
    }
  }
  return points;
}

/**
 * Refuse an axis the base config does not read: every point would train the same network and
 * the summary would show identical rows (e.g. --surrogates over a rate-mode config).
 */
export function checkSweepAxes(base: ResolvedConfig, axes: SweepAxes): void {
  const surrogate = ignoredSettings(base).find((s) => s.field === 'surrogate');
  if (axes.surrogates?.length && surrogate) {
    throw new UsageError(
      `--surrogates: the surrogate has no effect on this config (${surrogate.why}), so every surrogate would train the same network and give identical rows`,
      'sweep --seeds or --learning-rates instead, or start from a spiking config (mode "spiking", representation "surrogate")',
    );
  }
}

/** Parse 'i/n' (1 <= i <= n). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new UsageError(`--shard ${JSON.stringify(text)} must be i/n with 1 <= i <= n (shards are numbered from 1), e.g. --shard 2/8`);
  }
  return { index, count };
}

/** The points of one shard: those whose grid index i has i mod count = index - 1. */
export function shardPoints(points: readonly GridPoint[], shard: Shard = { index: 1, count: 1 }): GridPoint[] {
  return points.filter((p) => p.index % shard.count === shard.index - 1);
}

/** Parse a list of numbers; integers may be given as ranges 'a-b' (seeds). */
export function parseNumberList(flag: string, items: readonly string[], integer: boolean): number[] {
  const out: number[] = [];
  for (const it of items) {
    const range = integer ? /^(\d+)-(\d+)$/.exec(it) : null;
    if (range) {
      const [a, b] = [Number(range[1]), Number(range[2])];
      if (b < a || b - a > 10000) throw new UsageError(`--${flag} range ${it} must be low-high with low <= high (at most 10000 values)`);
      for (let v = a; v <= b; v++) out.push(v);
      continue;
    }
    const v = Number(it);
    if (it === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) throw new UsageError(`--${flag}: ${JSON.stringify(it)} is not ${integer ? 'an integer (or a range a-b)' : 'a number'}`);
    out.push(v);
  }
  return out;
}

/** Status of a grid point's run folder. */
export function pointStatus(dir: string): RunState['status'] | 'pending' {
  const p = join(dir, RUN_FILES.state);
  if (!existsSync(p)) return 'pending';
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as RunState).status;
  } catch {
    return 'failed';
  }
}

export interface SweepOptions extends Pick<RunExperimentOptions, 'progress' | 'log' | 'report' | 'handleSigint' | 'signal' | 'dataset' | 'createRule' | 'backend'> {
  sweepDir: string;
  shard?: Shard;
}

export interface SweepResult {
  /** Points of this shard, each with what happened. */
  points: { name: string; status: RunState['status'] | 'skipped'; testAccuracy?: number }[];
  interrupted: boolean;
}

/** Run this shard's points of the grid over `base`. */
export async function runSweep(base: ResolvedConfig, axes: SweepAxes, opts: SweepOptions): Promise<SweepResult> {
  checkSweepAxes(base, axes);
  const grid = sweepGrid(axes);
  const mine = shardPoints(grid, opts.shard);
  const configs = grid.map((p) => resolveConfig({ ...base, ...p.overrides, name: `${base.name}__${p.name}` }, `sweep point ${p.name}`));
  writeJsonAtomic(join(opts.sweepDir, 'sweep.json'), { base, axes, points: grid });
  const log = opts.log ?? (() => {});
  const result: SweepResult = { points: [], interrupted: false };
  for (const p of mine) {
    const dir = join(opts.sweepDir, p.name);
    const status = pointStatus(dir);
    const runOpts = { ...opts, runDir: dir };
    log(`[shard ${opts.shard?.index ?? 1}/${opts.shard?.count ?? 1}] point ${p.index + 1}/${grid.length} ${p.name}: ${status === 'pending' ? 'start' : status}`);
    if (status === 'complete' || status === 'diverged') {
      result.points.push({ name: p.name, status: status === 'complete' ? 'skipped' : 'diverged' });
      continue;
    }
    const r = status === 'pending' ? await runExperiment(configs[p.index], runOpts) : await resumeRun(dir, runOpts);
    result.points.push({ name: p.name, status: r.status, testAccuracy: r.metrics.at(-1)?.testAccuracy });
    if (r.status === 'interrupted') {
      result.interrupted = true;
      break;
    }
  }
  writeSweepSummary(opts.sweepDir);
  return result;
}

/** One row of a sweep summary. */
export interface SweepRow {
  point: string;
  status: string;
  surrogate?: string;
  learningRate?: number;
  seed?: number;
  epochs?: number;
  testAccuracy?: number;
  bestTestAccuracy?: number;
  trainLoss?: number;
  timeS?: number;
}

/** Gather every point folder of a sweep into rows (any shard may call this at any time). */
export function collectSweep(sweepDir: string): SweepRow[] {
  const manifest = join(sweepDir, 'sweep.json');
  if (!existsSync(manifest)) throw new UsageError(`${sweepDir} is not a sweep folder (no sweep.json)`);
  const { points } = JSON.parse(readFileSync(manifest, 'utf8')) as { points: GridPoint[] };
  const present = new Set(existsSync(sweepDir) ? readdirSync(sweepDir) : []);
  return points.map((p) => {
    const row: SweepRow = { point: p.name, status: present.has(p.name) ? pointStatus(join(sweepDir, p.name)) : 'pending', ...p.overrides };
    const mPath = join(sweepDir, p.name, RUN_FILES.metrics);
    if (existsSync(mPath)) {
      const m = JSON.parse(readFileSync(mPath, 'utf8')) as RunEpochMetrics[];
      const last = m.at(-1);
      if (last) Object.assign(row, { epochs: last.epoch, testAccuracy: last.testAccuracy, bestTestAccuracy: Math.max(...m.map((e) => e.testAccuracy)), trainLoss: last.trainLoss, timeS: m.reduce((s, e) => s + e.timeS, 0) });
    }
    return row;
  });
}

/** Write summary.json and summary.csv of a sweep folder (atomically). Returns the rows. */
export function writeSweepSummary(sweepDir: string): SweepRow[] {
  const rows = collectSweep(sweepDir);
  writeJsonAtomic(join(sweepDir, 'summary.json'), rows);
  const cols = ['point', 'status', 'surrogate', 'learningRate', 'seed', 'epochs', 'testAccuracy', 'bestTestAccuracy', 'trainLoss', 'timeS'];
  writeFileAtomic(join(sweepDir, 'summary.csv'), toCsv(rows as unknown as Record<string, unknown>[], cols));
  return rows;
}
