/**
 * Training-curve figures and the config table of the run report: accuracy and loss per epoch,
 * each layer's local loss, firing rates and weight norms per layer. Pure functions of
 * RunReportData; a curve whose data are missing is left out (and a figure with no curves at all
 * is not made).
 */
import type { Block, Figure, PlotTrace, Table } from './page.js';
import type { EpochMetrics, RunReportData } from './types.js';

const sharedLayout = (title: string, x: string, y: string): Record<string, unknown> => baseLayout(title, x, y);

/** Categorical colours (colour-blind friendly, Okabe-Ito order then extras). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000', '#8C564B', '#7F7F7F'];

/** Colour for series i. */
export function colour(i: number): string {
  return PALETTE[i % PALETTE.length];
}

/** Shared layout: title, axis titles (with units), legend at the top right. */
export function baseLayout(title: string, xTitle: string, yTitle: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    // Pinned to the top of the figure so that a second title line (a decimation note) never runs
    // into subplot titles.
    title: { text: title, font: { size: 15 }, y: 1, yref: 'container', yanchor: 'top', pad: { t: 12 } },
    xaxis: { title: { text: xTitle }, zeroline: false },
    yaxis: { title: { text: yTitle }, zeroline: false },
    margin: { l: 70, r: 20, t: 50, b: 50 },
    legend: { orientation: 'v' },
    hovermode: 'closest',
    ...extra,
  };
}

/** A horizontal legend ~62 px below the plotting area (under the bottom axis title). */
export function legendBelow(heightPx: number, topPx: number, bottomPx: number): Record<string, unknown> {
  const plotPx = Math.max(50, heightPx - topPx - bottomPx);
  return { orientation: 'h', x: 0, xanchor: 'left', y: -62 / plotPx, yanchor: 'top' };
}

type Picker = (e: EpochMetrics) => number | undefined;

function series(epochs: EpochMetrics[], pick: Picker, name: string, style: Record<string, unknown>): PlotTrace | undefined {
  const x: number[] = [];
  const y: number[] = [];
  for (const e of epochs) {
    const v = pick(e);
    if (v !== undefined && v !== null && Number.isFinite(v)) {
      x.push(e.epoch);
      y.push(v);
    }
  }
  if (!x.length) return undefined;
  return { type: 'scatter', mode: x.length > 60 ? 'lines' : 'lines+markers', name, x, y, ...style };
}

function defined<T>(v: T | undefined): v is T {
  return v !== undefined;
}

/** Number of layers mentioned anywhere in the epochs. */
export function layerCount(data: RunReportData): number {
  let n = data.layerNames?.length ?? 0;
  for (const e of data.epochs) {
    n = Math.max(n, e.layerLosses?.length ?? 0);
    for (const l of e.layers ?? []) n = Math.max(n, l.layer + 1);
  }
  return n;
}

/** Display name of layer i. */
export function layerName(data: RunReportData, i: number): string {
  if (data.layerNames?.[i]) return data.layerNames[i];
  for (const e of data.epochs) for (const l of e.layers ?? []) if (l.layer === i && l.label) return l.label;
  return `layer ${i}`;
}

function layerStat(e: EpochMetrics, i: number, key: 'weightNorm' | 'firingRate' | 'targetFiringRate' | 'meanActivity' | 'alignmentAngle'): number | undefined {
  return e.layers?.find((l) => l.layer === i)?.[key];
}

function figureOf(id: string, layout: Record<string, unknown>, traces: (PlotTrace | undefined)[], caption?: string): Figure | undefined {
  const data = traces.filter(defined);
  return data.length ? { id, data, layout, caption } : undefined;
}

