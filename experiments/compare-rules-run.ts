/**
 * One run of the rule comparison (started by experiments/compare-rules.ts in its own process, so
 * that the peak RSS it reports is this run's alone):
 *
 *   node --import tsx experiments/compare-rules-run.ts '{"preset":"mnist-mlp","dataset":"mnist","runDir":"runs/x"}'
 *
 * Starts from the named experiment (src/config/presets.ts), applies the overrides, trains through
 * the run loop of `sigprop run`, and prints one JSON line: status, test accuracy and seconds per
 * epoch, peak RSS. A failure is a JSON line too (status 'failed', error), exit code 1.
 */
import { resolveConfig } from '../src/config/resolve.js';
import { getPreset } from '../src/config/presets.js';
import { networkKind } from '../src/config/semantics.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { runExperiment } from '../src/runner.js';

/** What the parent asks for. Missing fields keep the preset's values. */
export interface CompareRunRequest {
  preset: string;
  dataset?: string;
  /** Hidden layer sizes (each hidden layer keeps the preset's first hidden layer's model). */
  hidden?: number[];
  epochs?: number;
  trainSize?: number;
  testSize?: number;
  steps?: number;
  backend?: string;
  threads?: number;
  seed?: number;
  runDir: string;
  /** Write report.html (default true). */
  report?: boolean;
}

/** The preset's config with the request's overrides. */
export function comparisonConfig(req: CompareRunRequest): ExperimentConfig {
  const c = getPreset(req.preset);
  if (req.dataset !== undefined) c.dataset = req.dataset;
  if (req.hidden?.length) {
    const first = c.layers[0], readout = c.layers[c.layers.length - 1];
    c.layers = [...req.hidden.map((size) => ({ ...first, size })), readout];
  }
  const set = <K extends keyof ExperimentConfig>(k: K, v: ExperimentConfig[K] | undefined) => {
    if (v !== undefined) c[k] = v;
  };
  set('epochs', req.epochs);
  set('trainSize', req.trainSize);
  set('testSize', req.testSize);
  set('steps', req.steps);
  set('backend', req.backend);
  set('threads', req.threads);
  set('seed', req.seed);
  c.name = `${req.preset}-${c.dataset}`;
  return c;
}

async function main(): Promise<number> {
  const req = JSON.parse(process.argv[2] ?? '{}') as CompareRunRequest;
  const rss = () => process.resourceUsage().maxRSS / 1024;
  try {
    const cfg = resolveConfig(comparisonConfig(req), `experiments/compare-rules.ts (${req.preset})`);
    const r = await runExperiment(cfg, { runDir: req.runDir, progress: false, log: () => {}, report: req.report ?? true });
    console.log(JSON.stringify({
      status: r.status, rule: cfg.rule, network: networkKind(cfg), steps: cfg.steps,
      sizes: ['in', ...cfg.layers.map((l) => l.size)].join('-'),
      testAccuracy: r.metrics.map((m) => m.testAccuracy), epochSeconds: r.metrics.map((m) => m.timeS),
      trainSamples: r.metrics[0]?.trainSamples, testSamples: r.metrics[0]?.testSamples,
      peakRssMiB: rss(), runDir: r.runDir,
    }));
    return r.status === 'complete' ? 0 : 1;
  } catch (err) {
    console.log(JSON.stringify({ status: 'failed', error: err instanceof Error ? err.message : String(err), peakRssMiB: rss(), runDir: req.runDir }));
    return 1;
  }
}

if (process.argv[1]?.endsWith('compare-rules-run.ts')) {
  void main().then((code) => process.stdout.write('', () => process.exit(code)));
}
