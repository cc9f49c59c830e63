/**
 * The training run loop: epochs of shuffled mini-batches through a TrainingRule, evaluation on
 * the test split after each epoch, metrics (JSON + CSV), checkpoints, the HTML report, progress
 * and Ctrl-C handling. Used by `sigprop run`, `sigprop sweep`, the experiment scripts in experiments/
 * (flags parsed by src/cli/script-flags.ts) and library users:
 *
 *   const result = await runExperiment(resolveConfig({ dataset: 'xor', layers: [{ size: 16 }, { size: 2 }], rule: 'sigprop' }));
 *   console.log(result.metrics.at(-1)?.testAccuracy, result.runDir);
 *
 * A run folder holds: config.json (resolved config), run.json (status, position), metrics.json,
 * metrics.csv, checkpoint.ckpt (latest) and report.html; a spiking run's report also holds voltage
 * traces and rasters of 4 test samples before and after training (raw recordings: traces.before.json/
 * .csv, traces.after.json/.csv, traces.input.json) and its surrogate's shape. Every file is written atomically, the
 * checkpoint first, so the folder is never half-written; run.json's status says whether the run
 * is 'running', 'complete', 'interrupted' (resumable), 'diverged' or 'failed'.
 *
 * Ownership: a run (or resume) holds the folder's lock, run.lock, from before its first write
 * until it ends, so two runs never share a folder (src/run-lock.ts); default folder names are
 * unique. The backend, dataset and rule are set up before anything but the lock is written, so a
 * run that cannot start leaves no folder behind.
 *
 * Divergence: a rule throws DivergenceError on NaN/infinite weights, and the loop stops a run
 * whose batch loss is non-finite or explodes (more than LOSS_EXPLOSION_FACTOR = 10^4 times the
 * first batch's loss, src/learning/rule.ts lossDivergence). Both end with status 'diverged', the
 * last good checkpoint kept, and a message naming the command that continues from it with a
 * lower rate (`--resume` accepts --learning-rate and --set ruleParams.eta=, recorded in run.json's
 * configChanges).
 *
 * Determinism: one Rng(seed) is forked into a rule stream and a data (shuffle) stream; both are
 * checkpointed, and a mid-epoch checkpoint stores the data stream's state at the start of the
 * epoch plus the number of batches done, so `resumeRun` ends with the same weights, bit for bit,
 * as an uninterrupted run with the same seed on the same backend.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Backend } from './backend/backend.js';
import { checkpointState, loadCheckpoint, saveCheckpoint, stateTensors, type Checkpoint } from './checkpoint.js';
import { resolveConfig, saveResolvedConfig } from './config/resolve.js';
import type { ResolvedConfig } from './config/types.js';
import { epochOrder, inOrder, matchesAt, numBatches, type Dataset, type Split } from './data/index.js';
import { SigpropError } from './errors.js';
import { fileSystemError, toCsv, writeFileAtomic, writeJsonAtomic } from './io.js';
import { DivergenceError, LOSS_EXPLOSION_FACTOR, lossDivergence, predictOn, trainOn, type TrainingRule } from './learning/rule.js';
import { scheduledLearningRate } from './learning/index.js'; // importing it registers the built-in rules
import { resolveRuleSettings } from './learning/settings.js';
import { StopRequest } from './interrupt.js';
import { cliCommand } from './invocation.js';
import { createProgress, formatDuration, type Progress, type ProgressStream } from './progress.js';
import { Rng } from './rng.js';
import { RUN_TRACES_TRAINING, TrainingTraceWindows } from './report/training-traces.js';
import type { TraceSet } from './report/types.js';
import { acquireRunLock, createUniqueFolder, type RunLock } from './run-lock.js';
import { checkpointPathOf, loadConfigDataset, RUN_FILES, setupRule, type RuleSetup, type SetupOptions } from './run-setup.js';

export { checkpointPathOf, loadConfigDataset, RUN_FILES, setupRule };

/** One epoch's metrics (assignable to src/report's EpochMetrics). Fractions in [0, 1]. */
export interface RunEpochMetrics {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean over samples of the rule's batch loss. */
  trainLoss: number;
  trainAccuracy?: number;
  /** Training samples of the epoch (train loss and accuracy are means over them). */
  trainSamples: number;
  testAccuracy: number;
  /** Test samples the test accuracy was measured on. */
  testSamples: number;
  /** Mean local loss per layer (index 0 = first hidden layer). */
  layerLosses: number[];
  layers?: { layer: number; label?: string; weightNorm?: number; firingRate?: number; targetFiringRate?: number; meanActivity?: number; learningRate?: number; alignmentAngle?: number; productAlignmentAngle?: number }[];
  learningRate: number;
  /** Wall-clock seconds of the epoch (training + evaluation); the one non-deterministic field. */
  timeS: number;
  /**
   * Test accuracy of the rule's other prediction method (nearest class signal when it predicts with
   * its readout, and the reverse), on the same test inputs; only with the altPrediction option and a
   * rule that has both methods.
   */
  testAccuracyAlt?: { method: PredictMethod; accuracy: number };
}

