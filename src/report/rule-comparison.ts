/**
 * The rule comparison's page (experiments/compare-rules.ts): one table per dataset of test
 * accuracy, seconds per epoch and peak memory of every learning rule on the same task, and the
 * learning curves of all rules on one plot (test accuracy against epoch).
 */
import { readFileSync } from 'node:fs';
import { DataError } from '../errors.js';
import { baseLayout, colour, legendBelow } from './metrics.js';
import { writePage, type Block, type Figure, type ReportPage, type Section } from './page.js';
import type { WrittenReport } from './run.js';

/** One (rule, dataset) training run of the comparison. */
export interface RuleComparisonRun {
  /** Row label, e.g. 'pepita' or 'sigprop (spiking)'. */
  label: string;
  /** Experiment (preset) the run started from. */
  preset: string;
  dataset: string;
  /** Config rule and network kind ('rate', 'spiking', 'continuous'). */
  rule: string;
  network: string;
  /** Network sizes, e.g. '784-1024-10'. */
  sizes: string;
  status: string;
  /** Test accuracy per epoch (fractions in [0, 1]), epoch 1 first. */
  testAccuracy: number[];
  /** Wall-clock seconds per epoch (training and the epoch's test evaluation). */
  epochSeconds: number[];
  /** Peak resident set size of the run's process, MiB (the dataset in memory included). */
  peakRssMiB: number;
  /** Spiking rules: peak RSS of a short run at each number of time steps T, MiB. */
  memoryVsSteps?: { steps: number; peakRssMiB: number }[];
  runDir: string;
  /** Why the run did not finish (status 'failed'). */
  error?: string;
}

/** The results file experiments/compare-rules.ts writes. */
export interface RuleComparisonResults {
  command?: string;
  started?: string;
  machine?: string;
  runs: RuleComparisonRun[];
}

