/**
 * Voltage-trace and spike-raster figures from recordings (TraceSet). For each layer: the membrane
 * voltage of chosen neurons and samples over time, with the threshold θ as a dashed line and the
 * spikes as tick marks above the trace; the sigprop input stream (h) and target stream (t) side
 * by side. A raster per layer shows the recorded neurons' spikes. Long recordings are min-max
 * decimated and the figure says so.
 */
import { decimateMinMax, rasterMarks, spikeSteps } from './decimate.js';
import type { Block, Figure, PlotTrace, Table } from './page.js';
import { baseLayout, colour, fmt, legendBelow } from './metrics.js';
import type { TraceLayerInfo, TraceRecording, TraceSet } from './types.js';

/** Limits for the trace figures. */
export interface TraceFigureOptions {
  /** Most points per voltage trace (min-max decimation beyond; default 2000). */
  maxPointsPerTrace?: number;
  /** Most (sample, neuron) rows per layer's voltage figure (default 9). */
  maxRows?: number;
  /** Most raster marks per raster panel (time binning beyond; default 20000). */
  maxRasterMarks?: number;
  /** Most samples shown in a layer's raster (default 2). */
  maxRasterSamples?: number;
}

const VOLTAGE_VARS = ['voltage', 'u', 'v', 'mem', 'U', 'V', 'h'];
const SPIKE_VARS = ['s', 'spk', 'spike', 'spikes', 'S'];
const STREAMS = ['input', 'target'] as const;

type Stream = (typeof STREAMS)[number];

function streamOf(r: TraceRecording): Stream {
  return r.stream ?? 'input';
}

function pickVar(recs: TraceRecording[], explicit: string | undefined, candidates: string[]): string | undefined {
  if (explicit) return explicit;
  const present = new Set(recs.map((r) => r.var));
  return candidates.find((c) => present.has(c));
}

/** Layer indices present in a set, ascending. */
export function traceLayers(set: TraceSet): number[] {
  return [...new Set(set.recordings.map((r) => r.layer))].sort((a, b) => a - b);
}

function info(set: TraceSet, layer: number): TraceLayerInfo {
  return set.layers?.[layer] ?? {};
}

function layerTitle(set: TraceSet, layer: number): string {
  return info(set, layer).name ?? `layer ${layer}`;
}