/** The two ways a sigprop rule can classify: its readout layer, or the nearest class signal. */
export type PredictMethod = 'readout' | 'classSignal';

export type RunStatus = 'running' | 'complete' | 'interrupted' | 'diverged' | 'failed';

/** Contents of a run folder's run.json. */
export interface RunState {
  status: RunStatus;
  name: string;
  /** Epochs completed and batches done in the current epoch. */
  epoch: number;
  batch: number;
  epochs: number;
  backend: string;
  startedAt: string;
  updatedAt: string;
  /** Error message when status is 'diverged' or 'failed'. */
  error?: string;
  /** Why report.html could not be written (the run's other files are fine). */
  reportError?: string;
  /** Settings changed when the run was resumed (e.g. a lower learning rate after divergence), oldest first. */
  configChanges?: ConfigChange[];
}

/** One setting changed by a resume, recorded in run.json. */
export interface ConfigChange {
  /** When the resume started (ISO time). */
  at: string;
  /** Position the run continued from: epochs completed and batches done in the next one. */
  epoch: number;
  batch: number;
  /** Config path, e.g. 'learningRate', 'epochs', 'ruleParams.eta'. */
  setting: string;
  from: unknown;
  to: unknown;
}

/** What a resume may change; everything else comes from the run folder's config.json. */
export interface ResumeChanges {
  /** Total number of epochs (to train longer). */
  epochs?: number;
  /** A new base learning rate (e.g. lower, after divergence). */
  learningRate?: number;
  /** A new Hebbian rate η per ms of the continuous-time rule (ruleParams.eta). */
  eta?: number;
}

/** Options of a run; `backend`, `dataset` and `createRule` (SetupOptions) replace what the config names. */
export interface RunExperimentOptions extends SetupOptions {
  /** Run folder; default `<outDir>/<name>-<UTC timestamp>`. Must not hold a run unless resuming. */
  runDir?: string;
  /** Abort → finish the current batch, write a checkpoint, metrics and the report, then return. */
  signal?: AbortSignal;
  /** Install a SIGINT (Ctrl-C) handler that acts like `signal` (a second Ctrl-C exits at once). */
  handleSigint?: boolean;
  /** Stream for the progress bar (default process.stderr); false for none. */
  progress?: ProgressStream | false;
  /** Epoch summary lines (default: stdout); pass () => {} for silence. */
  log?: (line: string) => void;
  /**
   * Problems the caller must see whatever the verbosity (the report could not be written, a stale
   * lock was replaced); default: stderr with a 'warning: ' prefix.
   */
  warn?: (line: string) => void;
  /** A batch loss above this factor times the first batch's loss is divergence (default LOSS_EXPLOSION_FACTOR = 1e4; Infinity: only non-finite losses). */
  lossExplosionFactor?: number;
  /** Write report.html at the end (default true). */
  report?: boolean;
  /**
   * Also measure, after each epoch, the test accuracy of the rule's other prediction method
   * (RunEpochMetrics.testAccuracyAlt) for rules that have two (sigprop's readout and nearest class
   * signal). Off by default: it doubles evaluation time. It does not change training: the
   * evaluation's random stream is restored afterwards.
   */
  altPrediction?: boolean;
}

export interface RunResult {
  runDir: string;
  config: ResolvedConfig;
  metrics: RunEpochMetrics[];
  status: RunStatus;
  checkpointPath: string;
  reportPath?: string;
  /** Set when report.html could not be written: why. */
  reportError?: string;
}



/** A rule that can predict with either method (sigprop's rate and spiking rules). */
type WithAltPredict = TrainingRule & { predictWith?(x: Float32Array, B: number, mode: PredictMethod): Int32Array; settings?: { predict?: string } };

/** The prediction method a rule does not use by default, when it has two; else undefined. */
export function alternativePredictMethod(rule: TrainingRule): PredictMethod | undefined {
  const r = rule as WithAltPredict;
  if (!r.predictWith || !r.settings?.predict) return undefined;
  return r.settings.predict === 'readout' ? 'classSignal' : 'readout';
}

