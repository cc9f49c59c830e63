/**
 * The real program in a child process: Ctrl-C (SIGINT) finishes the batch, writes checkpoint,
 * metrics and report, exits 130; --resume then ends with the same weights as a run that was
 * never interrupted. Also: a usage error from the real binary prints no stack trace.
 *
 * Ctrl-C is also tested the way a terminal sends it (SIGINT to the whole process group) under
 * each launcher the README names: `npm start`, `npm run sigprop --` and `npx tsx src/cli/main.ts`.
 * These put npm and/or the tsx CLI between the terminal and the training process; both forward
 * the signal (so the process may see it more than once), and tsx kills a child that does not
 * acknowledge it within ~30 ms, while a training batch blocks the event loop for longer.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint } from '../src/checkpoint.js';
import { relaunch, withoutTsxPreflight } from '../src/cli/launch.js';
import { shouldRelaunch, underTsxCli } from '../src/invocation.js';
import { main } from '../src/cli/main.js';
import { resolveConfig } from '../src/config/resolve.js';
import { CtrlCGate } from '../src/interrupt.js';
import { runExperiment } from '../src/runner.js';

const repo = join(import.meta.dirname, '..');
const cliArgs = ['--import', 'tsx', join(repo, 'src/cli/main.ts')];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A run whose batches (reference backend, 512×512 hidden, 64 samples) each block the event loop for ~100-200 ms. */
const slowConfig = { name: 'slow', dataset: 'moons', trainSize: 4000, testSize: 50, layers: [{ size: 512 }, { size: 512 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 50, batchSize: 64, learningRate: 0.01, seed: 2, backend: 'reference' };

/**
 * Start `cmd args` in its own process group, wait until training is underway (run.json written,
 * then a few batches), press Ctrl-C the way a terminal does (SIGINT to the whole group) and
 * return how it ended.
 */
async function ctrlCFromTerminal(cmd: string, args: readonly string[], runDir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(cmd, args, { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  try {
    for (let i = 0; i < 400 && !existsSync(join(runDir, 'run.json')) && child.exitCode === null; i++) await sleep(50);
    await sleep(600);
    process.kill(-child.pid!, 'SIGINT');
    const end = await Promise.race([exited, sleep(30000).then(() => ({ code: null, signal: 'none: still running 30 s after Ctrl-C' }))]);
    await sleep(100); // let the pipes drain
    return { ...end, stdout, stderr };
  } finally {
    try {
      process.kill(-child.pid!, 'SIGKILL'); // nothing of the group may outlive the test
    } catch {
      // already gone
    }
  }
}

/** What a Ctrl-C must leave behind: exit 130, the message, an interrupted (resumable) run folder with checkpoint and report. */
function expectInterrupted(r: Awaited<ReturnType<typeof ctrlCFromTerminal>>, runDir: string, command: string): void {
  const output = `exit code ${r.code}, signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  // a launcher (npm) may end by the signal itself after its child exits 130; a shell's $? is 130 either way
  expect(r.code ?? (r.signal === 'SIGINT' ? 130 : r.signal), output).toBe(130);
  expect(r.stderr, output).toContain('stopping after this batch');
  const state = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
  expect(state.status, output).toBe('interrupted');
  expect(existsSync(join(runDir, 'report.html')), output).toBe(true);
  const ck = loadCheckpoint(join(runDir, 'checkpoint.ckpt'));
  expect([ck.epoch, ck.batch], output).toEqual([state.epoch, state.batch]);
  // the resume command is the one that works where the user is (npm, tsx in a checkout)
  expect(r.stdout, output).toContain(`continue with: ${command} run --resume ${runDir}`);
}
const quiet = () => ({ out() {}, err() {}, progress: false as const, handleSigint: false });

function tensorBits(path: string): Record<string, number[]> {
  const ck = loadCheckpoint(path);
  return Object.fromEntries(Object.entries(ck.tensors).map(([k, t]) => [k, Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length))]));
}

describe('sigprop as a program', () => {
  it('usage error: exit code 2, message and hint, no stack trace', () => {
    const r = spawnSync(process.execPath, [...cliArgs, 'run', '--bogus'], { cwd: repo, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('error: unknown flag --bogus');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 30000);

  it('Ctrl-C writes a checkpoint and exits 130; --resume matches an uninterrupted run bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sigint-'));
    const base = { name: 'slow', dataset: 'moons', trainSize: 2000, testSize: 50, layers: [{ size: 128 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 1000, batchSize: 8, learningRate: 0.01, seed: 2, backend: 'reference' };
    const cfgPath = join(dir, 'slow.json');
    writeFileSync(cfgPath, JSON.stringify(base));
    const runDir = join(dir, 'run');
    const child = spawn(process.execPath, [...cliArgs, 'run', cfgPath, '--run-dir', runDir], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !existsSync(join(runDir, 'run.json')); i++) await sleep(50);
    await sleep(300);
    child.kill('SIGINT');
    const code = await exited;
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('stopping after this batch');
    expect(stdout).toContain(`continue with: node --import tsx src/cli/main.ts run --resume ${runDir}`);
    const state = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8'));
    expect(state.status).toBe('interrupted');
    expect(existsSync(join(runDir, 'report.html')), stdout).toBe(true);
    const ck = loadCheckpoint(join(runDir, 'checkpoint.ckpt'));
    expect([ck.epoch, ck.batch]).toEqual([state.epoch, state.batch]);
    // finish the interrupted epoch (and one more) and compare with a never-interrupted run
    const epochs = state.epoch + 2;
    expect(await main(['run', '--resume', runDir, '--epochs', String(epochs), '--no-report'], quiet())).toBe(0);
    const ref = await runExperiment(resolveConfig({ ...base, epochs }), { runDir: join(dir, 'ref'), progress: false, log: () => {}, report: false });
    expect(tensorBits(join(runDir, 'checkpoint.ckpt'))).toEqual(tensorBits(ref.checkpointPath));
  }, 60000);

  describe('Ctrl-C from a terminal (SIGINT to the process group) under the README launchers', () => {
    it('npm start -- <flags> (the mnist-lif preset)', async () => {
      const runDir = join(mkdtempSync(join(tmpdir(), 'sigprop-sigint-npm-')), 'run');
      const r = await ctrlCFromTerminal('npm', ['start', '--', '--train-size', '4000', '--test-size', '32', '--backend', 'reference', '--set', 'layers[0].size=100', '--run-dir', runDir], runDir);
      expectInterrupted(r, runDir, 'npm run sigprop --');
    }, 60000);

    // with bash as the script shell (as where /bin/sh is bash), `bash -c` execs node, so npm's forwarded
    // SIGINT reaches the training process as well as the terminal's: one Ctrl-C, two signals
    it('npm run sigprop -- run <config>, script shell bash', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sigprop-sigint-npmrun-'));
      writeFileSync(join(dir, 'slow.json'), JSON.stringify(slowConfig));
      const runDir = join(dir, 'run');
      const r = await ctrlCFromTerminal('npm', ['run', 'sigprop', '--', 'run', join(dir, 'slow.json'), '--run-dir', runDir], runDir, { npm_config_script_shell: '/bin/bash' });
      expectInterrupted(r, runDir, 'npm run sigprop --');
    }, 60000);

    it('npx tsx src/cli/main.ts run <config>', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sigprop-sigint-tsx-'));
      writeFileSync(join(dir, 'slow.json'), JSON.stringify(slowConfig));
      const runDir = join(dir, 'run');
      const r = await ctrlCFromTerminal('npx', ['tsx', 'src/cli/main.ts', 'run', join(dir, 'slow.json'), '--run-dir', runDir], runDir);
      expectInterrupted(r, runDir, 'npx tsx src/cli/main.ts');
    }, 60000);
  });

  it('a copy of the Ctrl-C (another SIGINT a moment later, as a forwarding launcher sends) is not a second Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-sigint-twice-'));
    writeFileSync(join(dir, 'slow.json'), JSON.stringify(slowConfig));
    const runDir = join(dir, 'run');
    const child = spawn(process.execPath, [...cliArgs, 'run', join(dir, 'slow.json'), '--run-dir', runDir], { cwd: repo, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 300 && !existsSync(join(runDir, 'run.json')); i++) await sleep(50);
    await sleep(400);
    process.kill(-child.pid!, 'SIGINT'); // the terminal's
    await sleep(20);
    child.kill('SIGINT'); // the launcher's copy
    const code = await exited;
    await sleep(100);
    expectInterrupted({ code, signal: null, stdout, stderr }, runDir, 'node --import tsx src/cli/main.ts');
  }, 60000);
});

describe('CtrlCGate: one Ctrl-C arriving as several SIGINTs', () => {
  it('SIGINTs within the window are the same Ctrl-C; one after it is a second press', async () => {
    const gate = new CtrlCGate(80);
    expect(gate.press()).toBe('first');
    expect(gate.press()).toBe('same');
    expect(gate.waiting).toBe(true);
    await sleep(40);
    expect(gate.press()).toBe('same');
    let opened = false;
    gate.whenOpen(() => (opened = true));
    await sleep(120);
    expect(opened).toBe(true);
    expect(gate.waiting).toBe(false);
    expect(gate.press()).toBe('again');
  });

  it('a SIGINT that waited while the event loop was blocked past the window still counts as the same Ctrl-C', async () => {
    const gate = new CtrlCGate(50);
    const seen: string[] = [];
    const onSigint = (): void => void seen.push(gate.press());
    process.on('SIGINT', onSigint);
    try {
      process.kill(process.pid, 'SIGINT');
      for (let i = 0; i < 100 && seen.length < 1; i++) await sleep(5);
      expect(seen).toEqual(['first']);
      process.kill(process.pid, 'SIGINT'); // arrives while the loop is blocked (a training batch) ...
      const until = Date.now() + 150; // ... for longer than the window
      while (Date.now() < until);
      for (let i = 0; i < 100 && seen.length < 2; i++) await sleep(5);
      expect(seen).toEqual(['first', 'same']);
      await sleep(20);
      process.kill(process.pid, 'SIGINT'); // a real second press
      for (let i = 0; i < 100 && seen.length < 3; i++) await sleep(5);
      expect(seen).toEqual(['first', 'same', 'again']);
    } finally {
      process.off('SIGINT', onSigint);
    }
  });

  it('whenOpen runs at once when no Ctrl-C came', () => {
    let ran = false;
    new CtrlCGate().whenOpen(() => (ran = true));
    expect(ran).toBe(true);
  });
});

describe('launch: training commands leave the tsx CLI child for a plain node child', () => {
  const tsxChild = ['--require', '/r/node_modules/tsx/dist/preflight.cjs', '--import', 'file:///r/node_modules/tsx/dist/loader.mjs'];

  it('recognises the tsx CLI child by its preflight and keeps only the loader', () => {
    expect(underTsxCli(tsxChild)).toBe(true);
    expect(underTsxCli(['--import', 'tsx'])).toBe(false);
    expect(underTsxCli([])).toBe(false);
    expect(withoutTsxPreflight(tsxChild)).toEqual(['--import', 'file:///r/node_modules/tsx/dist/loader.mjs']);
    expect(withoutTsxPreflight(['--require=C:\\r\\tsx\\dist\\preflight.cjs', '--max-old-space-size=4096'])).toEqual(['--max-old-space-size=4096']);
  });

  it('relaunches run and sweep only, and only under the tsx CLI', () => {
    expect(shouldRelaunch(['run', 'quick'], tsxChild)).toBe(true);
    expect(shouldRelaunch(['sweep', 'x.json'], tsxChild)).toBe(true);
    expect(shouldRelaunch(['run', '--help'], tsxChild)).toBe(false);
    expect(shouldRelaunch(['eval', 'runs/x'], tsxChild)).toBe(false);
    expect(shouldRelaunch([], tsxChild)).toBe(false);
    expect(shouldRelaunch(['run', 'quick'], ['--import', 'tsx'])).toBe(false);
  });

  it("relaunch passes the child's exit code through", async () => {
    const argv1 = process.argv[1];
    process.argv[1] = join(tmpdir(), `sigprop-exit-${process.pid}.mjs`);
    writeFileSync(process.argv[1], 'process.exit(Number(process.argv[2]))');
    try {
      expect(await relaunch(['7'])).toBe(7);
    } finally {
      process.argv[1] = argv1;
    }
  });
});
