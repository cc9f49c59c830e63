/**
 * What a run reports: every accuracy says on how many samples it was measured (epoch lines,
 * the final result line, metrics.json/csv, report.html), and a report that could not be written
 * is said on stderr and in run.json whatever the verbosity.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../src/runner.js';
import { blobConfig, cli, moonsConfigFile, quiet, tempDir } from './runner.helpers.js';

const root = tempDir('report');
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('sample counts next to every accuracy', () => {
  it('epoch lines, metrics.json and metrics.csv carry the train and test sample counts', async () => {
    const lines: string[] = [];
    const dir = join(root, 'counts');
    const r = await runExperiment(blobConfig({ epochs: 2 }), quiet({ runDir: dir, log: (l) => lines.push(l) }));
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^epoch \d\/2: train loss \S+, train acc \d+\.\d\d% on 40 samples, test acc \d+\.\d\d% on 12 samples \(\d+\.\d s\)$/);
    expect(r.metrics.map((m) => [m.trainSamples, m.testSamples])).toEqual([[40, 12], [40, 12]]);
    expect(readJson(join(dir, 'metrics.json'))[1]).toMatchObject({ trainSamples: 40, testSamples: 12 });
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    const cols = csv[0].split(',');
    expect(csv[1].split(',')[cols.indexOf('testSamples')]).toBe('12');
    expect(csv[1].split(',')[cols.indexOf('trainSamples')]).toBe('40');
  });

  it('the CLI result line and the run report name the number of test samples', async () => {
    const dir = join(root, 'cli-counts');
    const r = await cli('run', moonsConfigFile(root, { testSize: 24 }), '--run-dir', dir, '-q');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^run complete: .*cli-counts, test accuracy \d+\.\d\d% on 24 samples\nreport: .*report\.html\n$/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/final test accuracy<\/t[dh]>\s*<td>\d+\.\d\d % on 24 samples \(epoch 2\)/);
    expect(html).toContain('test samples');
    expect(html).toContain('Accuracy per epoch (test: 24 samples, train: 64)');
  });
});

describe('a report that cannot be written', () => {
  const blockReport = (dir: string) => {
    mkdirSync(join(dir, 'report.html'), { recursive: true }); // a folder where the report belongs: the write fails
    writeFileSync(join(dir, 'report.html', 'keep'), 'x');
  };

  it('with -q the CLI still says so on stderr, and run.json records it', async () => {
    const dir = join(root, 'no-report-quiet');
    blockReport(dir);
    const r = await cli('run', moonsConfigFile(root), '--run-dir', dir, '-q');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^warning: report not written: .*report\.html/);
    expect(r.out).toMatch(/\nreport: not written \(.+\)\n$/);
    const st = readJson(join(dir, 'run.json'));
    expect(st.status).toBe('complete');
    expect(st.reportError).toMatch(/report\.html/);
  });

  it('without -q the warning goes to stderr once, not to stdout', async () => {
    const dir = join(root, 'no-report-verbose');
    blockReport(dir);
    const r = await cli('run', moonsConfigFile(root), '--run-dir', dir);
    expect(r.code).toBe(0);
    expect(r.err.match(/report not written/g)).toHaveLength(1);
    expect(r.out).not.toContain('warning: report not written');
  });

  it('library callers get reportError in the result and the warn callback', async () => {
    const dir = join(root, 'no-report-lib');
    blockReport(dir);
    const warnings: string[] = [];
    const r = await runExperiment(blobConfig({ epochs: 1 }), quiet({ runDir: dir, report: true, warn: (l) => warnings.push(l) }));
    expect(r.status).toBe('complete');
    expect(r.reportPath).toBeUndefined();
    expect(r.reportError).toMatch(/report\.html/);
    expect(warnings).toEqual([`report not written: ${r.reportError}`]);
  });
});