/** Fraction of `split` classified correctly, predicting in batches of `batchSize` (with `mode`, when the rule supports predictWith). */
export function accuracy(rule: TrainingRule, split: Split, batchSize = 500, mode?: PredictMethod): number {
  let correct = 0;
  const r = rule as WithAltPredict;
  const predict = mode && r.predictWith ? (x: Float32Array, b: number) => r.predictWith!(x, b, mode) : (x: Float32Array, b: number) => rule.predict(x, b);
  for (const b of inOrder(split, batchSize)) correct += matchesAt(split, b.start, predict(b.x, b.size));
  return correct / split.n;
}

/** Fraction of `split` that `rule` classifies correctly, predicting in batches of `batchSize`. */
export function evaluate(rule: TrainingRule, split: Split, batchSize: number, mode?: PredictMethod): number {
  return split.n === 0 ? NaN : accuracy(rule, split, batchSize, mode);
}

/**
 * `evaluate` on any backend: with asynchronous read-back (Backend.asyncReads) through the rule's
 * predictAsync (rule.ts predictOn); elsewhere `evaluate` itself. `mode` needs synchronous reads.
 */
export async function evaluateOn(rule: TrainingRule, backend: Backend, split: Split, batchSize: number, mode?: PredictMethod): Promise<number> {
  if (!backend.asyncReads) return evaluate(rule, split, batchSize, mode);
  if (split.n === 0) return NaN;
  let correct = 0;
  for (const b of inOrder(split, batchSize)) correct += matchesAt(split, b.start, await predictOn(rule, backend, b.x, b.size));
  return correct / split.n;
}

/** Copy the rows `indices` of a split into a batch. x: [size, inputSize]. */
function gather(split: Split, indices: Int32Array): { x: Float32Array; labels: Int32Array } {
  const x = new Float32Array(indices.length * split.inputSize);
  const labels = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const src = indices[r];
    x.set(split.images.subarray(src * split.inputSize, (src + 1) * split.inputSize), r * split.inputSize);
    labels[r] = split.labels[src];
  }
  return { x, labels };
}

function utcStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

/** Flatten metrics for the CSV file (one row per epoch). */
export function metricsRows(metrics: readonly RunEpochMetrics[]): Record<string, unknown>[] {
  return metrics.map((m) => {
    const row: Record<string, unknown> = { epoch: m.epoch, trainLoss: m.trainLoss, trainAccuracy: m.trainAccuracy, trainSamples: m.trainSamples, testAccuracy: m.testAccuracy, testSamples: m.testSamples, learningRate: m.learningRate, timeS: m.timeS };
    if (m.testAccuracyAlt) {
      row.testAccuracyAlt = m.testAccuracyAlt.accuracy;
      row.testAccuracyAltMethod = m.testAccuracyAlt.method;
    }
    m.layerLosses.forEach((l, i) => (row[`layer${i}.loss`] = l));
    for (const s of m.layers ?? []) {
      if (s.weightNorm !== undefined) row[`layer${s.layer}.weightNorm`] = s.weightNorm;
      if (s.firingRate !== undefined) row[`layer${s.layer}.firingRate`] = s.firingRate;
      if (s.alignmentAngle !== undefined) row[`layer${s.layer}.alignmentAngle`] = s.alignmentAngle;
      if (s.productAlignmentAngle !== undefined) row.productAlignmentAngle = s.productAlignmentAngle;
    }
    return row;
  });
}

/** Percentage with two decimals and the number of samples it was measured on, e.g. '97.50% on 10000 samples'. */
export function accuracyText(accuracy: number | undefined, samples: number | undefined): string {
  if (samples === 0) return 'n/a (no samples)';
  const pct = accuracy === undefined || Number.isNaN(accuracy) ? 'n/a' : `${(100 * accuracy).toFixed(2)}%`;
  return samples === undefined ? pct : `${pct} on ${samples} sample${samples === 1 ? '' : 's'}`;
}

/** 'train loss 0.4123, train acc 81.25% on 96 samples, test acc 75.00% on 32 samples' (one epoch). */
function epochSummary(m: RunEpochMetrics, trainAccSamples: number): string {
  const train = m.trainAccuracy !== undefined ? `, train acc ${accuracyText(m.trainAccuracy, trainAccSamples)}` : '';
  const alt = m.testAccuracyAlt ? ` (${m.testAccuracyAlt.method}: ${accuracyText(m.testAccuracyAlt.accuracy, undefined)})` : '';
  return `train loss ${m.trainLoss.toPrecision(4)}${train}, test acc ${accuracyText(m.testAccuracy, m.testSamples)}${alt}`;
}

/**
 * With epochs after this one, the training time left in the whole run at the bar's current rate
 * (`run-ETA=h:mm:ss`, evaluation not counted); nothing in the last epoch, whose ETA the bar shows.
 */
