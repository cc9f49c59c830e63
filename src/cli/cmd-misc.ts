/**
 * `sigprop eval`, `sigprop traces`, `sigprop surrogates` and `sigprop bench`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SigpropError } from '../errors.js';
import { writeJsonAtomic } from '../io.js';
import { UsageError, type ParsedArgs } from './args.js';
import type { CliIO, Command } from './command.js';
import { findExperimentScript, runScript } from './scripts.js';
import type { SurrogateAccuracyRow } from '../report/index.js';

// The implementations (runner, reports, surrogates, sweep) are imported inside each `run`, not
// here, so that `sigprop --help` loads no more than the flag specs.

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

export const evalCommand: Command = {
  command: 'eval',
  summary: 'accuracy of a checkpoint on a dataset split',
  usage: 'sigprop eval <checkpoint.ckpt | run-dir> [options]',
  description: 'Rebuilds the network saved in a checkpoint (config, weights and RNG state) and reports its test accuracy.',
  positionals: [{ name: 'checkpoint', description: 'a checkpoint file or a run folder holding checkpoint.ckpt', required: true }],
  flags: [
    { name: 'test-size', type: 'number', unit: 'samples', description: 'evaluate on N test samples instead of the run\'s test split: a class-balanced subset drawn with the run\'s seed (not the first N); N generated samples for synthetic tasks' },
    { name: 'data-dir', type: 'string', placeholder: 'DIR', description: 'directory with the dataset files (CIFAR, or IDX files)' },
    { name: 'backend', type: 'string', placeholder: 'NAME', choices: 'backend', description: "compute backend, default the run's" },
    { name: 'json', type: 'boolean', description: 'print the result as JSON' },
  ],
  examples: ['sigprop eval runs/mnist-lif-20260101-120000', 'sigprop eval runs/x/checkpoint.ckpt --test-size 1000 --json'],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const overrides: Record<string, unknown> = {};
    if (args.flags['test-size'] !== undefined) overrides.testSize = args.flags['test-size'];
    if (args.flags['data-dir'] !== undefined) overrides.dataDir = args.flags['data-dir'];
    if (args.flags.backend !== undefined) overrides.backend = args.flags.backend;
    const { evaluateCheckpoint } = await import('../runner.js');
    const r = await evaluateCheckpoint(args.positionals[0], overrides);
    const result = { checkpoint: r.checkpointPath, dataset: r.config.dataset, epoch: r.epoch, samples: r.samples, accuracy: r.accuracy, seconds: r.seconds };
    if (args.flags.json) io.out(`${JSON.stringify(result, null, 2)}\n`);
    else io.out(`test accuracy ${pct(r.accuracy)} on ${r.samples} ${r.config.dataset} samples (checkpoint after epoch ${r.epoch}, ${r.seconds.toFixed(1)} s)\n`);
    return 0;
  },
};

function indexList(flag: string, v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  return ([] as string[]).concat(v as string[] | string).map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${flag}: ${JSON.stringify(s)} is not an index (an integer >= 0)`);
    return n;
  });
}

export const tracesCommand: Command = {
  command: 'traces',
  summary: 'voltage traces and spike rasters of a checkpoint as an HTML report',
  usage: 'sigprop traces <checkpoint.ckpt | run-dir> [options]',
  description:
    'Runs test samples through the saved spiking network (before and after training, same input spikes) and writes a self-contained ' +
    'HTML page with voltage traces, spike marks, rasters and firing rates, plus the raw recordings as JSON and CSV next to it.',
  positionals: [{ name: 'checkpoint', description: 'a checkpoint file or a run folder holding checkpoint.ckpt', required: true }],
  flags: [
    { name: 'out', short: 'o', type: 'string', placeholder: 'FILE', description: "output HTML file; its raw recordings go next to it as <name>.before.json, .after.csv, ... (default: traces.html in the run folder, or traces-2.html, traces-3.html, ... when that name is taken, e.g. by the run's own recordings)" },
    { name: 'force', type: 'boolean', description: 'replace existing output files (without it an existing file is never overwritten)' },
    { name: 'samples', type: 'list', placeholder: 'I,J,...', default: '0,1', description: 'test-split indices of the samples to record' },
    { name: 'neurons', type: 'list', placeholder: 'I,J,...', description: 'neurons whose voltage is traced in each layer (default the config\'s record.neurons or 0,1,2); a layer too small for some is traced without them, with a warning' },
    { name: 'layers', type: 'list', placeholder: 'I,J,...', description: 'layers to record (default all)' },
    { name: 'steps', type: 'number', unit: 'time steps', description: "time steps per sample (default the run's)" },
    { name: 'before', type: 'boolean', default: true, description: 'leave out the untrained (before training) traces; by default both are recorded' }, // help: --no-before
  ],
  examples: ['sigprop traces runs/mnist-lif-20260101-120000 --samples 0,1,2 --neurons 0,5,9'],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const steps = args.flags.steps as number | undefined;
    if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new UsageError(`--steps = ${steps} must be an integer >= 1`);
    const samples = indexList('samples', args.flags.samples);
    const neurons = indexList('neurons', args.flags.neurons);
    const layers = indexList('layers', args.flags.layers);
    const { tracesReportFiles, writeTracesReport } = await import('../report/inspect.js');
    const { checkpointPathOf } = await import('../runner.js');
    const ckPath = checkpointPathOf(args.positionals[0]);
    const out = tracesOutFile(ckPath, args.flags.out as string | undefined, args.flags.force === true, tracesReportFiles);
    const w = await writeTracesReport({
      checkpoint: ckPath, outFile: out, samples, steps, before: args.flags.before !== false, record: { neurons, layers },
    });
    for (const warning of w.warnings) io.err(`warning: ${warning}\n`);
    io.out(`traces report: ${w.path} (${w.figureCount} figures)\n${w.rawFiles.length ? `raw recordings: ${w.rawFiles.join(', ')}\n` : ''}`);
    if (args.flags.out === undefined && basename(out) !== 'traces.html') {
      io.out(`(${join(dirname(out), 'traces.*')} already exist, e.g. the run's own recordings that its report.html names; they were kept)\n`);
    }
    return 0;
  },
};

/**
 * The traces page to write. Given `-o FILE`: FILE, refused when it is a folder, or when it or its
 * raw recordings exist (unless `force`). Without: traces.html next to the checkpoint, or the
 * first of traces-2.html, traces-3.html, ... whose files are all free, so the run's own
 * recordings (traces.before.json, ..., which its report.html names) are never replaced.
 */
