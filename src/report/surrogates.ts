/**
 * Surrogate comparison figures: every surrogate's primitive f(x) and derivative f'(x) on one
 * shared x grid (x = U − θ), overlaid, plus small multiples (one panel per surrogate with f, f'
 * and the forward step H(x)); and the accuracy table / chart of the surrogate experiment.
 */
import { ParameterError } from '../errors.js';
import type { Block, Figure, PlotTrace, Table } from './page.js';
import { baseLayout, colour, fmt, legendBelow } from './metrics.js';
import type { SurrogateAccuracyRow, SurrogateComparisonData, SurrogateComparisonJson } from './types.js';

export type { SurrogateComparisonJson } from './types.js';

/** Anything with scalar f and f' (a resolved surrogates/ Surrogate fits). */
export interface SurrogateLike {
  /** Display name, e.g. 'atan:alpha=2'. `spec` is preferred when present. */
  name: string;
  spec?: string;
  f(x: number): number;
  df(x: number): number;
  formulaF?: string;
  formulaDf?: string;
}

/** Sample surrogates on `points` evenly spaced x in [xMin, xMax] (default 401 points on [−2, 2]). */
export function sampleSurrogates(list: readonly SurrogateLike[], xMin = -2, xMax = 2, points = 401): SurrogateComparisonData {
  if (!(xMax > xMin)) throw new ParameterError(`surrogate grid: xMax (${xMax}) must be greater than xMin (${xMin})`);
  const x = Array.from({ length: points }, (_, i) => xMin + ((xMax - xMin) * i) / (points - 1));
  return {
    x,
    curves: list.map((s) => ({ name: s.spec ?? s.name, f: x.map((v) => s.f(v)), df: x.map((v) => s.df(v)), formulaF: s.formulaF, formulaDf: s.formulaDf })),
  };
}

/**
 * Normalise either input shape to SurrogateComparisonData: the report's own {x, curves} or
 * surrogateComparison()'s {x, surrogates} (named by canonical spec; '(scaled ×1/s)' appended
 * when the comparison was normalised with a scale other than 1).
 */
export function toSurrogateData(d: SurrogateComparisonData | SurrogateComparisonJson): SurrogateComparisonData {
  if ('curves' in d) return d;
  return {
    x: d.x,
    curves: d.surrogates.map((s) => ({
      name: (s.spec ?? s.name) + (s.scale !== undefined && s.scale !== 1 ? ` (÷${fmt(s.scale, 3)})` : ''),
      f: s.f,
      df: s.df,
      formulaF: s.formula?.f,
      formulaDf: s.formula?.df,
    })),
  };
}

