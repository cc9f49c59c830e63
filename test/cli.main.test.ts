import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerCommand, commandNames } from '../src/cli/main.js';
import { parseArgs, prepareSpec, splitListArg, UsageError } from '../src/cli/args.js';
import { captureIO as io, cli } from './cli.helpers.js';
import { setPath } from '../src/cli/run-config.js';



const dir = mkdtempSync(join(tmpdir(), 'sigprop-cli-'));
const tiny = { name: 'tiny', dataset: 'moons', trainSize: 64, testSize: 32, layers: [{ size: 8 }, { size: 2 }], rule: 'sigprop', mode: 'rate', epochs: 2, batchSize: 16, learningRate: 0.01, backend: 'reference', outDir: join(dir, 'runs') };
const tinyPath = join(dir, 'tiny.json');
writeFileSync(tinyPath, JSON.stringify(tiny));

describe('sigprop CLI: usage errors', () => {
  it('unknown command: exit 2, did-you-mean, no stack trace', async () => {
    const r = await cli('rn');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown command 'rn' (did you mean 'run'?)");
    expect(r.err).toContain('hint:');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('unknown flag: exit 2 with a hint', async () => {
    const r = await cli('run', tinyPath, '--epoch', '3');
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown flag --epoch');
    expect(r.err).toContain('did you mean --epochs?');
    expect(r.err).toContain("sigprop run --help");
    const s = await cli('sweep', tinyPath, '--seed', '1,2');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/--seeds/);
  });

  it('bad flag values and missing arguments are usage errors', async () => {
    expect((await cli('eval')).code).toBe(2);
    expect((await cli('surrogates', '--points', 'many')).err).toContain('--points = "many" is not a number');
    expect((await cli('sweep', tinyPath, '--shard', '0/4')).err).toContain('numbered from 1');
    expect((await cli('run', tinyPath, 'extra')).code).toBe(2);
  });

  it('no arguments prints the command list (exit 2); --help exits 0', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    for (const c of ['run', 'eval', 'traces', 'surrogates', 'bench', 'sweep']) expect(r.out).toContain(c);
    expect((await cli('--help')).code).toBe(0);
    expect((await cli('--version')).out).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('--help on every command shows usage, units and defaults', async () => {
    for (const c of commandNames()) {
      const r = await cli(c, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`sigprop ${c}`);
      expect(r.out).toContain('Usage:');
    }
    const run = (await cli('run', '--help')).out;
    expect(run).toMatch(/--dt-ms N\s+simulation time step; a number > 0 and <= 1000 \(ms\) \[default: 1\]/);
    expect(run).toContain('--no-report');
    expect((await cli('help', 'sweep')).out).toContain('--shard i/n');
    expect((await cli('surrogates', '--help')).out).toMatch(/--x-min N.*unit: voltage units/s);
  });

  it('internal errors print one line without stack unless --debug', async () => {
    registerCommand({ command: 'explode', summary: 'test', usage: 'x', positionals: [], flags: [], run: async () => { throw new TypeError('kaboom'); } });
    const r = await cli('explode');
    expect(r.code).toBe(1);
    expect(r.err).toContain('internal error: kaboom');
    expect(r.err).not.toMatch(/\n\s+at /);
    const d = await cli('explode', '--debug');
    expect(d.err).toMatch(/\n\s+at /);
  });
});

describe('sigprop CLI: config errors', () => {
  it('config validation errors exit 1 and name field, value and allowed values', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...tiny, batchsize: 8, layers: [{ size: 0 }] }));
    const r = await cli('run', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('batchsize is not a known field (did you mean "batchSize"?)');
    expect(r.err).toContain('layers[0].size = 0 is too small');
    expect(r.err).not.toMatch(/\n\s+at /);
    expect((await cli('run', tinyPath, '--learning-rate', '-1')).err).toMatch(/learningRate = -1 is too small; learningRate must be a number > 0/);
    expect((await cli('run', 'nonexistent-experiment')).err).toMatch(/not a config file, a named experiment or an experiment script/);
  });

  it('--dry-run prints the resolved config with overrides and --set applied', async () => {
    const r = await cli('run', tinyPath, '--dry-run', '--epochs', '7', '--set', 'layers[0].size=12', '--set', 'ruleParams.theta=2');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(r.out);
    expect(cfg.epochs).toBe(7);
    expect(cfg.layers[0].size).toBe(12);
    expect(cfg.ruleParams).toEqual({ theta: 2 });
    expect(cfg.steps).toBe(25); // default filled
  });
});