function runEta(bar: Progress, laterEpochs: number, samplesPerEpoch: number): Record<string, string> {
  const rate = bar.rate();
  if (laterEpochs <= 0 || !(rate > 0)) return {};
  return { 'run-ETA': formatDuration(bar.etaSeconds() + (laterEpochs * samplesPerEpoch) / rate) };
}

/** Sums of the current (incomplete) epoch, checkpointed so a resumed epoch reports the same means. */
interface EpochSums {
  loss: number;
  correct: number;
  withAccuracy: number;
  samples: number;
  layerLosses: number[];
  timeS: number;
}

const emptySums = (): EpochSums => ({ loss: 0, correct: 0, withAccuracy: 0, samples: 0, layerLosses: [], timeS: 0 });

/** With a caller-supplied dataset, the config's dataset name need not be registered. */
const skipFor = (opts: { dataset?: Dataset }) => ({ skipChecks: opts.dataset ? ['dataset'] : [] });

/** Train a resolved config from scratch in a new run folder. */
export async function runExperiment(config: ResolvedConfig, opts: RunExperimentOptions = {}): Promise<RunResult> {
  const cfg = resolveConfig(config, 'config', skipFor(opts)); // re-validate: library callers may pass hand-made objects
  const runDir = opts.runDir !== undefined ? resolve(opts.runDir) : createUniqueFolder(resolve(cfg.outDir), `${cfg.name}-${utcStamp()}`);
  const lock = acquireRunLock(runDir, { create: true, createdDir: opts.runDir === undefined });
  let started = false;
  try {
    noteStaleLock(lock, opts);
    if (existsSync(join(runDir, RUN_FILES.state)) || existsSync(join(runDir, RUN_FILES.checkpoint))) {
      throw new SigpropError(`run folder ${runDir} already holds a run; continue it with --resume ${runDir}, or choose another folder (--run-dir)`, 'run');
    }
    const setup = await setupRule(cfg, opts); // before any write: a run that cannot start leaves no folder behind
    started = true;
    saveResolvedConfig(runDir, cfg); // io.ts names the file on a full disk or read-only folder
    return await trainLoop(cfg, runDir, null, opts, setup);
  } finally {
    lock.release({ removeDir: !started });
  }
}

/**
 * Continue the run in `runDir` from its checkpoint (or start it over in the same folder when it
 * stopped before writing one). `epochs` may raise the total number of epochs (to train longer),
 * `learningRate` / `eta` lower the rate after divergence (each change is recorded in run.json's
 * configChanges); everything else comes from the folder's config.json.
 */
export async function resumeRun(runDir: string, opts: RunExperimentOptions & ResumeChanges = {}): Promise<RunResult> {
  const dir = resolve(runDir);
  const cfgPath = join(dir, RUN_FILES.config);
  if (!existsSync(cfgPath)) throw new SigpropError(`cannot resume ${dir}: it has no ${RUN_FILES.config}; pass the folder of a run started by sigprop run`, 'run');
  const lock = acquireRunLock(dir, { create: false });
  try {
    noteStaleLock(lock, opts);
    const saved = JSON.parse(readFileSync(cfgPath, 'utf8')) as ResolvedConfig;
    const raw = JSON.parse(JSON.stringify(saved)) as ResolvedConfig;
    if (opts.epochs !== undefined) raw.epochs = opts.epochs;
    if (opts.learningRate !== undefined) raw.learningRate = opts.learningRate;
    if (opts.eta !== undefined) raw.ruleParams = { ...(raw.ruleParams ?? {}), eta: opts.eta };
    const cfg = resolveConfig(raw, cfgPath, skipFor(opts));
    const changes = ([
      ['epochs', saved.epochs, cfg.epochs],
      ['learningRate', saved.learningRate, cfg.learningRate],
      ['ruleParams.eta', (saved.ruleParams as { eta?: unknown } | undefined)?.eta, (cfg.ruleParams as { eta?: unknown } | undefined)?.eta],
    ] as const).filter(([, from, to]) => from !== to).map(([setting, from, to]) => ({ setting, from, to }));
    const ckPath = join(dir, RUN_FILES.checkpoint);
    const setup = await setupRule(cfg, opts); // before any write: a resume that cannot start leaves the folder as it was
    if (changes.length) saveResolvedConfig(dir, cfg);
    if (!existsSync(ckPath)) {
      // stopped before its first checkpoint: nothing to continue, so train from the start in the same folder
      (opts.log ?? ((l: string) => process.stdout.write(`${l}\n`)))(`${dir} has no checkpoint yet; starting it from epoch 1`);
      return await trainLoop(cfg, dir, null, opts, setup, changes);
    }
    return await trainLoop(cfg, dir, ckPath, opts, setup, changes);
  } finally {
    lock.release();
  }
}