function list(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

/** Two panels: all primitives overlaid (left), all derivatives overlaid (right). */
export function surrogateOverlayFigure(data: SurrogateComparisonData, id: string): Figure {
  const x = list(data.x);
  const traces: PlotTrace[] = [];
  data.curves.forEach((c, i) => {
    const style = { line: { color: colour(i), width: 1.6, dash: i >= 10 ? 'dot' : 'solid' }, legendgroup: c.name };
    traces.push({ type: 'scatter', mode: 'lines', name: c.name, x, y: list(c.f), xaxis: 'x', yaxis: 'y', ...style });
    traces.push({ type: 'scatter', mode: 'lines', name: c.name, x, y: list(c.df), xaxis: 'x2', yaxis: 'y2', showlegend: false, ...style });
  });
  const step = { type: 'scatter', mode: 'lines', name: 'step H(x) (forward spike)', x: [x[0], 0, 0, x[x.length - 1]], y: [0, 0, 1, 1], xaxis: 'x', yaxis: 'y', line: { color: '#888', dash: 'dash', width: 1 } };
  return {
    id,
    data: [step, ...traces],
    layout: {
      ...baseLayout('Surrogate primitives and derivatives on one grid', '', ''),
      xaxis: { domain: [0, 0.46], title: { text: 'x = U − θ (voltage units)' }, zeroline: false },
      yaxis: { title: { text: 'primitive f(x)' }, zeroline: false },
      xaxis2: { domain: [0.54, 1], anchor: 'y2', title: { text: 'x = U − θ (voltage units)' }, zeroline: false },
      yaxis2: { anchor: 'x2', title: { text: "surrogate gradient f'(x)" }, zeroline: false },
      legend: legendBelow(520, 50, 110),
      margin: { l: 70, r: 20, t: 50, b: 110 },
      updatemenus: [
        {
          type: 'buttons', direction: 'right', x: 1, xanchor: 'right', y: 1.13, yanchor: 'bottom', showactive: true, font: { size: 11 },
          buttons: [
            { label: 'linear y', method: 'relayout', args: [{ 'yaxis.type': 'linear', 'yaxis2.type': 'linear' }] },
            { label: "log f' axis", method: 'relayout', args: [{ 'yaxis.type': 'linear', 'yaxis2.type': 'log' }] },
          ],
        },
      ],
    },
    caption: "Left: the smooth stand-in f(x) for the spike H(x) (dashed). Right: its derivative, the surrogate gradient used by the learning rules. The buttons switch the f' axis to log scale when one peak dwarfs the others; click legend entries to hide curves.",
    heightPx: 520,
  };
}

/**
 * One surrogate in detail (a run report's "surrogate used in this run"): f(x) left and f'(x)
 * right, each on its own y range. The forward step H(x) is drawn with f only when f runs from
 * about 0 to 1 (otherwise it would flatten f); the caption says which is which.
 */
export function surrogateShapeFigure(data: SurrogateComparisonData, id: string): Figure {
  const c = data.curves[0];
  const x = list(data.x);
  const f = list(c.f);
  const df = list(c.df);
  const fMin = Math.min(...f);
  const fMax = Math.max(...f);
  const withStep = fMin > -0.05 && fMax < 1.05 && fMax - fMin > 0.5;
  let peak = 0;
  let peakX = 0;
  df.forEach((v, i) => {
    if (v > peak) [peak, peakX] = [v, x[i]];
  });
  const traces: PlotTrace[] = [
    { type: 'scatter', mode: 'lines', name: 'primitive f(x)', x, y: f, xaxis: 'x', yaxis: 'y', line: { color: colour(0), width: 2 } },
    { type: 'scatter', mode: 'lines', name: "surrogate gradient f'(x)", x, y: df, xaxis: 'x2', yaxis: 'y2', line: { color: colour(1), width: 2 } },
  ];
  if (withStep) traces.unshift({ type: 'scatter', mode: 'lines', name: 'step H(x) (forward spike)', x: [x[0], 0, 0, x[x.length - 1]], y: [0, 0, 1, 1], xaxis: 'x', yaxis: 'y', line: { color: '#888', dash: 'dash', width: 1 }, hoverinfo: 'skip' });
  const xTitle = { text: 'x = U − θ (voltage units)' };
  return {
    id,
    data: traces,
    layout: {
      ...baseLayout(`Surrogate used in this run: ${c.name}`, '', ''),
      xaxis: { domain: [0, 0.46], title: xTitle, zeroline: false },
      yaxis: { title: { text: 'primitive f(x)' }, zeroline: false },
      xaxis2: { domain: [0.54, 1], anchor: 'y2', title: xTitle, zeroline: false },
      yaxis2: { anchor: 'x2', title: { text: "surrogate gradient f'(x)" }, zeroline: false, rangemode: 'tozero' },
      legend: legendBelow(420, 50, 110),
      margin: { l: 70, r: 20, t: 50, b: 110 },
    },
    caption:
      `The forward pass emits a spike, the step H(x) at x = 0${withStep ? ' (dashed)' : ''}; the learning rule uses the smooth f(x) in its place ` +
      `(f runs from ${fmt(fMin, 3)} to ${fmt(fMax, 3)} on this grid) and its derivative f'(x), which peaks at ${fmt(peak, 3)} at x = ${fmt(peakX, 3)}.`,
    heightPx: 420,
  };
}

/** Small multiples: one panel per surrogate with f (solid), f' (dashed, right axis) and H(x). */
export function surrogateGridFigure(data: SurrogateComparisonData, id: string, cols = 4): Figure {
  const x = list(data.x);
  const n = data.curves.length;
  const rows = Math.max(1, Math.ceil(n / cols));
  const gapX = 0.06;
  const gapY = Math.min(0.1, 0.5 / rows);
  const w = (1 - gapX * (cols - 1)) / cols;
  const h = (1 - gapY * (rows - 1)) / rows;
  const heightPx = 155 + 210 * rows;
  const layout: Record<string, unknown> = {
    ...baseLayout("Each surrogate: primitive f (solid) and derivative f' (dashed)", '', ''),
    showlegend: true,
    legend: legendBelow(heightPx, 60, 95),
    margin: { l: 50, r: 20, t: 60, b: 95 },
  };
  const traces: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  data.curves.forEach((c, i) => {
    const r = Math.floor(i / cols);
    const col = i % cols;
    const k = i + 1;
    const sfx = k === 1 ? '' : String(k);
    const x0 = col * (w + gapX);
    const y1 = 1 - r * (h + gapY);
    layout[`xaxis${sfx}`] = { domain: [x0, x0 + w], anchor: `y${sfx}`, zeroline: false, title: r === rows - 1 || i + cols >= n ? { text: 'x = U − θ' } : undefined };
    layout[`yaxis${sfx}`] = { domain: [y1 - h, y1], anchor: `x${sfx}`, zeroline: false };
    annotations.push({ text: c.name, x: x0 + w / 2, y: y1, xref: 'paper', yref: 'paper', xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 11 } });
    const xa = `x${sfx}`;
    const ya = `y${sfx}`;
    traces.push({ type: 'scatter', mode: 'lines', name: 'H(x)', legendgroup: 'H', showlegend: i === 0, x: [x[0], 0, 0, x[x.length - 1]], y: [0, 0, 1, 1], xaxis: xa, yaxis: ya, line: { color: '#aaa', width: 1, dash: 'dot' }, hoverinfo: 'skip' });
    traces.push({ type: 'scatter', mode: 'lines', name: 'f(x)', legendgroup: 'f', showlegend: i === 0, x, y: list(c.f), xaxis: xa, yaxis: ya, line: { color: colour(0), width: 1.6 } });
    traces.push({ type: 'scatter', mode: 'lines', name: "f'(x)", legendgroup: 'df', showlegend: i === 0, x, y: list(c.df), xaxis: xa, yaxis: ya, line: { color: colour(1), width: 1.6, dash: 'dash' } });
  });
  layout.annotations = annotations;
  return { id, data: traces, layout, heightPx, caption: 'f and f′ share each panel\u2019s y axis; the dotted step is the forward spike H(x).' };
}

