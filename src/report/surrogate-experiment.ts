/**
 * The surrogate experiment's page: the shapes of exactly the surrogates that were compared
 * (f and f' on one grid) next to their accuracy over seeds. Input is the experiment's results
 * (experiments/surrogate-compare.ts writes { runs: [{ surrogate, seed, testAccuracy, trainS }] }).
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';
import { getSurrogate } from '../../surrogates/index.js';
import { writeSurrogateReport, type WrittenReport } from './run.js';
import { sampleSurrogates } from './surrogates.js';
import type { SurrogateAccuracyRow } from './types.js';

/** One training run of the surrogate experiment. */
export interface SurrogateRun {
  /** Surrogate spec as given to the config, e.g. 'atan:alpha=2'. */
  surrogate: string;
  seed: number;
  /** Test accuracy, fraction in [0, 1]. */
  testAccuracy: number;
  /** Training time of the run, seconds. */
  trainS?: number;
}

/** Group runs by surrogate (first-seen order): seeds, per-seed accuracies, mean training time. */
export function accuracyRowsFromRuns(runs: readonly SurrogateRun[]): SurrogateAccuracyRow[] {
  const rows = new Map<string, { seeds: number[]; acc: number[]; times: number[] }>();
  for (const r of runs) {
    const g = rows.get(r.surrogate) ?? { seeds: [], acc: [], times: [] };
    g.seeds.push(r.seed);
    g.acc.push(r.testAccuracy);
    if (r.trainS !== undefined) g.times.push(r.trainS);
    rows.set(r.surrogate, g);
  }
  return [...rows].map(([surrogate, g]) => ({
    surrogate,
    seeds: g.seeds,
    accuracies: g.acc,
    trainTimeS: g.times.length ? g.times.reduce((a, b) => a + b, 0) / g.times.length : undefined,
  }));
}

/**
 * Write the surrogate experiment's HTML page from its results (a JSON file path or the parsed
 * object with `runs`). Surrogates whose spec the registry cannot resolve (e.g. a custom one from
 * another session) keep their accuracy row but get no curve; they are listed in the page.
 */
export function writeSurrogateExperimentReport(
  results: string | { runs: SurrogateRun[]; command?: string; started?: string },
  outFile: string,
  grid: { xMin?: number; xMax?: number; points?: number } = {},
): WrittenReport & { missingCurves: string[] } {
  let data: { runs: SurrogateRun[]; command?: string; started?: string };
  if (typeof results === 'string') {
    try {
      data = JSON.parse(readFileSync(results, 'utf8'));
    } catch (err) {
      throw new DataError(`surrogate results ${results} could not be read as JSON (${(err as Error).message}); pass the .json file written by experiments/surrogate-compare.ts`);
    }
  } else data = results;
  if (!data || !Array.isArray(data.runs)) {
    throw new DataError(`surrogate results${typeof results === 'string' ? ` ${results}` : ''} have no "runs" list; expected { runs: [{ surrogate, seed, testAccuracy, trainS }] }`);
  }
  const rows = accuracyRowsFromRuns(data.runs);
  const missingCurves: string[] = [];
  const resolved = rows.flatMap((r) => {
    try {
      return [getSurrogate(r.surrogate)];
    } catch {
      missingCurves.push(r.surrogate);
      return [];
    }
  });
  const curves = sampleSurrogates(resolved, grid.xMin ?? -2, grid.xMax ?? 2, grid.points ?? 401);
  const notes = [
    data.command ? `Command: ${data.command}` : '',
    data.started ? `Started: ${data.started}` : '',
    `${data.runs.length} runs, ${rows.length} surrogates.`,
    missingCurves.length ? `No curve for (spec not in the registry here): ${missingCurves.join(', ')}.` : '',
  ].filter(Boolean);
  const w = writeSurrogateReport(outFile, curves, rows, { title: 'Surrogate experiment', notes });
  return { ...w, missingCurves };
}
