/**
 * Every learning rule on the same task: each experiment (preset) named in --rules trains on each
 * dataset in --datasets, in its own process, through the run loop of `sigprop run` (one run
 * folder per run under --dir). Writes the results JSON, a markdown table per dataset (the form
 * experiments/RESULTS.md records), and an HTML page with the table and the learning curves of all
 * rules on one plot. Spiking rules also get short runs at each --memory-steps T whose peak RSS
 * shows memory against T.
 *
 *   npx tsx experiments/compare-rules.ts --rules mnist-mlp,mnist-bp --epochs 3 --train-size 10000
 *   npx tsx experiments/compare-rules.ts --datasets mnist,fashion-mnist --hidden 1024
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasPreset, presetNames } from '../src/config/presets.js';
import { ParameterError } from '../src/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/io.js';
import { ruleComparisonMarkdown, writeRuleComparisonReport, type RuleComparisonResults, type RuleComparisonRun } from '../src/report/rule-comparison.js';
import { exitWith, runScriptMain } from '../src/cli/script-flags.js';
import type { CompareRunRequest } from './compare-rules-run.js';

const CHILD = fileURLToPath(new URL('./compare-rules-run.ts', import.meta.url));

/** Run one request in a child process; resolves with its JSON line (or a failure record). */
function runChild(req: CompareRunRequest): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    // tsx resolved from this file, so that the child starts from any working directory
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), CHILD, JSON.stringify(req)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const line = out.trim().split('\n').filter((l) => l.startsWith('{')).at(-1);
      if (line) {
        try {
          return resolve(JSON.parse(line) as Record<string, unknown>);
        } catch { /* fall through */ }
      }
      resolve({ status: 'failed', error: `child exited with code ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`, runDir: req.runDir });
    });
  });
}

