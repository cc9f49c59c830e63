/** The README's library example is the fixture the API tests run, word for word. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  it('shows the library example that test/fixtures/readme-example.ts runs', () => {
    const readme = readFileSync('README.md', 'utf8');
    const block = /```ts\n([\s\S]*?)```/.exec(readme);
    expect(block, 'README has a ```ts block').not.toBeNull();
    const fixture = readFileSync('test/fixtures/readme-example.ts', 'utf8').replace("'../../src/index.js'", "'sigprop'");
    expect(block![1].trim()).toBe(fixture.trim());
  });

  it('gives the two set-up commands: the main job and npm test', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toMatch(/npm install && npm start/);
    expect(readme).toMatch(/^npm test/m);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.scripts.start).toBeTruthy();
    expect(pkg.scripts.test).toBe('vitest run');
  });
});
