/**
 * `sigprop sweep`: a grid over surrogates, seeds and learning rates; `--shard i/n` runs one part.
 */
import { join, resolve } from 'node:path';
import { UsageError, type ParsedArgs } from './args.js';
import { lineLogger, type CliIO, type Command } from './command.js';
import type { SweepAxes } from './sweep.js';

export const sweepCommand: Command = {
  command: 'sweep',
  summary: 'train a grid of runs over surrogates, seeds and learning rates (shardable)',
  usage: 'sigprop sweep <config.json | experiment> [--surrogates A,B] [--seeds 0-4] [--learning-rates X,Y] [--shard i/n] [options]',
  description:
    'Every grid point trains into its own run folder <sweep-dir>/<point>. The grid order is fixed, and point i belongs to shard ' +
    '(i mod n) + 1, so a job array (e.g. --shard $SLURM_ARRAY_TASK_ID/8 with --array=1-8) or several machines sharing the folder ' +
    'cover the grid exactly once with no coordinator. Re-running skips finished points and resumes interrupted ones. ' +
    'Each shard rewrites summary.json/summary.csv from all point folders it can see.',
  positionals: [{ name: 'config', description: 'base config: a JSON file or a named experiment', required: false }],
  flags: [
    { name: 'surrogates', type: 'list', placeholder: 'SPEC,...', description: "surrogate specs, e.g. fastSigmoid:k=25,atan:alpha=2 or spikeRateEscape:beta=2,k=3,atan (a key=value after name:... is one more parameter of that spec; ';' also separates parameters) (repeatable)" },
    { name: 'seeds', type: 'list', placeholder: 'N,...', description: 'seeds; ranges allowed, e.g. 0-4' },
    { name: 'learning-rates', type: 'list', placeholder: 'X,...', description: 'learning rates, e.g. 1e-3,5e-4' },
    { name: 'shard', type: 'string', placeholder: 'i/n', default: '1/1', description: 'run only shard i of n (1-based)' },
    { name: 'sweep-dir', type: 'string', placeholder: 'DIR', description: 'sweep folder (default <outDir>/sweep-<name>)' },
    { name: 'set', type: 'list', placeholder: 'PATH=VALUE', description: 'set a nested base-config field (repeatable)' },
    { name: 'list', type: 'boolean', description: "print this shard's grid points and exit" },
    { name: 'summarize', type: 'string', placeholder: 'DIR', description: 'only (re)write summary.json/csv of an existing sweep folder and print it' },
    { name: 'report', type: 'boolean', default: true, description: 'skip report.html in each point folder' },
  ],
  configFlags: true,
  examples: [
    'sigprop sweep mnist-lif --surrogates fastSigmoid,atan,sigmoid --seeds 0-4 --epochs 3',
    'sigprop sweep exp.json --learning-rates 1e-3,5e-4 --seeds 0,1 --shard 2/4 --sweep-dir /scratch/sw1',
    'sigprop sweep --summarize /scratch/sw1',
  ],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    // The implementation is loaded here, not at start-up, so that `sigprop --help` stays quick.
    const { checkSweepAxes, parseNumberList, parseShard, runSweep, shardPoints, sweepGrid, writeSweepSummary } = await import('./sweep.js');
    const { configFromArgs } = await import('./run-config.js');
    if (args.flags.summarize) {
      const rows = writeSweepSummary(resolve(String(args.flags.summarize)));
      for (const r of rows) io.out(`${r.point.padEnd(40)} ${r.status.padEnd(12)} ${r.testAccuracy !== undefined ? `${(100 * r.testAccuracy).toFixed(2)}%` : ''}\n`);
      return 0;
    }
    const source = args.positionals[0];
    if (!source) throw new UsageError("'sigprop sweep' needs a base config file or experiment name", "run 'sigprop sweep --help'");
    for (const k of ['surrogate', 'seed', 'learningRate']) {
      if (args.overrides[k] !== undefined) throw new UsageError(`--${k === 'learningRate' ? 'learning-rate' : k} sets one value; a sweep takes lists: --surrogates, --seeds, --learning-rates`);
    }
    const base = configFromArgs(source, args, (w) => io.err(`warning: ${w}\n`));
    const axes: SweepAxes = {
      surrogates: args.flags.surrogates as string[] | undefined,
      seeds: args.flags.seeds ? parseNumberList('seeds', args.flags.seeds as string[], true) : undefined,
      learningRates: args.flags['learning-rates'] ? parseNumberList('learning-rates', args.flags['learning-rates'] as string[], false) : undefined,
    };
    checkSweepAxes(base, axes);
    const shard = parseShard(String(args.flags.shard));
    const grid = sweepGrid(axes);
    const mine = shardPoints(grid, shard);
    if (args.flags.list) {
      io.out(`grid: ${grid.length} points; shard ${shard.index}/${shard.count}: ${mine.length}\n`);
      for (const p of mine) io.out(`  ${String(p.index).padStart(4)} ${p.name}\n`);
      return 0;
    }
    const sweepDir = resolve((args.flags['sweep-dir'] as string | undefined) ?? join(base.outDir, `sweep-${base.name}`));
    const log = lineLogger(args, io);
    const r = await runSweep(base, axes, {
      sweepDir, shard, log, progress: args.flags.quiet ? false : io.progress, report: args.flags.report !== false, handleSigint: io.handleSigint,
    });
    const done = r.points.filter((p) => p.status === 'complete' || p.status === 'skipped').length;
    io.out(`shard ${shard.index}/${shard.count}: ${done}/${mine.length} points done${r.interrupted ? ' (interrupted; run the same command again to continue)' : ''}\nsummary: ${join(sweepDir, 'summary.csv')}\n`);
    return r.interrupted ? 130 : r.points.some((p) => p.status === 'failed' || p.status === 'diverged') ? 1 : 0;
  },
};