/** Mean and sample standard deviation (n − 1; 0 for a single value). */
export function meanStd(v: readonly number[]): { mean: number; std: number } {
  if (!v.length) return { mean: NaN, std: NaN };
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  if (v.length < 2) return { mean, std: 0 };
  const ss = v.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (v.length - 1)) };
}

function rowStats(r: SurrogateAccuracyRow): { mean: number; std: number; n: number } {
  if (r.accuracies?.length) return { ...meanStd(r.accuracies), n: r.accuracies.length };
  return { mean: r.accuracyMean ?? NaN, std: r.accuracyStd ?? NaN, n: r.seeds.length };
}

/** '92.87 ± 0.32' (percent), '88.00 (1 seed)' when a spread cannot be measured, '—' without data. */
function accuracyText(st: { mean: number; std: number; n: number }): string {
  if (!Number.isFinite(st.mean)) return '—';
  const m = (100 * st.mean).toFixed(2);
  if (Number.isFinite(st.std) && st.n !== 1) return `${m} ± ${(100 * st.std).toFixed(2)}`;
  return `${m} (${st.n === 1 ? '1 seed' : 'no spread given'})`;
}

/** The accuracy table of the surrogate experiment (mean ± std over seeds, in %), best first. */
export function surrogateAccuracyTable(rows: readonly SurrogateAccuracyRow[]): Table {
  const sorted = [...rows].sort((a, b) => (rowStats(b).mean || 0) - (rowStats(a).mean || 0));
  return {
    caption: 'Surrogate experiment: test accuracy over seeds (mean ± sample std)',
    columns: ['surrogate', 'seeds', 'test accuracy (%)', 'per seed (%)', 'train time (s)'],
    rows: sorted.map((r) => [
      r.surrogate,
      r.seeds.join(', '),
      accuracyText(rowStats(r)),
      r.accuracies?.map((a) => (100 * a).toFixed(2)).join(', ') ?? '—',
      fmt(r.trainTimeS, 3),
    ]),
  };
}