/** ' (test: 10000 samples, train: 60000)' when the epochs record their sample counts (ranges when they vary). */
function sampleNote(ep: readonly EpochMetrics[]): string {
  const span = (vals: number[]) => {
    if (!vals.length) return undefined;
    const lo = Math.min(...vals), hi = Math.max(...vals);
    return lo === hi ? `${lo}` : `${lo}–${hi}`;
  };
  const test = span(ep.flatMap((e) => (e.testAccuracy !== undefined && e.testSamples !== undefined ? [e.testSamples] : [])));
  const train = span(ep.flatMap((e) => (e.trainAccuracy !== undefined && e.trainSamples !== undefined ? [e.trainSamples] : [])));
  const parts = [test && `test: ${test} samples`, train && `train: ${train}`].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** The training-curve figures of a run (ids prefixed with `prefix`). */
export function metricFigures(data: RunReportData, prefix = 'm'): Figure[] {
  const ep = data.epochs;
  // Whole-epoch ticks for short runs (plotly would otherwise show 1.5, 2.5, ...).
  const span = ep.length ? Math.max(...ep.map((e) => e.epoch)) - Math.min(...ep.map((e) => e.epoch)) : 0;
  const baseLayout = (title: string, x: string, y: string) => {
    const l = sharedLayout(title, x, y);
    if (span <= 20) l.xaxis = { ...(l.xaxis as object), dtick: 1 };
    return l;
  };
  const pct = (v: number | undefined) => (v === undefined ? undefined : 100 * v);
  const figs: (Figure | undefined)[] = [];
  figs.push(
    figureOf(`${prefix}-accuracy`, baseLayout(`Accuracy per epoch${sampleNote(ep)}`, 'epoch', 'accuracy (%)'), [
      series(ep, (e) => pct(e.trainAccuracy), 'train', { line: { color: colour(0) } }),
      series(ep, (e) => pct(e.testAccuracy), 'test', { line: { color: colour(1) } }),
    ]),
  );
  figs.push(
    figureOf(`${prefix}-loss`, baseLayout('Loss per epoch', 'epoch', 'loss (sum of local losses)'), [
      series(ep, (e) => e.trainLoss, 'train', { line: { color: colour(0) } }),
      series(ep, (e) => e.testLoss, 'test', { line: { color: colour(1) } }),
    ]),
  );
  const n = layerCount(data);
  const idx = [...Array(n).keys()];
  // Sigprop with a learned target projection reports the target generator's own loss first.
  const statLayers = Math.max(0, ...ep.flatMap((e) => (e.layers ?? []).map((l) => l.layer + 1)));
  const lossCount = Math.max(0, ...ep.map((e) => e.layerLosses?.length ?? 0));
  const targetFirst = data.config?.targetProjection === 'learned' && statLayers > 0 && lossCount === statLayers + 1;
  const lossName = (i: number) => (targetFirst ? (i === 0 ? 'target generator (S, d)' : layerName(data, i - 1)) : layerName(data, i));
  figs.push(
    figureOf(
      `${prefix}-layer-loss`,
      baseLayout('Local loss of each layer', 'epoch', 'local loss'),
      [...Array(lossCount).keys()].map((i) => series(ep, (e) => e.layerLosses?.[i], lossName(i), { line: { color: colour(i) } })),
      'Each layer minimises its own loss; nothing flows back between layers.',
    ),
  );
  figs.push(
    figureOf(
      `${prefix}-firing`,
      baseLayout('Firing rate per layer', 'epoch', 'rate (spikes / neuron / step)'),
      [
        ...idx.map((i) => series(ep, (e) => layerStat(e, i, 'firingRate'), `${layerName(data, i)} input`, { line: { color: colour(i) }, legendgroup: `l${i}` })),
        ...idx.map((i) =>
          series(ep, (e) => layerStat(e, i, 'targetFiringRate'), `${layerName(data, i)} target`, { line: { color: colour(i), dash: 'dash' }, legendgroup: `l${i}` }),
        ),
      ],
      'Solid: input stream; dashed: target stream (sigprop). Measured on the last batch of each epoch.',
    ),
  );
  figs.push(
    figureOf(
      `${prefix}-activity`,
      baseLayout('Mean activation per layer', 'epoch', 'mean activation (a.u.)'),
      idx.map((i) => series(ep, (e) => layerStat(e, i, 'meanActivity'), layerName(data, i), { line: { color: colour(i) } })),
    ),
  );
  figs.push(
    figureOf(
      `${prefix}-weight-norm`,
      baseLayout('Weight norm per layer', 'epoch', '‖W‖ (Frobenius)'),
      idx.map((i) => series(ep, (e) => layerStat(e, i, 'weightNorm'), layerName(data, i), { line: { color: colour(i) } })),
    ),
  );
  figs.push(alignmentFigure(data, ep, idx, baseLayout(`Alignment angle per epoch`, 'epoch', 'angle (degrees)'), prefix));
  return figs.filter(defined);
}

/**
 * Feedback alignment angles (PEPITA, FA, DFA; see LayerStats in src/learning/rule.ts): the angle
 * between (W_L…W_1)ᵀ and PEPITA's F (productAlignmentAngle, dashed) and each layer's feedback
 * against its forward weights (alignmentAngle). Undefined when no epoch has any.
 */
function alignmentFigure(data: RunReportData, ep: EpochMetrics[], idx: number[], layout: Record<string, unknown>, prefix: string): Figure | undefined {
  const product = (e: EpochMetrics) => e.layers?.find((l) => l.productAlignmentAngle !== undefined)?.productAlignmentAngle;
  return figureOf(
    `${prefix}-alignment`,
    layout,
    [
      series(ep, product, '(W_L…W_1)ᵀ vs F', { line: { color: colour(0), dash: 'dash' } }),
      ...idx.map((i) => series(ep, (e) => layerStat(e, i, 'alignmentAngle'), `${layerName(data, i)}: feedback vs W`, { line: { color: colour(i + 1) } })),
    ],
    'Angle between the feedback matrices and the forward weights they stand for (0°: aligned, 90°: unrelated, 180°: anti-aligned), at the end of each epoch. ' +
      'PEPITA with x + F·e (its default) moves the weights toward −F, so there the product angle rising toward 180° is alignment; with x − F·e it falls toward 0°.',
  );
}

/** Format a config value for the table: numbers as given, arrays of scalars inline. */
function formatValue(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * Flatten a nested config into [path, value] rows ('record.neurons' -> '[0,1,2]'). Arrays of
 * objects are indexed ('layers.0.size'); arrays of scalars stay one row.
 */
export function flattenConfig(obj: Record<string, unknown>, prefix = ''): [string, string][] {
  const rows: [string, string][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      const isScalarArray = Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object');
      if (isScalarArray) rows.push([key, formatValue(v)]);
      else if (Array.isArray(v)) v.forEach((x, i) => rows.push(...(x !== null && typeof x === 'object' ? flattenConfig(x as Record<string, unknown>, `${key}.${i}`) : [[`${key}.${i}`, formatValue(x)] as [string, string]])));
      else if (Object.keys(v).length === 0) rows.push([key, '{}']);
      else rows.push(...flattenConfig(v as Record<string, unknown>, key));
    } else rows.push([key, formatValue(v)]);
  }
  return rows;
}

/** The config as a two-column table. */
export function configTable(config: Record<string, unknown>): Table {
  return { caption: 'Run configuration (resolved)', columns: ['setting', 'value'], rows: flattenConfig(config) };
}

/** Format a number with `digits` significant digits, without exponent for ordinary sizes. */
export function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(digits - 1);
  return String(Number(v.toPrecision(digits)));
}