describe('sigprop CLI: run, eval, resume, surrogates', () => {
  it('run writes a complete run folder; eval reproduces the accuracy', async () => {
    const runDir = join(dir, 'r1');
    const r = await cli('run', tinyPath, '--run-dir', runDir, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/run complete: .*r1, test accuracy \d+\.\d\d%/);
    for (const f of ['config.json', 'run.json', 'metrics.json', 'metrics.csv', 'checkpoint.ckpt', 'report.html']) expect(existsSync(join(runDir, f))).toBe(true);
    expect(readdirSync(runDir).some((f) => f.endsWith('.tmp'))).toBe(false);
    const saved = JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8'));
    expect(saved.optimizer).toBe('adam'); // defaults filled in the saved config
    const metrics = JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8'));
    const ev = await cli('eval', runDir, '--json');
    expect(ev.code).toBe(0);
    expect(JSON.parse(ev.out).accuracy).toBe(metrics.at(-1).testAccuracy);
    // a second run into the same folder is refused
    const again = await cli('run', tinyPath, '--run-dir', runDir, '--quiet');
    expect(again.code).toBe(1);
    expect(again.err).toContain('already holds a run');
    // resume may extend training
    const more = await cli('run', '--resume', runDir, '--epochs', '3', '--quiet');
    expect(more.code).toBe(0);
    expect(JSON.parse(readFileSync(join(runDir, 'metrics.json'), 'utf8'))).toHaveLength(3);
    expect((await cli('run', '--resume', runDir, '--seed', '4')).code).toBe(2);
  });

  it('eval refuses a corrupt checkpoint with a clear message', async () => {
    const runDir = join(dir, 'r2');
    await cli('run', tinyPath, '--run-dir', runDir, '--quiet', '--no-report');
    const ck = join(runDir, 'checkpoint.ckpt');
    const bytes = readFileSync(ck);
    bytes[bytes.length - 50] ^= 0xff;
    writeFileSync(ck, bytes);
    const r = await cli('eval', runDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/checkpoint\.ckpt is corrupt: its SHA-256 checksum does not match/);
    writeFileSync(join(dir, 'foreign.ckpt'), 'PK\u0003\u0004 not ours');
    expect((await cli('eval', join(dir, 'foreign.ckpt'))).err).toContain('is not a sigprop checkpoint');
  });

  it('traces writes the voltage-trace report of a spiking run; rate runs are refused clearly', async () => {
    const spk = join(dir, 'spk.json');
    writeFileSync(spk, JSON.stringify({ ...tiny, name: 'spk', mode: 'spiking', steps: 8, epochs: 1, layers: [{ size: 6, model: 'lif' }, { size: 2, model: 'lif' }] }));
    const runDir = join(dir, 'spk-run');
    expect((await cli('run', spk, '--run-dir', runDir, '--quiet', '--no-report')).code).toBe(0);
    const out = join(dir, 'tr', 'traces.html');
    const r = await cli('traces', runDir, '--samples', '0,2', '--neurons', '0,1', '-o', out);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`traces report: ${out}`);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('before training');
    expect(html).toContain('after training');
    expect(existsSync(join(dir, 'tr', 'traces.after.csv'))).toBe(true);
    // help lists the default-on flag as --no-before, and --no-before leaves out the untrained traces
    expect((await cli('traces', '--help')).out).toMatch(/--no-before\s+leave out the untrained \(before training\) traces/);
    const afterOnly = join(dir, 'tr', 'after-only.html');
    expect((await cli('traces', runDir, '--samples', '0', '--no-before', '-o', afterOnly)).code).toBe(0);
    const afterHtml = readFileSync(afterOnly, 'utf8');
    expect(afterHtml).toContain('after training');
    expect(afterHtml).not.toContain('before training');
    expect((await cli('traces', runDir, '--samples', '-1')).code).toBe(2);
    const rate = await cli('traces', join(dir, 'r1'));
    expect(rate.code).toBe(1);
    expect(rate.err).toMatch(/mode = 'rate'/);
  });

  it('bench passes unknown flags through to the script', () => {
    const spec = { command: 'bench', positionals: [{ name: 'args', description: '', variadic: true }], flags: [], passthrough: true };
    expect(parseArgs(['--quick', '--reps', '3'], spec).positionals).toEqual(['--quick', '--reps', '3']);
  });

  it('surrogates lists families and --compare writes JSON and HTML', async () => {
    const list = await cli('surrogates');
    expect(list.code).toBe(0);
    expect(list.out).toContain('fastSigmoid');
    expect(list.out).toContain('atan');
    const out = join(dir, 'sg');
    const r = await cli('surrogates', '--compare', '--names', 'atan:alpha=2,fastSigmoid', '--points', '21', '-o', out);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'surrogates.json'), 'utf8'));
    expect(json.x).toHaveLength(21);
    expect(json.surrogates).toHaveLength(2);
    expect(readFileSync(join(out, 'surrogates.html'), 'utf8')).toContain('<html');
    expect((await cli('surrogates', '--compare', '--names', 'nosuch', '-o', out)).code).toBe(1);
    // a spec with several parameters in a comma list stays one spec
    const multi = await cli('surrogates', '--compare', '--names', 'spikeRateEscape:beta=2,k=3,atan', '--points', '11', '-o', out);
    expect(multi.code, multi.err).toBe(0);
    const multiJson = JSON.parse(readFileSync(join(out, 'surrogates.json'), 'utf8'));
    expect(multiJson.surrogates).toHaveLength(2);
    expect(JSON.stringify(multiJson.surrogates[0])).toMatch(/"beta":2.*"k":3|"k":3.*"beta":2/);
  });
});

