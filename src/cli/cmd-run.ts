/**
 * `sigprop run`: train a config file, a named experiment (preset) or an experiment script;
 * `--resume DIR` continues an interrupted run bit for bit.
 */
import { UsageError, type ParsedArgs } from './args.js';
import { lineLogger, type CliIO, type Command } from './command.js';
import { experimentScripts, findExperimentScript, runScript } from './scripts.js';

export const runCommand: Command = {
  command: 'run',
  summary: 'train an experiment (config file, named experiment or script)',
  usage: 'sigprop run <config.json | experiment> [options] [config overrides]\n       sigprop run --resume <run-dir> [--epochs N] [--learning-rate LR] [--set ruleParams.eta=ETA]',
  description:
    'Trains the network a config describes and writes a run folder: config.json (resolved, defaults filled), run.json (status), ' +
    'metrics.json + metrics.csv (per epoch), checkpoint.ckpt and report.html (for spiking runs with voltage traces of 4 test samples ' +
    'before and after training, raw recordings in traces.*.json/csv, and the surrogate\'s shape). Ctrl-C finishes the current batch, writes a checkpoint ' +
    'and the report, and exits with code 130; continue with --resume. A run owns its folder while it runs (run.lock); a second run there is refused. ' +
    'A run stops with status diverged when a weight or the loss becomes NaN or infinite, or the loss exceeds 10^4 times its first batch\'s loss; ' +
    'the message names the --resume command that continues from the last good checkpoint with a lower learning rate.',
  positionals: [{ name: 'config', description: 'a JSON config file, a named experiment (see --list) or an experiments/ script name', required: false, variadic: true }],
  flags: [
    { name: 'run-dir', type: 'string', placeholder: 'DIR', description: 'run folder (default <outDir>/<name>-<UTC time>, with -2, -3, ... added when that name is taken)' },
    { name: 'resume', type: 'string', placeholder: 'DIR', description: 'continue the run in DIR from its checkpoint (same result as an uninterrupted run); may change --epochs, and after divergence --learning-rate or --set ruleParams.eta=X (recorded in run.json)' },
    { name: 'set', type: 'list', placeholder: 'PATH=VALUE', description: 'set a nested config field, e.g. --set layers[0].size=100 (repeatable)' },
    { name: 'dry-run', type: 'boolean', description: 'print the resolved config and exit without training' },
    { name: 'report', type: 'boolean', default: true, description: 'skip report.html' },
    { name: 'list', type: 'boolean', description: 'list the named experiments and scripts' },
  ],
  configFlags: true,
  examples: [
    'sigprop run quick',
    'sigprop run exp.json --epochs 10 --learning-rate 0.0005 --backend reference',
    'sigprop run mnist-lif --surrogate atan:alpha=2 --seed 3 --run-dir runs/atan-3',
    'sigprop run mnist-lif --set layers[0].model=synaptic --set layers[0].recurrent=all-to-all --set layers[0].delays=2',
    'sigprop run --resume runs/atan-3',
    'sigprop run mnist-pepita --set ruleParams.mempepita=true --set ruleParams.lastError=clean',
    'sigprop run mnist-fa --rule dfa --epochs 20',
    'sigprop run mnist-ff --train-size 10000 --epochs 2 --set ruleParams.ffPredict=goodness   (Forward-Forward; ruleParams.ff* in src/learning/settings.ts)',
  ],
  async run(args: ParsedArgs, io: CliIO): Promise<number> {
    if (args.flags.list) {
      const { listPresets } = await import('../config/presets.js');
      io.out('Named experiments:\n');
      const presets = listPresets(), width = Math.max(...presets.map((p) => p.name.length));
      for (const p of presets) io.out(`  ${p.name.padEnd(width)}  ${p.description}\n`);
      const scripts = experimentScripts();
      if (scripts.length) io.out(`Experiment scripts (experiments/): ${scripts.join(', ')}\n`);
      return 0;
    }
    // The implementation is loaded here, not at start-up, so that `sigprop --help` stays quick.
    const { configFromArgs, rawConfigFor, resultLine, resumeChanges } = await import('./run-config.js');
    const { resumeRun, runExperiment } = await import('../runner.js');
    const common = {
      progress: args.flags.quiet ? (false as const) : io.progress,
      log: lineLogger(args, io),
      warn: (line: string) => io.err(`warning: ${line}\n`), // whatever the verbosity
      report: args.flags.report !== false,
      handleSigint: io.handleSigint,
    };
    if (args.flags.resume) {
      const r = await resumeRun(String(args.flags.resume), { ...common, ...resumeChanges(args) });
      io.out(`${resultLine(r)}\n`);
      return r.status === 'interrupted' ? 130 : 0;
    }
    const [source, ...rest] = args.positionals;
    if (!source) throw new UsageError("'sigprop run' needs a config file or experiment name (or --resume DIR)", "run 'sigprop run --list' for the named experiments");
    if (!rawConfigFor(source)) {
      const script = findExperimentScript(source);
      if (script) return runScript(script, rest);
    }
    if (rest.length) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])} for 'sigprop run'`, "run 'sigprop run --help' for the accepted flags");
    const cfg = configFromArgs(source, args, (w) => io.err(`warning: ${w}\n`));
    if (args.flags['dry-run']) {
      io.out(`${JSON.stringify(cfg, null, 2)}\n`);
      return 0;
    }
    const r = await runExperiment(cfg, { ...common, runDir: args.flags['run-dir'] as string | undefined });
    io.out(`${resultLine(r)}\n`);
    return r.status === 'interrupted' ? 130 : 0;
  },
};