/** The per-epoch numbers as a table (for reading exact values). */
export function epochTable(data: RunReportData): Table {
  const pct = (v: number | undefined) => (v === undefined ? '—' : `${(100 * v).toFixed(2)}`);
  const count = (v: number | undefined) => (v === undefined ? '—' : String(v));
  const withCounts = data.epochs.some((e) => e.testSamples !== undefined || e.trainSamples !== undefined);
  return {
    caption: 'Metrics per epoch (raw values are in metrics.json / metrics.csv)',
    columns: withCounts
      ? ['epoch', 'train acc (%)', 'train samples', 'test acc (%)', 'test samples', 'train loss', 'test loss', 'time (s)']
      : ['epoch', 'train acc (%)', 'test acc (%)', 'train loss', 'test loss', 'time (s)'],
    rows: data.epochs.map((e) =>
      withCounts
        ? [e.epoch, pct(e.trainAccuracy), count(e.trainSamples), pct(e.testAccuracy), count(e.testSamples), fmt(e.trainLoss), fmt(e.testLoss), fmt(e.timeS, 3)]
        : [e.epoch, pct(e.trainAccuracy), pct(e.testAccuracy), fmt(e.trainLoss), fmt(e.testLoss), fmt(e.timeS, 3)],
    ),
  };
}

/** Blocks of the "Training" section: curves, then the per-epoch table. */
export function trainingBlocks(data: RunReportData): Block[] {
  const blocks: Block[] = metricFigures(data).map((figure) => ({ kind: 'figure', figure }));
  if (!blocks.length) blocks.push({ kind: 'text', text: 'No per-epoch metrics were recorded for this run.' });
  if (data.epochs.length) blocks.push({ kind: 'table', table: epochTable(data) });
  return blocks;
}
