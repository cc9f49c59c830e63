/**
 * What a spiking run's report shows beyond the training curves: voltage traces and rasters of a
 * few test samples before and after training (recorded from the run's checkpoint by
 * writeTracesReport, raw JSON/CSV kept in the run folder), and the shape of the surrogate the run
 * trained with (f and f'). Called by the run loop (src/runner.ts) when it writes report.html.
 *
 * Never throws: whatever fails becomes a warning line, so a run always completes and writes its
 * report.
 */
import { join } from 'node:path';
import type { Backend } from '../backend/backend.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Dataset } from '../data/types.js';
import type { SurrogateComparisonJson, TraceSet } from './types.js';
import { cliCommand } from '../invocation.js';

/** Options of spikingRunExtras. */
export interface RunExtrasOptions {
  /** The run's dataset (avoids loading it again; its name need not be registered). */
  dataset?: Dataset;
  /** Number of test samples to trace (default 4; config.record.samples wins when set). */
  samples?: number;
  /** Backend for the recording (default: a fresh reference backend). */
  backend?: Backend;
  /** Label of the after-training set, e.g. 'after training (epoch 5)' (default 'after training'). */
  afterLabel?: string;
}

/** What spikingRunExtras produced; pass `traces` and `surrogates` to writeRunReport. */
export interface RunExtras {
  traces?: TraceSet[];
  surrogates?: SurrogateComparisonJson;
  /** Paragraphs for the report (where the raw recordings are). */
  notes: string[];
  /** Problems, one line each (also to be logged by the caller). */
  warnings: string[];
  /** Raw recording files written (absolute paths). */
  rawFiles: string[];
  /** Wall-clock seconds spent on traces and surrogate curves. */
  seconds: number;
}

/** Stem of the raw recording files in a run folder: traces.before.json, traces.after.csv, traces.input.json ... */
export const RUN_TRACES_STEM = 'traces';

/**
 * Test-split indices to trace: `record.samples` when the config names them (those inside the
 * split), else `count` samples, the first of each class in test order first (so that different
 * classes are shown), then the following ones.
 */
export function pickTraceSamples(labels: ArrayLike<number>, count: number, configured?: readonly number[]): number[] {
  const n = labels.length;
  if (configured?.length) return configured.filter((i) => Number.isInteger(i) && i >= 0 && i < n);
  const want = Math.min(count, n);
  const picked: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < n && picked.length < want; i++) {
    if (!seen.has(labels[i])) {
      seen.add(labels[i]);
      picked.push(i);
    }
  }
  for (let i = 0; i < n && picked.length < want; i++) if (!picked.includes(i)) picked.push(i);
  return picked.sort((a, b) => a - b);
}

/**
 * Half-width of the x = U − θ window that shows a surrogate's shape: 1.5 × the largest |x| where
 * f'(x) is still ≥ 1 % of its peak (searched on [−4, 4]), rounded up to 0.25, 0.5, 1, 2 or 4.
 * fastSigmoid:k=25 → 1; sigmoid:k=5 (default) → 0.5; atan:alpha=2 → 4.
 */
export function surrogateWindow(df: (x: number) => number): number {
  const xs = Array.from({ length: 8001 }, (_, i) => -4 + i / 1000);
  const d = xs.map((x) => Math.abs(df(x)));
  const peak = Math.max(...d.filter(Number.isFinite));
  let w = 0;
  xs.forEach((x, i) => {
    if (d[i] >= 0.01 * peak) w = Math.max(w, Math.abs(x));
  });
  return [0.25, 0.5, 1, 2, 4].find((h) => h >= 1.5 * w) ?? 4;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Record traces (before/after training) of the run whose checkpoint is in `runDir`, keep the raw
 * recordings there, and sample the run's surrogate. Only for mode 'spiking'; other modes get
 * nothing. Failures are returned as warnings, never thrown.
 */
export async function spikingRunExtras(cfg: ResolvedConfig, runDir: string, o: RunExtrasOptions = {}): Promise<RunExtras> {
  const out: RunExtras = { notes: [], warnings: [], rawFiles: [], seconds: 0 };
  if (cfg.mode !== 'spiking') return out;
  const t0 = performance.now();
  try {
    const { writeTracesReport } = await import('./inspect.js');
    const { basename } = await import('node:path');
    const labels = o.dataset?.test.labels;
    const samples = labels ? pickTraceSamples(labels, o.samples ?? 4, cfg.record?.samples) : undefined;
    if (samples && !samples.length) throw new Error('the test split is empty');
    const r = await writeTracesReport({
      checkpoint: runDir,
      outFile: join(runDir, `${RUN_TRACES_STEM}.html`),
      page: false,
      samples: samples ?? Array.from({ length: o.samples ?? 4 }, (_, i) => i),
      dataset: o.dataset,
      backend: o.backend,
    });
    const after = o.afterLabel ?? 'after training';
    out.traces = r.sets.map((s) => (s.label.startsWith('after') ? { ...s, label: after } : s));
    out.rawFiles = r.rawFiles;
    out.warnings.push(...r.warnings.map((w) => `traces: ${w}`));
    out.notes.push(
      `Traces: test samples ${samples?.join(', ') ?? ''} run through the saved network before and after training (${o.backend?.name ?? 'reference'} backend, same input spikes, seed ${cfg.seed}). ` +
        `Raw recordings in the run folder: ${r.rawFiles.map((f) => basename(f)).join(', ')}; more samples or neurons: ${cliCommand()} traces ${runDir} --samples 0,1,2 --neurons 0,5,9.`,
    );
    if (r.neuronChoice) out.notes.push(r.neuronChoice);
  } catch (err) {
    out.warnings.push(`voltage traces not recorded: ${message(err)}`);
  }
  try {
    const { surrogateComparison } = await import('../../surrogates/comparison.js');
    const { getSurrogate } = await import('../../surrogates/registry.js');
    if (cfg.surrogate) {
      const s = getSurrogate(cfg.surrogate);
      const h = surrogateWindow((x) => s.df(x));
      out.surrogates = surrogateComparison({ names: [cfg.surrogate], xMin: -h, xMax: h });
    }
  } catch (err) {
    out.warnings.push(`surrogate figure left out: ${message(err)}`);
  }
  out.seconds = (performance.now() - t0) / 1000;
  return out;
}
