/**
 * Page builders and writers: the run report (training curves, config, optional traces and
 * surrogates), the traces report (before/after recordings) and the surrogate report. Each
 * `build*` is pure (returns a ReportPage); each `write*` renders it and writes the HTML
 * atomically through src/io.ts.
 */
import { configTable, fmt, trainingBlocks } from './metrics.js';
import { type Block, type ReportPage, type Section, writePage } from './page.js';
import { nirGraphSection } from './nir-graph.js';
import { surrogateBlocks } from './surrogates.js';
import { rateComparisonFigure, traceBlocks, type TraceFigureOptions } from './traces.js';
import type { RunReportData, SurrogateAccuracyRow, SurrogateComparisonData, SurrogateComparisonJson, TraceSet } from './types.js';

/** What a write* call reports back. */
export interface WrittenReport {
  /** Path of the HTML file. */
  path: string;
  /** Number of plotly figures in the page (the browser test checks that all rendered). */
  figureCount: number;
  bytes: number;
}

/** '97.50 % on 10000 samples' (the sample count when known). */
function accuracyCell(accuracy: number | undefined, samples: number | undefined): string {
  return `${(100 * (accuracy ?? 0)).toFixed(2)} %${samples !== undefined ? ` on ${samples} sample${samples === 1 ? '' : 's'}` : ''}`;
}

function summaryBlocks(data: RunReportData): Block[] {
  const rows: [string, string | number][] = [...(data.summary ?? [])];
  const withTest = data.epochs.filter((e) => e.testAccuracy !== undefined);
  if (withTest.length && !rows.some(([k]) => /best test/i.test(k))) {
    const best = withTest.reduce((a, b) => ((b.testAccuracy ?? 0) > (a.testAccuracy ?? 0) ? b : a));
    const last = withTest[withTest.length - 1];
    rows.push(['best test accuracy', `${accuracyCell(best.testAccuracy, best.testSamples)} (epoch ${best.epoch})`]);
    rows.push(['final test accuracy', `${accuracyCell(last.testAccuracy, last.testSamples)} (epoch ${last.epoch})`]);
  }
  const total = data.epochs.reduce((s, e) => s + (e.timeS ?? 0), 0);
  if (total > 0 && !rows.some(([k]) => /time/i.test(k))) rows.push(['training time', `${fmt(total, 4)} s`]);
  const blocks: Block[] = [];
  if (rows.length) blocks.push({ kind: 'table', table: { columns: ['', ''], rows } });
  for (const n of data.notes ?? []) blocks.push({ kind: 'text', text: n });
  return blocks;
}

/** Sections for a list of trace sets: one per set, plus a before/after rate comparison. */
export function traceSections(sets: readonly TraceSet[], opts: TraceFigureOptions = {}, prefix = 't'): Section[] {
  const sections: Section[] = sets.map((set, i) => ({ title: `Traces: ${set.label}`, blocks: traceBlocks(set, `${prefix}${i}`, opts) }));
  if (sets.length > 1) {
    const fig = rateComparisonFigure([...sets], `${prefix}-rates`);
    if (fig) sections.push({ title: 'Firing rates: ' + sets.map((s) => s.label).join(' vs '), blocks: [{ kind: 'figure', figure: fig }] });
  }
  return sections;
}

/** The run report page. */
export function buildRunReport(data: RunReportData, opts: TraceFigureOptions = {}): ReportPage {
  const sections: Section[] = [];
  const summary = summaryBlocks(data);
  if (summary.length) sections.push({ title: 'Summary', blocks: summary });
  if (data.nirImport) sections.push(nirGraphSection(data.nirImport));
  sections.push({ title: 'Training', blocks: trainingBlocks(data) });
  if (data.traces?.length) sections.push(...traceSections(data.traces, opts));
  const sg = surrogateBlocks(data.surrogates, data.surrogateAccuracy);
  if (sg.length) sections.push({ title: 'Surrogates', blocks: sg });
  if (data.config) sections.push({ title: 'Configuration', blocks: [{ kind: 'table', table: configTable(data.config) }] });
  return { title: data.title, subtitle: data.subtitle, sections };
}

/** Write the run report (one self-contained HTML file) to `outFile`. */
export function writeRunReport(outFile: string, data: RunReportData, opts: TraceFigureOptions = {}): WrittenReport {
  return { path: outFile, ...writePage(outFile, buildRunReport(data, opts)) };
}

/** The traces page: voltage traces and rasters for each set (e.g. before and after training). */
export function buildTracesReport(
  sets: readonly TraceSet[],
  meta: { title?: string; subtitle?: string; notes?: string[]; config?: Record<string, unknown> } = {},
  opts: TraceFigureOptions = {},
): ReportPage {
  const sections: Section[] = [];
  if (meta.notes?.length) sections.push({ title: 'About', blocks: meta.notes.map((text) => ({ kind: 'text', text })) });
  sections.push(...traceSections(sets, opts));
  if (meta.config) sections.push({ title: 'Configuration', blocks: [{ kind: 'table', table: configTable(meta.config) }] });
  return { title: meta.title ?? 'sigprop traces', subtitle: meta.subtitle, sections };
}

/** Write the traces page to `outFile`. */
export function writeTracesPage(
  outFile: string,
  sets: readonly TraceSet[],
  meta: Parameters<typeof buildTracesReport>[1] = {},
  opts: TraceFigureOptions = {},
): WrittenReport {
  return { path: outFile, ...writePage(outFile, buildTracesReport(sets, meta, opts)) };
}

/** The surrogate comparison page (curves and/or the accuracy table). */
export function buildSurrogateReport(
  data: SurrogateComparisonData | SurrogateComparisonJson | undefined,
  accuracy?: readonly SurrogateAccuracyRow[],
  meta: { title?: string; subtitle?: string; notes?: string[] } = {},
): ReportPage {
  const blocks: Block[] = [...(meta.notes ?? []).map((text): Block => ({ kind: 'text', text })), ...surrogateBlocks(data, accuracy)];
  return { title: meta.title ?? 'sigprop surrogate comparison', subtitle: meta.subtitle, sections: [{ title: 'Surrogates', blocks }] };
}

/** Write the surrogate comparison page to `outFile`. */
export function writeSurrogateReport(
  outFile: string,
  data: SurrogateComparisonData | SurrogateComparisonJson | undefined,
  accuracy?: readonly SurrogateAccuracyRow[],
  meta: Parameters<typeof buildSurrogateReport>[2] = {},
): WrittenReport {
  return { path: outFile, ...writePage(outFile, buildSurrogateReport(data, accuracy, meta)) };
}