const pct = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(2)}%`);
const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The memory-vs-T steps that occur in `runs`, ascending. */
function memorySteps(runs: readonly RuleComparisonRun[]): number[] {
  return [...new Set(runs.flatMap((r) => (r.memoryVsSteps ?? []).map((m) => m.steps)))].sort((a, b) => a - b);
}

/** Table rows (header first) of the runs of one dataset: final and best test accuracy, median s/epoch, peak memory. */
export function ruleComparisonRows(runs: readonly RuleComparisonRun[]): { columns: string[]; rows: string[][] } {
  const steps = memorySteps(runs);
  const columns = ['rule', 'network', 'epochs', 'test accuracy (last)', 'best epoch', 's / epoch (median)', 'peak RSS (MiB)', ...steps.map((t) => `RSS at T = ${t} (MiB)`)];
  const rows = runs.map((r) => {
    const last = r.testAccuracy.at(-1);
    const best = r.testAccuracy.length ? Math.max(...r.testAccuracy) : undefined;
    const s = median(r.epochSeconds);
    return [
      r.label, `${r.sizes} ${r.network}`, String(r.testAccuracy.length),
      r.status === 'complete' ? pct(last) : `${pct(last)} (${r.status}${r.error ? `: ${r.error}` : ''})`,
      pct(best), s === undefined ? '—' : s.toFixed(s < 10 ? 2 : 1), r.peakRssMiB ? r.peakRssMiB.toFixed(0) : '—',
      ...steps.map((t) => {
        const m = r.memoryVsSteps?.find((x) => x.steps === t);
        return m ? m.peakRssMiB.toFixed(0) : '—';
      }),
    ];
  });
  return { columns, rows };
}

/** The comparison as a markdown table (one per dataset), as experiments/RESULTS.md records it. */
export function ruleComparisonMarkdown(results: RuleComparisonResults): string {
  const out: string[] = [];
  for (const dataset of datasetsOf(results.runs)) {
    const { columns, rows } = ruleComparisonRows(results.runs.filter((r) => r.dataset === dataset));
    out.push(`**${dataset}**`, '', `| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`), '');
  }
  return out.join('\n');
}

function datasetsOf(runs: readonly RuleComparisonRun[]): string[] {
  return [...new Set(runs.map((r) => r.dataset))];
}

/** Test accuracy against epoch, one line per rule. */
function curveFigure(runs: readonly RuleComparisonRun[], dataset: string, id: string): Figure {
  const data = runs.map((r, i) => ({
    type: 'scatter', mode: 'lines+markers', name: r.label,
    x: r.testAccuracy.map((_, e) => e + 1), y: r.testAccuracy.map((a) => 100 * a),
    // spiking networks dashed, so that a colour the palette repeats past ten rules still tells two lines apart
    line: { color: colour(i), width: 2, dash: r.network === 'spiking' ? 'dash' : 'solid' }, marker: { size: 5 },
    hovertemplate: `${r.label}<br>epoch %{x}: %{y:.2f}%<extra></extra>`,
  }));
  const legendRows = Math.ceil(runs.length / 3);
  const heightPx = 420 + 22 * legendRows;
  const bottomPx = 90 + 22 * legendRows;
  const layout = baseLayout(`${dataset}: test accuracy per epoch`, 'epoch', 'test accuracy (%)', { legend: legendBelow(heightPx, 50, bottomPx) });
  layout.margin = { ...(layout.margin as object), b: bottomPx };
  const epochs = Math.max(0, ...runs.map((r) => r.testAccuracy.length));
  if (epochs <= 20) layout.xaxis = { ...(layout.xaxis as object), dtick: 1 };
  return {
    id, data, heightPx, layout,
    caption: 'Every rule on the same data split; accuracy measured on the test set after each epoch. Solid: rate networks; dashed: spiking networks.',
  };
}

/** The page: per dataset, the table and the learning curves of all rules. */
export function buildRuleComparisonPage(results: RuleComparisonResults): ReportPage {
  const sections: Section[] = datasetsOf(results.runs).map((dataset, d) => {
    const runs = results.runs.filter((r) => r.dataset === dataset);
    const { columns, rows } = ruleComparisonRows(runs);
    const blocks: Block[] = [
      { kind: 'table', table: { caption: `${dataset}: test accuracy, time and memory of each rule`, columns, rows } },
      { kind: 'figure', figure: curveFigure(runs, dataset, `curves-${d}`) },
    ];
    return { title: dataset, blocks };
  });
  const notes = [
    results.command ? `Command: ${results.command}` : '',
    results.started ? `Started: ${results.started}` : '',
    results.machine ? `Machine: ${results.machine}` : '',
    'Seconds per epoch are wall time of the epoch\'s training and its test evaluation. Peak RSS is the whole process (the dataset in memory included); the memory-vs-T columns come from short runs of the spiking rules at each T.',
  ].filter(Boolean);
  sections.push({ title: 'How this was measured', blocks: notes.map((text) => ({ kind: 'text' as const, text })) });
  return { title: 'Learning rules compared', subtitle: `${results.runs.length} runs`, sections };
}

/** Write the comparison page from its results (the JSON file's path, or the parsed object). */
export function writeRuleComparisonReport(results: string | RuleComparisonResults, outFile: string): WrittenReport {
  let data: RuleComparisonResults;
  if (typeof results === 'string') {
    try {
      data = JSON.parse(readFileSync(results, 'utf8')) as RuleComparisonResults;
    } catch (err) {
      throw new DataError(`rule comparison results ${results} could not be read as JSON (${(err as Error).message}); pass the .json file written by experiments/compare-rules.ts`);
    }
  } else data = results;
  if (!data || !Array.isArray(data.runs)) {
    throw new DataError(`rule comparison results${typeof results === 'string' ? ` ${results}` : ''} have no "runs" list; expected the JSON written by experiments/compare-rules.ts`);
  }
  return { path: outFile, ...writePage(outFile, buildRuleComparisonPage(data)) };
}