describe('list flags (splitListArg)', () => {
  it('splits on the commas that start a new item', () => {
    expect(splitListArg('0,1, 2,,')).toEqual(['0', '1', '2']);
    expect(splitListArg('atan:alpha=2,fastSigmoid')).toEqual(['atan:alpha=2', 'fastSigmoid']);
    expect(splitListArg('fastSigmoid:k=25,atan:alpha=2')).toEqual(['fastSigmoid:k=25', 'atan:alpha=2']);
    expect(splitListArg('spikeRateEscape:beta=2,k=3,atan')).toEqual(['spikeRateEscape:beta=2,k=3', 'atan']);
    expect(splitListArg('spikeRateEscape:beta=2;k=3,atan:alpha=3')).toEqual(['spikeRateEscape:beta=2;k=3', 'atan:alpha=3']);
    expect(splitListArg('custom:f=max(0,1-abs(x)),k=2,atan')).toEqual(['custom:f=max(0,1-abs(x)),k=2', 'atan']);
  });
  it('keeps --set settings apart, and bracketed values whole', () => {
    expect(splitListArg('a=1,b=2')).toEqual(['a=1', 'b=2']);
    expect(splitListArg('surrogate=atan:alpha=2,steps=10')).toEqual(['surrogate=atan:alpha=2', 'steps=10']);
    expect(splitListArg('record.neurons=[0,1,2],layers[0].size=5')).toEqual(['record.neurons=[0,1,2]', 'layers[0].size=5']);
  });
  it('parseArgs uses it for list flags and their defaults', () => {
    const spec = { command: 't', positionals: [], flags: [{ name: 'names', type: 'list' as const, description: '', default: 'sigmoid:k=2,alpha=1' }] };
    expect(parseArgs(['--names', 'spikeRateEscape:beta=2,k=3,atan'], spec).flags.names).toEqual(['spikeRateEscape:beta=2,k=3', 'atan']);
    expect(parseArgs([], spec).flags.names).toEqual(['sigmoid:k=2,alpha=1']);
  });
});

describe('argument parser', () => {
  const spec = { command: 't', positionals: [{ name: 'a', description: '' }], flags: [{ name: 'n', type: 'number' as const, description: '', default: 3 }, { name: 'l', type: 'list' as const, description: '' }, { name: 'b', type: 'boolean' as const, description: '', default: true }], configFlags: true };
  it('parses forms and defaults', async () => {
    await prepareSpec(spec); // loads the config-override flags (main() does this before parsing)
    const p = parseArgs(['x', '--n=5', '--l', 'a,b', '--l', 'c', '--no-b', '--learningRate', '0.1', '--batch-size', '8'], spec);
    expect(p.positionals).toEqual(['x']);
    expect(p.flags).toMatchObject({ n: 5, l: ['a', 'b', 'c'], b: false });
    expect(p.overrides).toEqual({ learningRate: '0.1', batchSize: '8' });
    expect(parseArgs([], spec).flags.n).toBe(3);
    expect(parseArgs(['--', '--n'], spec).positionals).toEqual(['--n']);
    expect(() => parseArgs(['--n'], spec)).toThrow(UsageError);
  });
  it('setPath sets nested fields', () => {
    const o: Record<string, unknown> = { layers: [{ size: 1 }] };
    setPath(o, 'layers[1].model=lif');
    setPath(o, 'record.neurons=[1,2]');
    expect(o).toEqual({ layers: [{ size: 1 }, { model: 'lif' }], record: { neurons: [1, 2] } });
    expect(() => setPath(o, 'noequals')).toThrow(/field.path=value/);
  });
});