function warner(opts: RunExperimentOptions): (line: string) => void {
  return opts.warn ?? ((l: string) => void process.stderr.write(`warning: ${l}\n`));
}

function noteStaleLock(lock: RunLock, opts: RunExperimentOptions): void {
  if (lock.replacedStale) warner(opts)(lock.replacedStale);
}

/** The setting that scales a config's weight updates, and its base value (for divergence advice). */
function rateSetting(cfg: ResolvedConfig): { setting: 'learningRate' | 'ruleParams.eta'; value: number } {
  if (cfg.mode === 'continuous') {
    try {
      const s = resolveRuleSettings(cfg);
      if (s.hebbApply !== 'optimizer') return { setting: 'ruleParams.eta', value: s.eta };
    } catch {
      // settings were validated when the rule was built; fall back to the learning rate
    }
  }
  return { setting: 'learningRate', value: cfg.learningRate };
}


/** run.json of a folder, if readable (a resume keeps its configChanges). */
function readRunState(path: string): Partial<RunState> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<RunState>;
  } catch {
    return {};
  }
}

/**
 * A run's report.html. `after` (label of the trained weights, e.g. 'after training (3 epochs)') is
 * given when a checkpoint of them exists: a spiking run then adds before/after traces and its
 * surrogate. Returns the path, or why it could not be written (the run goes on either way).
 */
async function writeRunReportFile(
  cfg: ResolvedConfig, runDir: string, backendName: string, dataset: Dataset, metrics: RunEpochMetrics[], after: string | undefined, log: (line: string) => void,
  windows: readonly TraceSet[] = [],
): Promise<{ path?: string; error?: string }> {
  const out = join(runDir, RUN_FILES.report);
  try {
    const { writeRunReport, spikingRunExtras, readNirImportRecord } = await import('./report/index.js');
    const nirImport = readNirImportRecord(runDir); // a network imported from NIR: the report shows its graph
    const data = {
      title: cfg.name, subtitle: `${cfg.rule} on ${cfg.dataset}, ${cfg.mode}, backend ${backendName}, seed ${cfg.seed}`, config: cfg as unknown as Record<string, unknown>, epochs: metrics,
      ...(nirImport ? { nirImport } : {}),
    };
    const extras = after && cfg.mode === 'spiking' ? await spikingRunExtras(cfg, runDir, { dataset, afterLabel: after }) : undefined;
    for (const w of extras?.warnings ?? []) log(`warning: ${w}`);
    const notes = [...(extras?.notes ?? []), ...(extras?.warnings ?? []).map((w) => `Warning: ${w}`)];
    if (windows.length) {
      notes.push(
        `Traces during training: recorded from the training network itself in the windows named (${windows.map((w) => w.label.replace(/^during training: /, '')).join('; ')}), ` +
          `both streams of the first samples of the batch (raw recordings: ${RUN_TRACES_TRAINING}-*.json).`,
      );
    }
    const traces = extras?.traces || windows.length ? [...(extras?.traces ?? []).filter((t) => t.label.startsWith('before')), ...windows, ...(extras?.traces ?? []).filter((t) => !t.label.startsWith('before'))] : undefined;
    try {
      writeRunReport(out, { ...data, notes, traces, surrogates: extras?.surrogates }, { maxRows: 12 }); // 12: 4 samples × 3 neurons
    } catch (err) {
      if (!extras?.traces && !extras?.surrogates) throw err;
      const why = `traces and surrogate left out of the report: ${(err as Error).message}`;
      log(`warning: ${why}`);
      writeRunReport(out, { ...data, notes: [`Warning: ${why}`] });
    }
    return { path: out };
  } catch (err) {
    return { error: (fileSystemError(err, out, 'write report') as Error).message };
  }
}

/** A run's DivergenceError with where it happened and the command that continues from the last good state. */
function withDivergenceAdvice(
  e: DivergenceError, cfg: ResolvedConfig, runDir: string, at: { epoch: number; batch: number; nb: number }, lastCheckpoint: { epoch: number; batch: number } | undefined,
): DivergenceError {
  const { setting, value } = rateSetting(cfg);
  const lower = Number((value / 10).toPrecision(3));
  const flag = setting === 'learningRate' ? `--learning-rate ${lower}` : `--set ruleParams.eta=${lower}`;
  const from = lastCheckpoint
    ? `continue from the last good checkpoint (epoch ${lastCheckpoint.epoch}${lastCheckpoint.batch ? `, batch ${lastCheckpoint.batch}` : ''})`
    : 'start it over (no checkpoint was written before it diverged)';
  const first = at.epoch === 0 && at.batch === 0 && e.layer === 'the train loss';
  const advice = first
    ? 'the loss is not finite on the initial weights, before any update, so the learning rate is not the cause: check that the last layer has as many units as the dataset has classes, and that the data hold no NaN'
    : `lower the learning rate${setting === 'learningRate' ? '' : ` (${setting})`} and ${from}: ${cliCommand()} run --resume ${runDir} ${flag}`;
  return new DivergenceError(e.layer, e.step, e.learningRate, e.detail, { what: e.what, rateSetting: e.rateSetting, where: `at epoch ${at.epoch + 1}, batch ${at.batch + 1} of ${at.nb} (step ${e.step})`, advice });
}

