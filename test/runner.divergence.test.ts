/**
 * Divergence is caught from the loss, not only from NaN weights: a non-finite batch loss or one
 * more than LOSS_EXPLOSION_FACTOR times the first batch's loss stops the run with status
 * 'diverged', and the message names a command that continues from the last good checkpoint with
 * a lower learning rate (and that command works, recording the change in run.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint.js';
import { cliCommand } from '../src/invocation.js';
import { LOSS_EXPLOSION_FACTOR, lossDivergence } from '../src/learning/rule.js';
import { resumeRun, runExperiment } from '../src/runner.js';
import { blobConfig, cli, moonsConfigFile, quiet, softmaxRule, tempDir } from './runner.helpers.js';

const root = tempDir('diverge');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** 4 batches per epoch (40 samples, batch 10): step 9 is epoch 3, batch 1. */
const fromStep = (n: number, value: (step: number, loss: number) => number) => softmaxRule((step, loss) => (step >= n ? value(step, loss) : loss));

describe('loss divergence', () => {
  it('lossDivergence: non-finite or above factor x max(1, |first loss|), nothing else', () => {
    expect(LOSS_EXPLOSION_FACTOR).toBe(1e4);
    expect(lossDivergence(NaN, 2)).toBe('is NaN');
    expect(lossDivergence(Infinity, 2)).toBe('is Infinity');
    expect(lossDivergence(-Infinity, undefined)).toBe('is -Infinity');
    expect(lossDivergence(2.1e4, 2)).toMatch(/^is 2\.10e\+4 \(more than 10000 × the first batch's loss, 2\.00\)$/);
    expect(lossDivergence(1.9e4, 2)).toBeUndefined();
    expect(lossDivergence(9e3, 0.01)).toBeUndefined(); // the reference is floored at 1
    expect(lossDivergence(1.1e4, 0.01)).toBeDefined();
    expect(lossDivergence(-3e5, 2)).toBeDefined();
    expect(lossDivergence(1e6, undefined)).toBeUndefined(); // no reference yet
    expect(lossDivergence(50, 2, 10)).toBeDefined();
  });

  it('an exploding loss (x1000 per batch) stops the run: diverged, last good checkpoint kept, the advice is a command', async () => {
    const dir = join(root, 'explode');
    const cfg = blobConfig({ epochs: 5 });
    const rule = fromStep(9, (step, loss) => loss * 1e3 ** (step - 8));
    const err = await runExperiment(cfg, quiet({ runDir: dir, createRule: rule })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^training diverged: the train loss is \S+ \(more than 10000 × the first batch's loss, \S+\) at epoch 3, batch \d of 4 \(step \d+\) \(learning rate 0\.1\)/);
    expect(msg).toContain(`lower the learning rate and continue from the last good checkpoint (epoch 2): ${cliCommand()} run --resume ${dir} --learning-rate 0.01`);
    const st = readJson(join(dir, 'run.json'));
    expect(st.status).toBe('diverged');
    expect(st.error).toBe(msg);
    expect(loadCheckpoint(join(dir, 'checkpoint.ckpt')).epoch).toBe(2);
    expect(readJson(join(dir, 'metrics.json'))).toHaveLength(2);
  });

  it('the suggested resume with a lower learning rate works and is recorded in config.json and run.json', async () => {
    const dir = join(root, 'explode-resume');
    const cfg = blobConfig({ epochs: 5 });
    // the loss explodes while the learning rate is above 0.05 (as a too-high rate would)
    const rule = softmaxRule((step, loss, lr) => (lr > 0.05 && step >= 9 ? loss * 1e3 ** (step - 8) : loss));
    await expect(runExperiment(cfg, quiet({ runDir: dir, createRule: rule }))).rejects.toThrow(/--learning-rate 0\.01/);
    const r = await resumeRun(dir, quiet({ createRule: rule, learningRate: 0.01 }));
    expect(r.status).toBe('complete');
    expect(r.metrics).toHaveLength(5);
    expect(readJson(join(dir, 'config.json')).learningRate).toBe(0.01);
    const st = readJson(join(dir, 'run.json'));
    expect(st.status).toBe('complete');
    expect(st.configChanges).toEqual([{ at: expect.any(String), epoch: 2, batch: 0, setting: 'learningRate', from: 0.1, to: 0.01 }]);
    expect(r.metrics.map((m) => m.learningRate)).toEqual([0.1, 0.1, 0.01, 0.01, 0.01]);
  });

  it('a train loss of Infinity is divergence (it used to reach metrics.json as null)', async () => {
    const dir = join(root, 'inf');
    const err = await runExperiment(blobConfig(), quiet({ runDir: dir, createRule: fromStep(6, () => Infinity) })).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^training diverged: the train loss is Infinity at epoch 2, batch 2 of 4 \(step 6\)/);
    expect(readJson(join(dir, 'run.json')).status).toBe('diverged');
    expect(readJson(join(dir, 'metrics.json'))).toEqual([expect.objectContaining({ epoch: 1 })]);
  });

  it('a NaN loss from the first batch is divergence, and the advice is not the learning rate', async () => {
    const dir = join(root, 'nan');
    const err = await runExperiment(blobConfig(), quiet({ runDir: dir, createRule: fromStep(1, () => NaN) })).catch((e: Error) => e);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^training diverged: the train loss is NaN at epoch 1, batch 1 of 4 \(step 1\)/);
    expect(msg).toMatch(/the learning rate is not the cause: check that the last layer has as many units as the dataset has classes/);
    expect(readJson(join(dir, 'run.json')).status).toBe('diverged');
  });

  it('NaN weights reported by a rule get the resume command too', async () => {
    const dir = join(root, 'nan-weights');
    const { DivergenceError } = await import('../src/learning/rule.js');
    const inner = softmaxRule();
    let n = 0;
    const rule: typeof inner = (c, ctx) => {
      const r = inner(c, ctx);
      const train = r.trainBatch.bind(r);
      r.trainBatch = (x, l) => {
        if (++n === 7) throw new DivergenceError('layer0', n, 0.1);
        return train(x, l);
      };
      return r;
    };
    const err = await runExperiment(blobConfig(), quiet({ runDir: dir, createRule: rule })).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^training diverged: layer0 has NaN or infinite weights at epoch 2, batch 3 of 4 \(step 7\)/);
    expect((err as Error).message).toContain(`continue from the last good checkpoint (epoch 1): ${cliCommand()} run --resume ${dir} --learning-rate 0.01`);
  });

  it('a real rule with a far too high learning rate diverges through the CLI, and the command it names completes the run', async () => {
    const cfgPath = moonsConfigFile(root, { optimizer: 'sgd', learningRate: 100, epochs: 2 });
    const dir = join(root, 'cli-diverge');
    const r = await cli('run', cfgPath, '--run-dir', dir, '-q');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: training diverged: the train loss is /);
    expect(readJson(join(dir, 'run.json')).status).toBe('diverged');
    const command = /sigprop run (--resume .*)$/m.exec(r.err)?.[1];
    expect(command).toBeDefined();
    const again = await cli('run', ...command!.split(' '), '-q');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/^run complete: /);
    expect(readJson(join(dir, 'run.json'))).toMatchObject({ status: 'complete', configChanges: [{ setting: 'learningRate', from: 100, to: 10 }] });
  });

  it('normal runs are not flagged: the moons preset-like config and a plain softmax run complete', async () => {
    const r = await cli('run', moonsConfigFile(root, { epochs: 3 }), '--run-dir', join(root, 'normal'), '-q');
    expect(r.code).toBe(0);
    expect((await runExperiment(blobConfig({ epochs: 6 }), quiet({ runDir: join(root, 'normal-softmax') }))).status).toBe('complete');
  });

  it('--resume accepts only --epochs, --learning-rate and --set ruleParams.eta', async () => {
    const dir = join(root, 'resume-flags');
    expect((await cli('run', moonsConfigFile(root), '--run-dir', dir, '-q')).code).toBe(0);
    const bad = await cli('run', '--resume', dir, '--set', 'layers[0].size=3');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('only --epochs, --learning-rate and --set ruleParams.eta=X may change (got --set layers)');
    const eta = await cli('run', '--resume', dir, '--set', 'ruleParams.eta=0.002', '--epochs', '3', '-q');
    expect(eta.code).toBe(0);
    expect(readJson(join(dir, 'run.json')).configChanges.map((c: { setting: string }) => c.setting)).toEqual(['epochs', 'ruleParams.eta']);
  });
});