export function tracesOutFile(ckPath: string, given: string | undefined, force: boolean, filesOf: (outFile: string) => string[]): string {
  if (given !== undefined) {
    const out = resolve(given);
    if (isFolder(out)) throw new SigpropError(`-o ${out} is a folder, not a file; give a file name, e.g. ${join(out, 'traces.html')}`, 'io');
    const taken = filesOf(out).filter((f) => existsSync(f));
    if (taken.length && !force) {
      throw new SigpropError(`traces: ${taken.join(', ')} already exist${taken.length === 1 ? 's' : ''}; choose another -o FILE, or pass --force to replace ${taken.length === 1 ? 'it' : 'them'}`, 'io');
    }
    return out;
  }
  const dir = resolve(dirname(ckPath));
  for (let i = 1; ; i++) {
    const out = join(dir, i === 1 ? 'traces.html' : `traces-${i}.html`);
    if (force || !filesOf(out).some((f) => existsSync(f))) return out;
  }
}

function isFolder(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export const surrogatesCommand: Command = {
  command: 'surrogates',
  summary: 'list surrogate spike functions, or compare them (JSON + HTML)',
  usage: 'sigprop surrogates [--compare] [options]',
  description: 'Without --compare: every surrogate family with formulas f(x), f\'(x), parameters, defaults and source. With --compare: f and f\' of the chosen surrogates on one grid of x = U - threshold, written as surrogates.json and surrogates.html.',
  positionals: [],
  flags: [
    { name: 'compare', type: 'boolean', description: 'write the comparison JSON and HTML instead of listing' },
    { name: 'names', type: 'list', placeholder: 'SPEC,...', description: "surrogates to compare, e.g. atan:alpha=2,fastSigmoid or spikeRateEscape:beta=2,k=3,atan (a key=value after name:... is one more parameter of that spec; ';' also separates parameters) (default: all families at their defaults)" },
    { name: 'out', short: 'o', type: 'string', placeholder: 'DIR', default: 'runs/surrogates', description: 'output folder for --compare' },
    { name: 'x-min', type: 'number', default: -2, unit: 'voltage units (U - threshold)', description: 'grid start' },
    { name: 'x-max', type: 'number', default: 2, unit: 'voltage units (U - threshold)', description: 'grid end' },
    { name: 'points', type: 'number', default: 401, description: 'grid points' },
    { name: 'normalize', type: 'boolean', description: 'scale bounded primitives to rise from 0 to 1' },
    { name: 'sweep', type: 'string', placeholder: 'DIR', description: 'add the test accuracy per surrogate (mean ± std over seeds) from a sweep folder (sigprop sweep --surrogates ...)' },
    { name: 'json', type: 'boolean', description: 'list as JSON' },
  ],
  examples: [
    'sigprop surrogates',
    'sigprop surrogates --compare --names atan,fastSigmoid:k=10,sigmoid -o out/sg',
    'sigprop sweep mnist-lif --surrogates atan,fastSigmoid,sigmoid --seeds 0-2 --sweep-dir runs/sg-sweep && sigprop surrogates --compare --sweep runs/sg-sweep',
  ],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    const sg = await import('../../surrogates/index.js');
    if (!args.flags.compare) {
      io.out(args.flags.json ? `${JSON.stringify(sg.listSurrogates(), null, 2)}\n` : `${sg.formatSurrogateList()}\n`);
      return 0;
    }
    const accuracy = args.flags.sweep ? await sweepAccuracy(resolve(String(args.flags.sweep))) : undefined;
    const names = (args.flags.names as string[] | undefined) ?? accuracy?.map((r) => r.surrogate);
    const cmp = sg.surrogateComparison({
      xMin: args.flags['x-min'] as number, xMax: args.flags['x-max'] as number, points: args.flags.points as number,
      names, normalize: Boolean(args.flags.normalize),
    });
    const dir = resolve(String(args.flags.out));
    writeJsonAtomic(join(dir, 'surrogates.json'), accuracy ? { ...cmp, accuracy } : cmp);
    const { writeSurrogateReport } = await import('../report/index.js');
    const page = writeSurrogateReport(join(dir, 'surrogates.html'), {
      x: cmp.x,
      curves: cmp.surrogates.map((c) => ({ name: c.spec, f: c.f, df: c.df, formulaF: c.formula.f, formulaDf: c.formula.df })),
    }, accuracy);
    io.out(`compared ${cmp.surrogates.length} surrogates on ${cmp.x.length} points${accuracy ? `, with test accuracy from ${accuracy.reduce((n, r) => n + r.seeds.length, 0)} runs` : ''}\n${join(dir, 'surrogates.json')}\n${page.path}\n`);
    return 0;
  },
};