async function trainLoop(
  cfg: ResolvedConfig,
  runDir: string,
  ckPath: string | null,
  opts: RunExperimentOptions,
  setup: RuleSetup,
  changes: Omit<ConfigChange, 'at' | 'epoch' | 'batch'>[] = [],
): Promise<RunResult> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const warn = warner(opts);
  const { backend, dataset, rule, ruleRng, dataRng, architecture } = setup;
  // a device backend says what it runs on (gpu: the gpu.js mode and the adapter or renderer, software or not)
  const device = (backend as { describe?(): string }).describe?.();
  if (device) log(`backend ${backend.name}: ${device}`);
  const paths = { ck: join(runDir, RUN_FILES.checkpoint), state: join(runDir, RUN_FILES.state) };
  let metrics: RunEpochMetrics[] = [];
  let startEpoch = 0;
  let startBatch = 0;
  let sums = emptySums();
  let startedAt = new Date().toISOString();
  /** The run's first batch loss, measured on the initial weights: the scale of "exploding" (lossDivergence). */
  let lossReference: number | undefined;
  /** Position of the newest checkpoint on disk (the last good state after a divergence). */
  let lastCheckpoint: { epoch: number; batch: number } | undefined;
  if (ckPath) {
    const ck = loadCheckpoint(ckPath, { architecture });
    rule.loadState(checkpointState(ck));
    ruleRng.setState(ck.rng.rule);
    dataRng.setState(ck.rng.data);
    metrics = (ck.meta.metrics as RunEpochMetrics[]) ?? [];
    sums = (ck.meta.partial as EpochSums) ?? emptySums();
    startEpoch = ck.epoch;
    startBatch = ck.batch;
    startedAt = (ck.meta.startedAt as string) ?? startedAt;
    lossReference = typeof ck.meta.lossReference === 'number' ? ck.meta.lossReference : undefined;
    lastCheckpoint = { epoch: ck.epoch, batch: ck.batch };
    log(`resuming ${runDir} at epoch ${startEpoch + 1}, batch ${startBatch + 1}`);
  }
  const resumedAt = new Date().toISOString();
  const configChanges: ConfigChange[] = [
    ...(readRunState(paths.state).configChanges ?? []),
    ...changes.map((c) => ({ at: resumedAt, epoch: startEpoch, batch: startBatch, ...c })),
  ];
  for (const c of changes) log(`${c.setting} changed from ${c.from} to ${c.to}`);
  let reportError: string | undefined;
  const state = (status: RunStatus, epoch: number, batch: number, error?: string): void =>
    writeJsonAtomic(paths.state, {
      status, name: cfg.name, epoch, batch, epochs: cfg.epochs, backend: backend.name, startedAt, updatedAt: new Date().toISOString(),
      ...(error ? { error } : {}), ...(reportError ? { reportError } : {}), ...(configChanges.length ? { configChanges } : {}),
    } satisfies RunState);
  const writeMetrics = (): void => {
    writeJsonAtomic(join(runDir, RUN_FILES.metrics), metrics);
    const rows = metricsRows(metrics);
    writeFileAtomic(join(runDir, RUN_FILES.csv), toCsv(rows, [...new Set(rows.flatMap((r) => Object.keys(r)))])); // all columns, e.g. testAccuracyAlt of a resumed epoch
  };
  const checkpoint = (epoch: number, batch: number, dataEpochStart: ReturnType<Rng['getState']>, evalRng?: ReturnType<Rng['getState']>): void => {
    const ck: Checkpoint = {
      epoch, batch, architecture, tensors: stateTensors(rule.state()),
      // 'eval': the rule stream just before this epoch's evaluation, so evaluateCheckpoint reproduces it exactly
      rng: { rule: ruleRng.getState(), data: dataEpochStart, ...(evalRng ? { eval: evalRng } : {}) },
      meta: { config: cfg, metrics, partial: sums, startedAt, backend: backend.name, ...(lossReference !== undefined ? { lossReference } : {}) },
    };
    saveCheckpoint(paths.ck, ck);
    lastCheckpoint = { epoch, batch };
  };
  const writeReport = async (after?: string): Promise<string | undefined> => {
    if (opts.report === false) return undefined;
    const r = await writeRunReportFile(cfg, runDir, backend.name, dataset, metrics, after, log, windows.sets);
    reportError = r.error;
    if (r.error) warn(`report not written: ${r.error}`);
    return r.path;
  };
  // traces of the training network during the run's first window and the last window of its last epoch
  // (not on a backend with asynchronous read-back: the recorder reads at every step)
  const windows = new TrainingTraceWindows(opts.report === false || cfg.mode !== 'spiking' || backend.asyncReads ? undefined : rule.network, cfg.epochs, runDir, warn);
  const factor = opts.lossExplosionFactor ?? LOSS_EXPLOSION_FACTOR;
  const stop = new StopRequest(opts);
  const result = (status: RunStatus, reportPath?: string): RunResult => ({ runDir, config: cfg, metrics, status, checkpointPath: paths.ck, reportPath, ...(reportError ? { reportError } : {}) });
  let epoch = startEpoch;
  let batch = startBatch;
  try {
    state('running', epoch, batch);
    for (; epoch < cfg.epochs; epoch++) {
      const dataStart = dataRng.getState();
      rule.setEpoch(epoch);
      const order = epochOrder(dataset.train.n, dataRng, true);
      const nb = numBatches(dataset.train.n, cfg.batchSize);
      // counted in batches (as 'interrupted at batch b/nb' and --resume are), rate and ETA in samples/s
      const bar = opts.progress === false ? null : createProgress({
        total: nb, initial: batch, label: `epoch ${epoch + 1}/${cfg.epochs}`, unit: 'batch', stream: opts.progress,
        rate: { unit: 'sample', units: 'samples', total: dataset.train.n, initial: Math.min(dataset.train.n, batch * cfg.batchSize) },
      });
      const t0 = Date.now();
      for (; batch < nb; batch++) {
        const idx = order.subarray(batch * cfg.batchSize, Math.min(dataset.train.n, (batch + 1) * cfg.batchSize));
        const { x, labels } = gather(dataset.train, idx);
        windows.begin(epoch, batch, nb);
        const res = await trainOn(rule, backend, x, labels);
        windows.end(labels);
        if (lossReference === undefined && Number.isFinite(res.loss)) lossReference = res.loss;
        const bad = lossDivergence(res.loss, lossReference, factor);
        if (bad) {
          const { setting, value } = rateSetting(cfg);
          throw new DivergenceError('the train loss', epoch * nb + batch + 1, scheduledLearningRate(value, epoch, cfg.schedule), '', { what: bad, rateSetting: setting });
        }
        sums.loss += res.loss * idx.length;
        sums.samples += idx.length;
        res.layerLosses.forEach((l, i) => (sums.layerLosses[i] = (sums.layerLosses[i] ?? 0) + l * idx.length));
        if (res.accuracy !== undefined) {
          sums.correct += res.accuracy * idx.length;
          sums.withAccuracy += idx.length;
        }
        bar?.tick(1, { loss: (sums.loss / sums.samples).toPrecision(4), ...runEta(bar, cfg.epochs - epoch - 1, dataset.train.n) }, idx.length);
        await new Promise<void>((r) => setImmediate(r)); // let Ctrl-C and abort signals in
        if (stop.requested && batch + 1 < nb) {
          sums.timeS += (Date.now() - t0) / 1000;
          bar?.finish({ stopped: 'yes' });
          if (backend.asyncReads) await backend.sync!();
          checkpoint(epoch, batch + 1, dataStart);
          writeMetrics();
          const rep = await writeReport(`after training (${epoch} epochs + ${batch + 1} of ${nb} batches)`);
          state('interrupted', epoch, batch + 1);
          log(`interrupted at epoch ${epoch + 1}, batch ${batch + 1}/${nb}; continue with: ${cliCommand()} run --resume ${runDir}`);
          return result('interrupted', rep);
        }
      }
      bar?.finish();
      const evalRng = ruleRng.getState();
      const testAccuracy = await evaluateOn(rule, backend, dataset.test, cfg.batchSize);
      if (backend.asyncReads) await backend.sync!(); // layer statistics, checkpoint and report read the weights
      const altMethod = opts.altPrediction && !backend.asyncReads ? alternativePredictMethod(rule) : undefined;
      let testAccuracyAlt: RunEpochMetrics['testAccuracyAlt'];
      if (altMethod) {
        // same test inputs (the rule stream as before the evaluation), and training goes on as without it
        const afterEval = ruleRng.getState();
        ruleRng.setState(evalRng);
        testAccuracyAlt = { method: altMethod, accuracy: evaluate(rule, dataset.test, cfg.batchSize, altMethod) };
        ruleRng.setState(afterEval);
      }
      const m: RunEpochMetrics = {
        epoch: epoch + 1,
        trainLoss: sums.loss / sums.samples,
        ...(sums.withAccuracy ? { trainAccuracy: sums.correct / sums.withAccuracy } : {}),
        trainSamples: sums.samples,
        testAccuracy,
        testSamples: dataset.test.n,
        layerLosses: sums.layerLosses.map((l) => l / sums.samples),
        ...(rule.layerStats ? { layers: rule.layerStats() } : {}),
        learningRate: scheduledLearningRate(cfg.learningRate, epoch, cfg.schedule),
        timeS: sums.timeS + (Date.now() - t0) / 1000,
        ...(testAccuracyAlt ? { testAccuracyAlt } : {}),
      };
      metrics.push(m);
      log(`epoch ${m.epoch}/${cfg.epochs}: ${epochSummary(m, sums.withAccuracy)} (${m.timeS.toFixed(1)} s)`);
      sums = emptySums();
      batch = 0;
      const last = epoch + 1 === cfg.epochs;
      if (last || stop.requested || (cfg.checkpointEvery > 0 && (epoch + 1) % cfg.checkpointEvery === 0)) checkpoint(epoch + 1, 0, dataRng.getState(), evalRng);
      writeMetrics();
      state(last ? 'complete' : 'running', epoch + 1, 0);
      if (stop.requested && !last) {
        const rep = await writeReport(`after training (${epoch + 1} of ${cfg.epochs} epochs)`);
        state('interrupted', epoch + 1, 0);
        log(`interrupted after epoch ${epoch + 1}; continue with: ${cliCommand()} run --resume ${runDir}`);
        return result('interrupted', rep);
      }
    }
    const rep = await writeReport(`after training (${cfg.epochs} epoch${cfg.epochs === 1 ? '' : 's'})`);
    state('complete', cfg.epochs, 0);
    return result('complete', rep);
  } catch (caught) {
    const err = caught instanceof DivergenceError ? withDivergenceAdvice(caught, cfg, runDir, { epoch, batch, nb: numBatches(dataset.train.n, cfg.batchSize) }, lastCheckpoint) : caught;
    const status: RunStatus = err instanceof DivergenceError ? 'diverged' : 'failed';
    try {
      writeMetrics();
      await writeReport();
      state(status, epoch, batch, (err as Error).message);
    } catch {
      // keep the original error
    }
    throw err;
  } finally {
    stop.dispose();
    rule.dispose?.();
  }
}