exitWith(runScriptMain(process.argv.slice(2), {
  script: 'compare-rules',
  summary: 'every learning rule on the same MLP and data: test accuracy, seconds per epoch, peak memory, learning curves',
  description: 'Each name in --rules is an experiment (`sigprop run --help` lists them); its rule, network and settings come from it, ' +
    'with --hidden, --epochs, --train-size and --test-size applied to every one so that the rules share the task.',
  examples: [
    'npx tsx experiments/compare-rules.ts --rules mnist-mlp,mnist-bp,mnist-pepita,mnist-fa,mnist-dfa,mnist-ff --hidden 1024',
    'npx tsx experiments/compare-rules.ts --rules mnist-mlp,mnist-bp --epochs 2 --train-size 5000 --test-size 1000',
  ],
  flags: {
    rules: ['mnist-mlp,mnist-lif', 'experiments to compare, comma-separated (each names its rule and settings)'],
    datasets: ['mnist,fashion-mnist', 'datasets, comma-separated (each experiment runs on each)'],
    hidden: ['', "hidden layer sizes for every rule, comma-separated (e.g. 1024); '' keeps each experiment's"],
    epochs: [0, "epochs of every run (0 keeps each experiment's)"],
    'train-size': [0, 'training samples, seeded class-balanced subset (0 = all)'],
    'test-size': [0, 'test samples (0 = all)'],
    'memory-steps': ['25,400', "spiking rules: time steps T of the short memory runs, comma-separated ('' for none)"],
    'memory-samples': [1280, 'training samples of each short memory run'],
    backend: ['', "backend of every run ('' keeps each experiment's)"],
    threads: [0, 'wasm worker threads (0 keeps the config default)'],
    seed: [1, 'seed of every run'],
    dir: ['', 'folder for the run folders and results (default runs/compare-rules-<time>)'],
  },
}, async (f) => {
  const started = new Date().toISOString();
  const dir = f.dir || `runs/compare-rules-${started.replace(/[:.]/g, '-')}`;
  const list = (s: string) => String(s).split(',').map((x) => x.trim()).filter(Boolean);
  const rules = list(f.rules), datasets = list(f.datasets);
  for (const r of rules) {
    if (!hasPreset(r)) throw new ParameterError(`flag --rules: "${r}" is not an experiment; known experiments: ${presetNames().join(', ')}`);
  }
  const hidden = list(f.hidden).map(Number);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new ParameterError(`flag --hidden = "${f.hidden}" must be positive whole layer sizes, e.g. 1024 or 1000,1000`);
  const memorySteps = list(f['memory-steps']).map(Number);
  if (memorySteps.some((t) => !Number.isInteger(t) || t < 1)) throw new ParameterError(`flag --memory-steps = "${f['memory-steps']}" must be whole numbers of steps, e.g. 25,400`);
  const common = {
    ...(hidden.length ? { hidden } : {}), ...(f.epochs ? { epochs: f.epochs } : {}),
    ...(f['train-size'] ? { trainSize: f['train-size'] } : {}), ...(f['test-size'] ? { testSize: f['test-size'] } : {}),
    ...(f.backend ? { backend: f.backend } : {}), ...(f.threads ? { threads: f.threads } : {}), seed: f.seed,
  };
  const results: RuleComparisonResults = {
    command: `npx tsx experiments/compare-rules.ts ${process.argv.slice(2).join(' ')}`, started,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load ${loadavg()[0].toFixed(2)} at start`,
    runs: [],
  };
  const jsonPath = join(dir, 'compare-rules.json');
  for (const dataset of datasets) {
    for (const preset of rules) {
      const name = `${dataset}__${preset}`;
      if (!f.quiet) process.stderr.write(`${name} ...\n`);
      const r = await runChild({ ...common, preset, dataset, runDir: join(dir, name) });
      const run: RuleComparisonRun = {
        label: preset, preset, dataset, rule: String(r.rule ?? '?'), network: String(r.network ?? '?'), sizes: String(r.sizes ?? '?'),
        status: String(r.status), testAccuracy: (r.testAccuracy as number[]) ?? [], epochSeconds: (r.epochSeconds as number[]) ?? [],
        peakRssMiB: Number(r.peakRssMiB ?? 0), runDir: String(r.runDir), ...(r.error ? { error: String(r.error) } : {}),
      };
      if (run.network === 'spiking' && memorySteps.length) {
        run.memoryVsSteps = [];
        for (const steps of memorySteps) {
          const m = await runChild({
            ...common, preset, dataset, steps, epochs: 1, trainSize: f['memory-samples'], testSize: 100, report: false, runDir: join(dir, `${name}-memory-T${steps}`),
          });
          if (m.status === 'complete') run.memoryVsSteps.push({ steps, peakRssMiB: Number(m.peakRssMiB) });
        }
      }
      results.runs.push(run);
      const acc = run.testAccuracy.at(-1);
      console.log(`${name.padEnd(32)} ${run.status === 'complete' ? '' : `${run.status} `}test ${acc === undefined ? '—' : `${(100 * acc).toFixed(2)}%`}  ` +
        `${run.epochSeconds.length ? (run.epochSeconds.reduce((a, b) => a + b, 0) / run.epochSeconds.length).toFixed(1) : '—'} s/epoch  ${run.peakRssMiB.toFixed(0)} MiB${run.error ? `  (${run.error})` : ''}`);
      writeJsonAtomic(jsonPath, { ...results, partial: true });
    }
  }
  writeJsonAtomic(jsonPath, results);
  const md = ruleComparisonMarkdown(results);
  writeFileAtomic(join(dir, 'compare-rules.md'), `${md}\nCommand: \`${results.command}\`\n`);
  const page = writeRuleComparisonReport(results, join(dir, 'compare-rules.html'));
  console.log(`\n${md}\n-> ${jsonPath}\n-> ${page.path}`);
  return results.runs.every((r) => r.status === 'complete') ? 0 : 1;
}));