function sampleText(set: TraceSet, sample: number): string {
  const lab = set.sampleLabels?.[sample];
  const pred = set.samplePredictions?.[sample];
  const parts = [lab !== undefined ? `label ${lab}` : '', pred !== undefined ? `predicted ${pred}` : ''].filter(Boolean);
  return `sample ${sample}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** Axis domains and title positions for an rows × cols grid of independent subplots. */
function grid(rows: number, cols: number): { axes: Record<string, unknown>; cell: (r: number, c: number) => { xa: string; ya: string; key: number; xMid: number; yTop: number } } {
  const gapX = cols > 1 ? 0.07 : 0;
  const gapY = rows > 1 ? Math.min(0.12, 0.45 / rows) : 0;
  const w = (1 - gapX * (cols - 1)) / cols;
  const h = (1 - gapY * (rows - 1)) / rows;
  const axes: Record<string, unknown> = {};
  const cell = (r: number, c: number) => {
    const key = r * cols + c + 1;
    const x0 = c * (w + gapX);
    const y1 = 1 - r * (h + gapY);
    return { xa: key === 1 ? 'x' : `x${key}`, ya: key === 1 ? 'y' : `y${key}`, key, xMid: x0 + w / 2, yTop: y1 };
  };
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const { key } = cell(r, c);
      const x0 = c * (w + gapX);
      const y1 = 1 - r * (h + gapY);
      const sfx = key === 1 ? '' : String(key);
      axes[`xaxis${sfx}`] = { domain: [x0, x0 + w], anchor: `y${sfx}`, zeroline: false };
      axes[`yaxis${sfx}`] = { domain: [y1 - h, y1], anchor: `x${sfx}`, zeroline: false };
    }
  }
  return { axes, cell };
}

function subplotTitle(text: string, xMid: number, yTop: number): Record<string, unknown> {
  return { text, x: xMid, y: yTop, xref: 'paper', yref: 'paper', xanchor: 'center', yanchor: 'bottom', showarrow: false, font: { size: 12 } };
}

function find(recs: TraceRecording[], v: string, neuron: number, sample: number, stream: Stream): TraceRecording | undefined {
  return recs.find((r) => r.var === v && r.neuron === neuron && r.sample === sample && streamOf(r) === stream);
}

/**
 * Voltage figure of one layer: rows = (sample, neuron) pairs, columns = streams present. Returns
 * undefined when the layer has no voltage recordings.
 */
export function voltageFigure(set: TraceSet, layer: number, id: string, opts: TraceFigureOptions = {}): Figure | undefined {
  const recs = set.recordings.filter((r) => r.layer === layer);
  const li = info(set, layer);
  const vVar = pickVar(recs, li.voltageVar, VOLTAGE_VARS);
  const sVar = pickVar(recs, li.spikeVar, SPIKE_VARS);
  if (!vVar) return undefined;
  const vRecs = recs.filter((r) => r.var === vVar);
  if (!vRecs.length) return undefined;
  const streams = STREAMS.filter((s) => vRecs.some((r) => streamOf(r) === s));
  const pairKeys = [...new Set(vRecs.map((r) => `${r.sample}:${r.neuron}`))]
    .map((k) => k.split(':').map(Number) as [number, number])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const maxRows = opts.maxRows ?? 9;
  const pairs = pairKeys.slice(0, maxRows);
  const maxPts = opts.maxPointsPerTrace ?? 2000;
  const unit = li.voltageUnit ?? 'a.u.';
  const theta = li.threshold;
  const { axes, cell } = grid(pairs.length, streams.length);
  const data: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const notes = new Set<string>();
  const shown = new Set<string>();
  /** Show each legend entry once, on the first trace of its group that has points. */
  const legendOnce = (group: string, points: number): boolean => {
    if (shown.has(group) || points === 0) return false;
    shown.add(group);
    return true;
  };
  pairs.forEach(([sample, neuron], r) => {
    streams.forEach((stream, c) => {
      const { xa, ya, key, xMid, yTop } = cell(r, c);
      const sfx = key === 1 ? '' : String(key);
      const streamName = stream === 'input' ? 'input stream (h)' : 'target stream (t)';
      annotations.push(subplotTitle(`${sampleText(set, sample)} · neuron ${neuron} · ${streams.length > 1 || stream === 'target' ? streamName : ''}`.replace(/ · $/, ''), xMid, yTop));
      const xAxis = axes[`xaxis${sfx}`] as Record<string, unknown>;
      const yAxis = axes[`yaxis${sfx}`] as Record<string, unknown>;
      if (r === pairs.length - 1) xAxis.title = { text: 'time (ms)' };
      if (c === 0) yAxis.title = { text: `${vVar} (${unit})` };
      const rec = find(vRecs, vVar, neuron, sample, stream);
      if (!rec) return;
      const T = rec.values.length;
      xAxis.range = [0, (T - 1) * set.dtMs];
      const dec = decimateMinMax(rec.values, maxPts);
      if (dec.note) notes.add(dec.note);
      let vMax = -Infinity;
      let vMin = Infinity;
      for (const y of dec.y) {
        if (y > vMax) vMax = y;
        if (y < vMin) vMin = y;
      }
      data.push({
        type: 'scatter', mode: 'lines', name: vVar === 'voltage' ? 'membrane voltage' : `membrane voltage ${vVar}`, legendgroup: 'v', showlegend: legendOnce('v', dec.x.length),
        x: dec.x.map((t) => t * set.dtMs), y: dec.y, xaxis: xa, yaxis: ya, line: { color: colour(0), width: 1.3 },
      });
      if (theta !== undefined) {
        data.push({
          type: 'scatter', mode: 'lines', name: `threshold θ = ${fmt(theta)} ${unit}`, legendgroup: 'theta', showlegend: legendOnce('theta', 2),
          x: [0, (T - 1) * set.dtMs], y: [theta, theta], xaxis: xa, yaxis: ya, line: { color: '#555', dash: 'dash', width: 1 }, hoverinfo: 'skip',
        });
        vMax = Math.max(vMax, theta);
        vMin = Math.min(vMin, theta);
      }
      const sRec = sVar ? find(recs, sVar, neuron, sample, stream) : undefined;
      if (sRec) {
        const steps = spikeSteps(sRec.values);
        const span = Number.isFinite(vMax - vMin) && vMax > vMin ? vMax - vMin : 1;
        const yMark = vMax + 0.1 * span;
        data.push({
          type: 'scatter', mode: 'markers', name: 'spike', legendgroup: 's', showlegend: legendOnce('s', steps.length),
          x: steps.map((t) => t * set.dtMs), y: steps.map(() => yMark), xaxis: xa, yaxis: ya,
          marker: { symbol: 'line-ns-open', size: 12, color: colour(1), line: { width: 2, color: colour(1) } },
          cliponaxis: false, // a spike at the first or last step stays a whole tick
          hovertemplate: 'spike at %{x} ms<extra></extra>',
        });
        yAxis.range = [vMin - 0.05 * span, vMax + 0.2 * span];
      }
    });
  });
  const more = pairKeys.length > pairs.length ? ` (first ${pairs.length} of ${pairKeys.length} recorded neuron/sample pairs)` : '';
  const noteText = [...notes].join('; ');
  const title = `${layerTitle(set, layer)}: membrane voltage, ${set.label}${more}${noteText ? `<br><sub>${noteText}; spikes exact</sub>` : ''}`;
  const top = noteText ? 95 : 65;
  const bottom = 95;
  const heightPx = top + bottom + 180 * pairs.length;
  const caption = `Membrane voltage over time${theta !== undefined ? ' with the threshold θ (dashed)' : ''}; ticks above the trace mark spikes (exact steps). ` +
    `dt = ${fmt(set.dtMs)} ms.${noteText ? ` Decimated for plotting: ${noteText}; the raw recordings are in the run folder (JSON/CSV).` : ''}`;
  return {
    id,
    data,
    layout: { ...baseLayout(title, '', ''), ...axes, annotations, showlegend: true, legend: legendBelow(heightPx, top, bottom), margin: { l: 70, r: 20, t: top, b: bottom } },
    caption,
    heightPx,
  };
}

/**
 * Spike raster of one layer: one panel per (sample, stream), y = neuron index, x = time (ms).
 * Returns undefined when the layer has no spike recordings.
 */
export function rasterFigure(set: TraceSet, layer: number, id: string, opts: TraceFigureOptions = {}): Figure | undefined {
  const recs = set.recordings.filter((r) => r.layer === layer);
  const li = info(set, layer);
  const sVar = pickVar(recs, li.spikeVar, SPIKE_VARS);
  if (!sVar) return undefined;
  const sRecs = recs.filter((r) => r.var === sVar);
  if (!sRecs.length) return undefined;
  const streams = STREAMS.filter((s) => sRecs.some((r) => streamOf(r) === s));
  const samples = [...new Set(sRecs.map((r) => r.sample))].sort((a, b) => a - b).slice(0, opts.maxRasterSamples ?? 2);
  const { axes, cell } = grid(samples.length, streams.length);
  const data: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const notes = new Set<string>();
  let T = 0;
  samples.forEach((sample, r) => {
    streams.forEach((stream, c) => {
      const { xa, ya, key, xMid, yTop } = cell(r, c);
      const sfx = key === 1 ? '' : String(key);
      const rows = sRecs.filter((x) => x.sample === sample && streamOf(x) === stream).sort((a, b) => a.neuron - b.neuron);
      for (const x of rows) T = Math.max(T, x.values.length);
      const marks = rasterMarks(rows.map((x) => spikeSteps(x.values)), rows.map((x) => x.neuron), opts.maxRasterMarks ?? 20000);
      if (marks.note) notes.add(marks.note);
      const rate = rows.length && T ? marks.spikeCount / (rows.length * T) : 0;
      const unitWord = li.indexLabel === 'input channel' ? 'channels' : 'neurons';
      const ofSize = li.size && li.size > rows.length ? ` of ${li.size}` : '';
      annotations.push(subplotTitle(`${sampleText(set, sample)} · ${stream} stream · ${rows.length}${ofSize} ${unitWord}, ${fmt(rate, 3)} spikes/${unitWord.slice(0, -1)}/step`, xMid, yTop));
      data.push({
        type: 'scatter', mode: 'markers', name: 'spike', showlegend: false, x: marks.steps.map((t) => t * set.dtMs), y: marks.neurons, xaxis: xa, yaxis: ya,
        // Ticks for up to 100 rows; beyond that ticks would merge into columns, so small dots.
        marker: rows.length > 100
          ? { symbol: 'square', size: 2.5, color: stream === 'input' ? colour(0) : colour(2) }
          : { symbol: 'line-ns-open', size: 7, color: stream === 'input' ? colour(0) : colour(2), line: { width: 1.2, color: stream === 'input' ? colour(0) : colour(2) } },
        hovertemplate: 'neuron %{y} at %{x} ms<extra></extra>',
      });
      (axes[`xaxis${sfx}`] as Record<string, unknown>).range = [-0.5 * set.dtMs, (T - 0.5) * set.dtMs];
      if (r === samples.length - 1) (axes[`xaxis${sfx}`] as Record<string, unknown>).title = { text: 'time (ms)' };
      const yAxis = axes[`yaxis${sfx}`] as Record<string, unknown>;
      if (c === 0) yAxis.title = { text: li.indexLabel ?? 'neuron index' };
      // Only the recorded rows: an axis up to the layer size would show unrecorded neurons as silent.
      const maxNeuron = rows.reduce((m, x) => Math.max(m, x.neuron), 0);
      yAxis.range = [-0.5, maxNeuron + 0.5];
    });
  });
  const noteText = [...notes].join('; ');
  return {
    id,
    data,
    layout: { ...baseLayout(`${layerTitle(set, layer)}: spike raster, ${set.label}${noteText ? `<br><sub>${noteText}</sub>` : ''}`, '', ''), ...axes, annotations, showlegend: false, margin: { l: 70, r: 20, t: noteText ? 95 : 65, b: 50 } },
    caption: `Each mark is a spike of the ${li.indexLabel ?? 'neuron'} on the y axis. dt = ${fmt(set.dtMs)} ms.${noteText ? ` Decimated for plotting: ${noteText}.` : ''}`,
    heightPx: 100 + 230 * samples.length,
  };
}

/**
 * Readout figure: one panel per sample (input stream), the potential of every class's output
 * unit over time; the true class drawn thick, the others thin. Returns undefined without
 * voltage recordings.
 */
export function readoutFigure(set: TraceSet, layer: number, id: string, opts: TraceFigureOptions = {}): Figure | undefined {
  const recs = set.recordings.filter((r) => r.layer === layer && streamOf(r) === 'input');
  const li = info(set, layer);
  const vVar = pickVar(recs, li.voltageVar, VOLTAGE_VARS);
  if (!vVar) return undefined;
  const vRecs = recs.filter((r) => r.var === vVar);
  const samples = [...new Set(vRecs.map((r) => r.sample))].sort((a, b) => a - b).slice(0, opts.maxRows ?? 6);
  if (!samples.length) return undefined;
  const cols = Math.min(2, samples.length);
  const rowsN = Math.ceil(samples.length / cols);
  const { axes, cell } = grid(rowsN, cols);
  const data: PlotTrace[] = [];
  const annotations: Record<string, unknown>[] = [];
  const notes = new Set<string>();
  const shown = new Set<number>();
  samples.forEach((sample, k) => {
    const r = Math.floor(k / cols);
    const c = k % cols;
    const { xa, ya, key, xMid, yTop } = cell(r, c);
    const sfx = key === 1 ? '' : String(key);
    annotations.push(subplotTitle(sampleText(set, sample), xMid, yTop));
    const label = Number(String(set.sampleLabels?.[sample] ?? '').split(',')[0]);
    for (const rec of vRecs.filter((x) => x.sample === sample).sort((a, b) => a.neuron - b.neuron)) {
      const dec = decimateMinMax(rec.values, opts.maxPointsPerTrace ?? 2000);
      if (dec.note) notes.add(dec.note);
      const isTrue = rec.neuron === label;
      data.push({
        type: 'scatter', mode: 'lines', name: `class ${rec.neuron}`, legendgroup: `c${rec.neuron}`, showlegend: !shown.has(rec.neuron),
        x: dec.x.map((t) => t * set.dtMs), y: dec.y, xaxis: xa, yaxis: ya, line: { color: colour(rec.neuron), width: isTrue ? 3 : 1.2 },
      });
      shown.add(rec.neuron);
    }
    if (r === rowsN - 1) (axes[`xaxis${sfx}`] as Record<string, unknown>).title = { text: 'time (ms)' };
    if (c === 0) (axes[`yaxis${sfx}`] as Record<string, unknown>).title = { text: `U_o (${li.voltageUnit ?? 'a.u.'})` };
  });
  const noteText = [...notes].join('; ');
  const top = noteText ? 95 : 65;
  const heightPx = top + 60 + 220 * rowsN;
  return {
    id,
    data,
    layout: { ...baseLayout(`${layerTitle(set, layer)}: potential per class, ${set.label}${noteText ? `<br><sub>${noteText}</sub>` : ''}`, '', ''), ...axes, annotations, showlegend: true, legend: { orientation: 'v', x: 1.01, y: 1 }, margin: { l: 70, r: 110, t: top, b: 60 } },
    caption: 'Output potential of each class unit over time (input stream only); the true class is drawn thick. The prediction is the class with the largest time-summed potential.',
    heightPx,
  };
}

/** Mean firing rate (spikes per neuron per step) of each layer and stream in a set. */
export function firingRates(set: TraceSet): { layer: number; stream: Stream; rate: number; neurons: number }[] {
  const out: { layer: number; stream: Stream; rate: number; neurons: number }[] = [];
  for (const layer of traceLayers(set)) {
    const recs = set.recordings.filter((r) => r.layer === layer);
    const sVar = pickVar(recs, info(set, layer).spikeVar, SPIKE_VARS);
    if (!sVar) continue;
    for (const stream of STREAMS) {
      const rs = recs.filter((r) => r.var === sVar && streamOf(r) === stream);
      if (!rs.length) continue;
      let spikes = 0;
      let cells = 0;
      for (const r of rs) {
        spikes += spikeSteps(r.values).length;
        cells += r.values.length;
      }
      out.push({ layer, stream, rate: cells ? spikes / cells : 0, neurons: new Set(rs.map((r) => r.neuron)).size });
    }
  }
  return out;
}

/** Grouped bars: firing rate per layer and stream for each set (e.g. before vs after training). */
export function rateComparisonFigure(sets: TraceSet[], id: string): Figure | undefined {
  const data: PlotTrace[] = [];
  sets.forEach((set, i) => {
    for (const stream of STREAMS) {
      const rates = firingRates(set).filter((r) => r.stream === stream);
      if (!rates.length) continue;
      data.push({
        type: 'bar', name: `${set.label}, ${stream}`, x: rates.map((r) => layerTitle(set, r.layer)), y: rates.map((r) => r.rate),
        marker: { color: colour(i), pattern: stream === 'target' ? { shape: '/' } : undefined },
      });
    }
  });
  if (!data.length) return undefined;
  return { id, data, layout: baseLayout('Firing rate of the recorded neurons', 'layer', 'rate (spikes / neuron / step)', { barmode: 'group' }), heightPx: 340 };
}

/** Table of the recorded series (what is in the raw data files). */
export function recordingTable(set: TraceSet): Table {
  const rows: (string | number)[][] = [];
  for (const layer of traceLayers(set)) {
    const recs = set.recordings.filter((r) => r.layer === layer);
    const vars = [...new Set(recs.map((r) => r.var))].join(', ');
    const neurons = new Set(recs.map((r) => r.neuron)).size;
    const samples = [...new Set(recs.map((r) => r.sample))].join(', ');
    const T = recs.reduce((m, r) => Math.max(m, r.values.length), 0);
    rows.push([layerTitle(set, layer), vars, neurons, samples, T, info(set, layer).threshold ?? '—']);
  }
  return { caption: `Recorded series, ${set.label}`, columns: ['layer', 'variables', 'neurons', 'samples', 'steps', 'threshold θ'], rows };
}

/** All blocks for one TraceSet: per layer the voltage figure then the raster, then the table. */
export function traceBlocks(set: TraceSet, prefix: string, opts: TraceFigureOptions = {}): Block[] {
  const blocks: Block[] = [];
  for (const layer of traceLayers(set)) {
    if (info(set, layer).kind === 'readout') {
      const ro = readoutFigure(set, layer, `${prefix}-o${layer}`, opts);
      if (ro) blocks.push({ kind: 'figure', figure: ro });
      continue;
    }
    const v = voltageFigure(set, layer, `${prefix}-v${layer}`, opts);
    if (v) blocks.push({ kind: 'figure', figure: v });
    const r = rasterFigure(set, layer, `${prefix}-r${layer}`, opts);
    if (r) blocks.push({ kind: 'figure', figure: r });
  }
  if (!blocks.length) blocks.push({ kind: 'text', text: `No voltage or spike recordings in "${set.label}".` });
  blocks.push({ kind: 'table', table: recordingTable(set) });
  return blocks;
}
