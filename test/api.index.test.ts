/**
 * The public API from the source tree (fast; test/api.pack.test.ts checks the packed package):
 * every documented entry point is exported, and the README example runs as written.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as api from '../src/index.js';

const repo = join(import.meta.dirname, '..');

describe('src/index.ts', () => {
  it('exports the documented entry points', () => {
    const names = [
      // foundation
      'Rng', 'SigpropError', 'ParameterError', 'createBackend', 'registerBackend', 'ReferenceBackend', 'writeFileAtomic',
      // models, surrogates, engine, encoders, recorder
      'getModel', 'registerModel', 'modelNames', 'getSurrogate', 'surrogateNames', 'listSurrogates', 'Network', 'createEncoder', 'Recorder',
      // data, learning
      'loadDataset', 'registerDataset', 'datasetNames', 'batches', 'createRule', 'registerRule', 'ruleNames',
      // config, checkpoints, run loop, progress, reports
      'resolveConfig', 'loadConfig', 'ConfigError', 'experimentSchema', 'getPreset', 'saveCheckpoint', 'loadCheckpoint', 'CheckpointError',
      'runExperiment', 'resumeRun', 'evaluateCheckpoint', 'createProgress', 'writeRunReport', 'writeTracesReport',
      // interop (NIR)
      'readNir', 'describeNir', 'NirError', 'simulateNir', 'planNir', 'writeNir', 'exportRunToNir', 'importNirRun',
    ];
    const missing = names.filter((n) => !(n in api));
    expect(missing).toEqual([]);
    for (const n of names) expect(typeof (api as Record<string, unknown>)[n], n).toMatch(/function|object/);
    expect(api.ruleNames()).toContain('sigprop');
    expect(api.modelNames()).toContain('lif');
  });

  it('the README example (test/fixtures/readme-example.ts) runs as written', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'sigprop-readme-'));
    const example = join(repo, 'test', 'fixtures', 'readme-example.ts');
    expect(readFileSync(example, 'utf8').split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(20);
    const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(repo, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href, example], { cwd, encoding: 'utf8', timeout: 60000 });
    expect(r.status, r.stderr).toBe(0);
    const acc = /test accuracy (\d+\.\d)% -> (.*report\.html)/.exec(r.stdout);
    expect(acc, r.stdout).not.toBeNull();
    expect(Number(acc![1])).toBeGreaterThan(60); // moons is easy
    expect(existsSync(acc![2])).toBe(true);
    expect(r.stdout).toMatch(/traces: .*traces\.html/);
    expect(r.stdout).toContain("f'(0) = 1");
  }, 60000);
});
