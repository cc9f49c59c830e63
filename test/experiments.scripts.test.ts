/**
 * The experiment scripts (experiments/sigprop-mnist.ts, ct-hebbian.ts, surrogate-compare.ts,
 * memory-vs-T.ts) run end to end on tiny settings: the training scripts through the run loop of
 * `sigprop run` (a run folder per run), each writing its results JSON; `--help` works and an
 * unknown flag exits 2 with a message. The benchmark's thread-scaling child runs in its quick form
 * (with the round trip of a cache line between the two cores it reports), and gpu-check.ts (the gpu
 * backend's parity cases, for a GPU machine) in gpu.js's CPU mode.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getPreset } from '../src/config/presets.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runExperiment, type RunEpochMetrics } from '../src/runner.js';

const repo = join(import.meta.dirname, '..');
const tsx = join(repo, 'node_modules', '.bin', 'tsx');
const tiny = ['--train-size', '64', '--test-size', '32', '--epochs', '1', '--hidden', '16', '--backend', 'reference', '--quiet'];

function script(name: string, args: string[], cwd: string) {
  const p = spawnSync(tsx, [join(repo, 'experiments', `${name}.ts`), ...args], { cwd, encoding: 'utf8', timeout: 60000 });
  return { code: p.status, stdout: p.stdout, stderr: p.stderr };
}

/** The run folders a script left under <cwd>/runs, each complete with its files. */
function runFolders(cwd: string): string[] {
  const dirs = readdirSync(join(cwd, 'runs'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => join(cwd, 'runs', d.name));
  for (const d of dirs) {
    for (const f of ['config.json', 'run.json', 'metrics.json', 'metrics.csv', 'checkpoint.ckpt', 'report.html']) expect(existsSync(join(d, f)), `${d}/${f}`).toBe(true);
    expect(JSON.parse(readFileSync(join(d, 'run.json'), 'utf8')).status).toBe('complete');
  }
  return dirs;
}

const temp = () => mkdtempSync(join(tmpdir(), 'sigprop-script-'));

describe('experiment scripts run through the run loop', () => {
  it('sigprop-mnist: one run folder, results JSON with per-epoch metrics and the other prediction method', () => {
    const cwd = temp();
    const r = script('sigprop-mnist', [...tiny, '--steps', '5', '--out', 'r.json'], cwd);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/final test accuracy \d+\.\d\d% \(best \d+\.\d\d%\), classSignal \d+\.\d\d%, wall \d+s, peak RSS \d+ MiB -> r\.json/);
    const dirs = runFolders(cwd);
    expect(dirs).toHaveLength(1);
    const res = JSON.parse(readFileSync(join(cwd, 'r.json'), 'utf8'));
    expect(res.command).toMatch(/^npx tsx experiments\/sigprop-mnist\.ts --train-size 64/);
    expect(res.runDir).toBe(dirs[0]);
    expect(res.config).toMatchObject({ dataset: 'mnist', rule: 'sigprop', steps: 5, trainSize: 64, testSize: 32, backend: 'reference', layers: [{ size: 16 }, { size: 10 }] });
    expect(res.epochs).toHaveLength(1);
    expect(res.epochs[0].testAccuracyAlt.method).toBe('classSignal');
    expect(res.finalTestAccuracy).toBe(res.epochs[0].testAccuracy);
    expect(res.bestTestAccuracy).toBe(res.finalTestAccuracy);
    expect(res).toMatchObject({ trainSize: 64, testSize: 32, backend: 'reference' });
    expect(res.wallS).toBeGreaterThan(0);
    expect(res.peakRssMiB).toBeGreaterThan(10);
    expect(readFileSync(join(dirs[0], 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/testAccuracyAlt,testAccuracyAltMethod/);
  }, 60000);

  it('sigprop-mnist with the mnist-lif settings gives the metrics of sigprop run mnist-lif (the same loop)', async () => {
    const cwd = temp();
    const r = script('sigprop-mnist', [
      '--surrogate', 'fastSigmoid:k=5', '--loss', 'classce', '--temperature', '0.05', '--input-dropout', '0.2', '--lr', '0.003', '--milestones', '6,8', '--gamma', '0.3',
      '--hidden', '16', '--steps', '5', '--train-size', '128', '--test-size', '40', '--epochs', '1', '--backend', 'reference', '--seed', '1', '--quiet', '--out', 'r.json',
    ], cwd);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(cwd, 'r.json'), 'utf8'));
    const preset = getPreset('mnist-lif');
    const cfg = resolveConfig({ ...preset, layers: [{ ...preset.layers[0], size: 16 }, preset.layers[1]], steps: 5, trainSize: 128, testSize: 40, epochs: 1, backend: 'reference', seed: 1, outDir: temp() });
    const cli = await runExperiment(cfg, { log: () => {}, progress: false, report: false });
    const strip = (ms: RunEpochMetrics[]) => ms.map(({ timeS: _t, testAccuracyAlt: _a, ...m }) => m);
    expect(strip(res.epochs)).toEqual(strip(cli.metrics));
  }, 60000);

  it('ct-hebbian: one run per η of the sweep', () => {
    const cwd = temp();
    const r = script('ct-hebbian', [...tiny, '--steps', '3', '--etas', '0.001,0.003', '--out', 'h.json'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/η = 0\.001: final test accuracy/);
    expect(r.stdout).toMatch(/η = 0\.003: final test accuracy/);
    const dirs = runFolders(cwd);
    expect(dirs).toHaveLength(2);
    const res = JSON.parse(readFileSync(join(cwd, 'h.json'), 'utf8'));
    expect(res.results.map((x: { eta: number }) => x.eta)).toEqual([0.001, 0.003]);
    expect(res.results.map((x: { runDir: string }) => x.runDir).sort()).toEqual(dirs.sort());
    expect(res.results[1].config.ruleParams.eta).toBe(0.003);
    expect(res.results[0].epochs).toHaveLength(1);
  }, 60000);

  it('surrogate-compare: one run per (surrogate, seed) and the table', () => {
    const cwd = temp();
    const r = script('surrogate-compare', [...tiny, '--steps', '3', '--surrogates', 'atan,erf', '--seeds', '1,2', '--out', 's.json'], cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| atan \| \d+\.\d\d ± \d+\.\d\d% \|/);
    expect(runFolders(cwd)).toHaveLength(4);
    const res = JSON.parse(readFileSync(join(cwd, 's.json'), 'utf8'));
    expect(res.runs).toHaveLength(4);
    expect(res.table.map((t: { surrogate: string }) => t.surrogate)).toEqual(['atan', 'erf']);
  }, 60000);

  it('compare-rules: each experiment on each dataset in its own process, memory against T for the spiking ones, table and page', () => {
    const cwd = temp();
    const r = script('compare-rules', ['--rules', 'mnist-mlp,mnist-lif', '--datasets', 'mnist', '--train-size', '64', '--test-size', '32', '--epochs', '2', '--hidden', '16',
      '--backend', 'reference', '--memory-steps', '3,6', '--memory-samples', '16', '--dir', 'cmp', '--quiet'], cwd);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(cwd, 'cmp', 'compare-rules.json'), 'utf8'));
    expect(res.partial).toBeUndefined();
    expect(res.runs.map((x: { preset: string; network: string; sizes: string }) => [x.preset, x.network, x.sizes])).toEqual([['mnist-mlp', 'rate', 'in-16-10'], ['mnist-lif', 'spiking', 'in-16-10']]);
    for (const run of res.runs) {
      expect(run.status).toBe('complete');
      expect(run.testAccuracy).toHaveLength(2);
      expect(run.epochSeconds).toHaveLength(2);
      expect(run.peakRssMiB).toBeGreaterThan(10);
      expect(JSON.parse(readFileSync(join(run.runDir.startsWith('/') ? '' : cwd, run.runDir, 'metrics.json'), 'utf8'))).toHaveLength(2);
    }
    expect(res.runs[0].memoryVsSteps).toBeUndefined();
    expect(res.runs[1].memoryVsSteps.map((m: { steps: number }) => m.steps)).toEqual([3, 6]);
    const md = readFileSync(join(cwd, 'cmp', 'compare-rules.md'), 'utf8');
    expect(md).toMatch(/\| mnist-lif \| in-16-10 spiking \| 2 \| \d+\.\d\d% \|/);
    expect(md).toMatch(/RSS at T = 6/);
    const html = readFileSync(join(cwd, 'cmp', 'compare-rules.html'), 'utf8');
    expect(html).toMatch(/mnist: test accuracy per epoch/);
    const bad = script('compare-rules', ['--rules', 'mnist-nope'], cwd);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--rules: "mnist-nope" is not an experiment; known experiments: .*mnist-lif/);
  }, 90000);

  it('memory-vs-T: measures each (rule, T) and writes its JSON (flags parsed by args.ts)', () => {
    const out = join(temp(), 'm.json');
    const r = script('memory-vs-T', ['--steps', '3,6', '--rules', 'sigprop', '--hidden', '8', '--batch', '4', '--batches', '1', '--backend', 'reference', '--out', out], repo);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8'));
    expect(res.rows.map((x: { steps: number }) => x.steps)).toEqual([3, 6]);
  }, 60000);

  it('bench-threads (quick): one and two wasm threads in one process, interleaved pairs, one JSON line', () => {
    const r = script('bench-threads', [JSON.stringify({ preset: 'mnist-lif', steps: 3, quick: true })], repo);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1); // bench-train.ts, imported for its trainer, runs no child of its own
    const res = JSON.parse(lines[0]);
    expect(res).toMatchObject({ preset: 'mnist-lif', steps: 3, available: true, pairs: 4 });
    expect(res.samplesPerSecond1).toBeGreaterThan(0);
    expect(res.samplesPerSecond2).toBeGreaterThan(0);
    const [q1, q2, q3] = res.speedupQuartiles;
    expect(q1).toBeLessThanOrEqual(q2);
    expect(q2).toBeLessThanOrEqual(q3);
    expect(res.speedup).toBe(q2);
    // where the host put the two cores: a cache line's round trip before and after the timed pairs
    expect(res.roundTripNs).toHaveLength(2);
    for (const ns of res.roundTripNs) {
      expect(Number.isFinite(ns)).toBe(true);
      expect(ns).toBeGreaterThan(0);
    }
  }, 60000);

  it("gpu-check (cpu mode): the browser test's gpu cases in Node, every kernel and rule against reference, one JSON line; a bad mode exits 2", () => {
    const r = script('gpu-check', ['cpu'], repo);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const res = JSON.parse(lines[0]);
    expect(res.mode).toBe('cpu');
    expect(res.ok).toBe(true);
    expect(res.report.describe).toMatch(/gpu\.js cpu/);
    expect(res.report.cases.length).toBeGreaterThanOrEqual(51);
    for (const c of res.report.cases) expect(c.ok, `${c.name}: ${c.detail}`).toBe(true);
    expect(res.report.liveAfter).toBe(res.report.liveBefore);
    expect(res.engine.map((e: { name: string }) => e.name)).toEqual(['spiking sigprop (rate encoder, adam)', 'rate sigprop (tanh, sgd)', 'dfa (rate MLP, relu, sgd)']);
    for (const e of res.engine) expect(e.relDiff).toBeLessThanOrEqual(1e-3);
    const bad = script('gpu-check', ['webgl9'], repo);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/mode "webgl9" is not one of webgpu, headlessgl, cpu/);
  }, 60000);

  it.each(['sigprop-mnist', 'ct-hebbian', 'surrogate-compare', 'memory-vs-T'])('%s: --help prints the flags; an unknown flag exits 2 with a message', (name) => {
    const cwd = temp();
    const help = script(name, ['--help'], cwd);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^npx tsx experiments/${name}\\.ts — `));
    expect(help.stdout).toMatch(/--out VALUE/);
    const bad = script(name, ['--bogus-flag', '1'], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(new RegExp(`error: unknown flag --bogus-flag for experiments/${name}\\.ts`));
    expect(bad.stderr).toMatch(/--help' for the accepted flags/);
    const notNumber = script(name, ['--batch', 'x'], cwd);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toMatch(/--batch = "x" is not a number/);
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
  }, 30000);
});