/** Accuracy rows (one per surrogate, seeds and final test accuracies) from a sweep folder's finished points. */
export async function sweepAccuracy(sweepDir: string): Promise<SurrogateAccuracyRow[]> {
  const { collectSweep } = await import('./sweep.js');
  const rows = collectSweep(sweepDir).filter((r) => r.status === 'complete' && r.surrogate !== undefined && r.testAccuracy !== undefined);
  if (!rows.length) throw new SigpropError(`${sweepDir} has no finished runs with a surrogate; run sigprop sweep --surrogates ... first`, 'sweep');
  const by = new Map<string, SurrogateAccuracyRow>();
  for (const r of rows) {
    const row = by.get(r.surrogate!) ?? { surrogate: r.surrogate!, seeds: [], accuracies: [], trainTimeS: 0 };
    row.seeds.push(r.seed ?? 0);
    row.accuracies!.push(r.testAccuracy!);
    row.trainTimeS! += r.timeS ?? 0;
    by.set(r.surrogate!, row);
  }
  return [...by.values()].map((r) => ({ ...r, trainTimeS: r.trainTimeS! / r.seeds.length }));
}

export const benchCommand: Command = {
  command: 'bench',
  summary: 'benchmark the backends (runs experiments/bench)',
  usage: 'sigprop bench [bench options]',
  description: "Runs the kernel and training benchmarks of experiments/bench.ts; other arguments are passed to it (its options: 'sigprop bench -- --help').",
  passthrough: true,
  positionals: [{ name: 'args', description: 'arguments for the benchmark script', variadic: true }],
  flags: [],
  examples: ['sigprop bench --quick', 'sigprop bench -- --help'],
  async run(args: ParsedArgs): Promise<number> {
    const script = findExperimentScript('bench');
    if (!script) throw new SigpropError('bench: experiments/bench is not part of this build', 'unsupported');
    return runScript(script, args.positionals);
  },
};
