/**
 * `sigprop serve` on the command line: --help describes it; a real process prints its URL,
 * serves the page and stops on Ctrl-C (SIGINT) with exit code 0.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli } from './cli.helpers.js';

describe('sigprop serve (CLI)', () => {
  it('--help describes the command, its flags and that it binds to 127.0.0.1', async () => {
    const r = await cli('serve', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sigprop serve — a local web page that trains a spiking network live in the browser/);
    expect(r.out).toContain('127.0.0.1');
    expect(r.out).toMatch(/--port N +TCP port to listen on \(default: a free port\)/);
    expect(r.out).toContain('--mnist-train N');
    expect(r.out).toContain('--mnist-test N');
    expect(r.out).toContain('Ctrl-C stops the server');
    expect((await cli('--help')).out).toMatch(/serve +a local web page that trains a spiking network live in the browser/);
  });

  it('rejects a bad --port', async () => {
    const r = await cli('serve', '--port', '70000');
    expect(r.code).toBe(2);
    expect(r.err).toContain('--port = 70000 must be an integer from 1 to 65535');
  });

  it('prints its URL, serves the page, and stops on SIGINT with exit code 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--mnist-train', '10', '--mnist-test', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 30 s; stderr: ${err}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${err}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>sigprop');
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
    expect(err).toContain('press Ctrl-C to stop');
    expect(err).toContain('sigprop serve: stopped');
  });
});