/**
 * Rebuild the rule saved in a checkpoint (config from the checkpoint, weights and RNG state
 * restored). `overrides` may change the dataset subset or backend used for evaluation.
 */
export async function restoreFromCheckpoint(path: string, overrides: Partial<ResolvedConfig> = {}, opts: SetupOptions = {}) {
  const ckPath = checkpointPathOf(path);
  const ck = loadCheckpoint(ckPath);
  if (!ck.meta.config) throw new SigpropError(`checkpoint ${ckPath} has no saved config; it was not written by the run loop`, 'checkpoint');
  const cfg = resolveConfig({ ...(ck.meta.config as object), ...overrides }, `${ckPath} (saved config)`, skipFor(opts));
  const setup = await setupRule(cfg, opts);
  if (setup.architecture !== ck.architecture) {
    throw new SigpropError(`checkpoint ${ckPath} was saved for a different network (${ck.architecture}) than its config now builds (${setup.architecture}); do not change dataset or layers when evaluating`, 'checkpoint');
  }
  setup.rule.loadState(checkpointState(ck));
  setup.ruleRng.setState(ck.rng.eval ?? ck.rng.rule); // eval stream: the epoch's test accuracy is reproduced exactly
  return { ...setup, config: cfg, checkpoint: ck, checkpointPath: ckPath };
}

/** Accuracy of a checkpoint on its dataset's test split (or `overrides`' dataset subset). */
export async function evaluateCheckpoint(path: string, overrides: Partial<ResolvedConfig> = {}, opts: SetupOptions = {}) {
  const r = await restoreFromCheckpoint(path, overrides, opts);
  const t0 = Date.now();
  const accuracy = evaluate(r.rule, r.dataset.test, r.config.batchSize);
  r.rule.dispose?.();
  return { accuracy, samples: r.dataset.test.n, epoch: r.checkpoint.epoch, config: r.config, checkpointPath: r.checkpointPath, seconds: (Date.now() - t0) / 1000 };
}
