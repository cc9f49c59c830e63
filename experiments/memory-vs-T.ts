/**
 * Time and memory against the number of time steps T for online spiking sigprop versus BPTT on
 * the same network (784-1000-10 LIF β = 0.95, rate-coded MNIST, batch 64).
 *
 *   npx tsx experiments/memory-vs-T.ts                       # T = 25, 100, 400; both rules
 *   npx tsx experiments/memory-vs-T.ts --steps 25,100 --batches 2
 *
 * Each (rule, T) runs in its own child process so that its peak resident memory (maxRSS) is its
 * own. Reported per run: seconds per training batch, peak RSS (MiB), the wasm memory reserved
 * (MiB, when the backend is wasm) and the bytes of work tensors the rule holds (grows with T for
 * BPTT, constant for sigprop). Writes runs/memory-vs-T-<time>.json.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../src/backend/registry.js';
import type { ExperimentConfig } from '../src/config/types.js';
import { batches, loadDataset } from '../src/data/index.js';
import { writeJsonAtomic } from '../src/io.js';
import { createRule } from '../src/learning/index.js';
import { exitWith, runScriptMain, type ScriptFlags } from '../src/cli/script-flags.js';
import { Rng } from '../src/rng.js';

const spec = {
  script: 'memory-vs-T',
  summary: 'time and peak memory of spiking sigprop (online, eligibility traces) vs BPTT for several T',
  flags: {
    steps: ['25,100,400', 'values of T, comma-separated'],
    rules: ['sigprop,bptt', 'rules to compare, comma-separated'],
    hidden: [1000, 'hidden layer size'],
    batch: [64, 'batch size'],
    batches: [3, 'timed training batches per run (after one warm-up batch)'],
    eligibility: ['trace', "sigprop eligibility: 'trace' or 'instant'"],
    loss: ['classce', 'sigprop local loss'],
    backend: ['auto', 'backend'],
    seed: [1, 'random seed'],
    child: ['', '(internal) run one rule:T pair and print one JSON line'],
    out: ['', 'results JSON path (default runs/memory-vs-T-<time>.json)'],
  },
} as const;
type Flags = ScriptFlags<typeof spec.flags>;

interface Row {
  rule: string; steps: number; secondsPerBatch: number; peakRssMiB: number; wasmMiB: number | null; workMiB: number; trainAccuracyLast: number;
}

async function child(f: Flags, rule: string, T: number): Promise<Row> {
  const ds = loadDataset('mnist', { trainSize: f.batch * (f.batches + 1), testSize: 10, seed: f.seed });
  const backend = await createBackend(f.backend);
  const config: ExperimentConfig = {
    dataset: 'mnist', rule: rule as 'sigprop', mode: 'spiking', steps: T, eligibility: f.eligibility as 'trace', loss: f.loss as 'classce',
    layers: [{ size: f.hidden, model: 'lif', params: { beta: 0.95 } }, { size: 10 }], learningRate: 0.003, seed: f.seed,
  };
  const r = createRule(config, { backend, rng: new Rng(f.seed), inputSize: ds.inputSize, numClasses: ds.numClasses }) as ReturnType<typeof createRule> & { workBytes(): number };
  let n = 0, t0 = 0, acc = 0;
  for (const b of batches(ds.train, f.batch, new Rng(f.seed))) {
    if (n === 1) t0 = performance.now();
    acc = r.trainBatch(b.x, b.labels).accuracy ?? 0;
    n++;
  }
  const heap = (backend as { heap?: { capacityBytes: number } }).heap;
  return {
    rule, steps: T, secondsPerBatch: (performance.now() - t0) / 1000 / (n - 1),
    peakRssMiB: process.resourceUsage().maxRSS / 1024, wasmMiB: heap ? heap.capacityBytes / 2 ** 20 : null,
    workMiB: r.workBytes() / 2 ** 20, trainAccuracyLast: acc,
  };
}

exitWith(runScriptMain(process.argv.slice(2), spec, async (f) => {
  if (f.child) {
    const [rule, T] = String(f.child).split(':');
    console.log(JSON.stringify(await child(f, rule, Number(T))));
    return 0;
  }

  const rows: Row[] = [];
  const started = new Date().toISOString();
  const out = f.out || `runs/memory-vs-T-${started.replace(/[:.]/g, '-')}.json`;
  const self = fileURLToPath(import.meta.url);
  const passthrough = ['hidden', 'batch', 'batches', 'eligibility', 'loss', 'backend', 'seed'].flatMap((k) => [`--${k}`, String(f[k as keyof typeof f])]);
  for (const T of String(f.steps).split(',').map(Number)) {
    for (const rule of String(f.rules).split(',')) {
      const t = Date.now();
      const p = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', `${rule}:${T}`, ...passthrough], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const line = p.stdout.trim().split('\n').pop() ?? '';
      if (p.status !== 0 || !line.startsWith('{')) {
        console.error(`${rule} T=${T} failed (exit ${p.status}):\n${p.stderr.slice(-2000)}`);
        continue;
      }
      const row = JSON.parse(line) as Row;
      rows.push(row);
      console.log(`${rule.padEnd(8)} T=${String(T).padStart(4)}  ${row.secondsPerBatch.toFixed(2)} s/batch  peak RSS ${row.peakRssMiB.toFixed(0)} MiB  ` +
        `wasm ${row.wasmMiB?.toFixed(0) ?? '-'} MiB  rule work tensors ${row.workMiB.toFixed(1)} MiB  (${((Date.now() - t) / 1000).toFixed(0)}s)`);
      writeJsonAtomic(out, { command: `npx tsx experiments/memory-vs-T.ts ${process.argv.slice(2).join(' ')}`, started, rows });
    }
  }
  for (const rule of String(f.rules).split(',')) {
    const r = rows.filter((x) => x.rule === rule).sort((a, b) => a.steps - b.steps);
    if (r.length >= 2) {
      const a = r[0], b = r[r.length - 1];
      console.log(`${rule}: peak RSS T=${b.steps} / T=${a.steps} = ${(b.peakRssMiB / a.peakRssMiB).toFixed(3)}; time ratio ${(b.secondsPerBatch / a.secondsPerBatch).toFixed(1)}x`);
    }
  }
  console.log(`-> ${out}`);
  return 0;
}));