/**
 * Dot plot of the accuracy table: mean with ±std error bars, and each seed's accuracy as a
 * small grey dot (a dot plot rather than bars, so that the y axis can zoom in honestly).
 */
export function surrogateAccuracyFigure(rows: readonly SurrogateAccuracyRow[], id: string): Figure {
  const stats = rows.map(rowStats);
  const names = rows.map((r) => r.surrogate);
  const seedX: string[] = [];
  const seedY: number[] = [];
  rows.forEach((r) => r.accuracies?.forEach((a) => (seedX.push(r.surrogate), seedY.push(100 * a))));
  return {
    id,
    data: [
      {
        type: 'scatter', mode: 'markers', name: 'mean ± std', x: names, y: stats.map((s) => 100 * s.mean),
        error_y: { type: 'data', array: stats.map((s) => (Number.isFinite(s.std) && s.n !== 1 ? 100 * s.std : 0)), visible: true, thickness: 1.5, width: 6 },
        marker: { size: 11, color: rows.map((_, i) => colour(i)) },
      },
      { type: 'scatter', mode: 'markers', name: 'single seed', x: seedX, y: seedY, marker: { size: 6, color: 'rgba(90,90,90,0.55)', symbol: 'circle-open' } },
    ],
    layout: baseLayout('Test accuracy by surrogate (mean ± std over seeds)', 'surrogate', 'test accuracy (%)', { legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.12 } }),
    heightPx: 380,
  };
}

/** Blocks of the surrogate section (any part may be absent); one surrogate gets the detailed shape figure instead of the comparison. */
export function surrogateBlocks(
  input: SurrogateComparisonData | SurrogateComparisonJson | undefined,
  acc: readonly SurrogateAccuracyRow[] | undefined,
  prefix = 'sg',
): Block[] {
  const blocks: Block[] = [];
  const data = input ? toSurrogateData(input) : undefined;
  if (data && data.curves.length === 1) {
    blocks.push({ kind: 'figure', figure: surrogateShapeFigure(data, `${prefix}-shape`) });
  } else if (data && data.curves.length) {
    blocks.push({ kind: 'figure', figure: surrogateOverlayFigure(data, `${prefix}-overlay`) });
    blocks.push({ kind: 'figure', figure: surrogateGridFigure(data, `${prefix}-grid`) });
    const withFormula = data.curves.filter((c) => c.formulaF || c.formulaDf);
    if (withFormula.length) {
      blocks.push({ kind: 'table', table: { caption: 'Formulas', columns: ['surrogate', 'f(x)', "f'(x)"], rows: withFormula.map((c) => [c.name, c.formulaF ?? '', c.formulaDf ?? '']) } });
    }
  }
  if (acc && acc.length) {
    blocks.push({ kind: 'figure', figure: surrogateAccuracyFigure(acc, `${prefix}-accuracy`) });
    blocks.push({ kind: 'table', table: surrogateAccuracyTable(acc) });
  }
  return blocks;
}
