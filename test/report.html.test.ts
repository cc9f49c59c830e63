import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SigpropError } from '../src/errors.js';
import { escapeHtml, jsonForScript, pageFigures, plotlySource, plotlyVersion, renderPage } from '../src/report/page.js';
import { buildRunReport, writeRunReport } from '../src/report/run.js';
import { configTable, flattenConfig, metricFigures } from '../src/report/metrics.js';
import { makeRunData } from './report.fixtures.js';

/** The page without the embedded plotly bundle (that bundle carries URL strings for map tiles it never loads here). */
function ownMarkup(html: string): string {
  const src = plotlySource();
  const i = html.indexOf(src);
  expect(i).toBeGreaterThan(0);
  return html.slice(0, i) + html.slice(i + src.length);
}

describe('JSON embedding', () => {
  it("escapes '</script>' and '<!--' and round-trips through JSON.parse", () => {
    const value = { a: '</script><script>alert(1)</script>', b: '<!-- x -->', c: 'a\u2028b', d: [1.5, -2] };
    const text = jsonForScript(value);
    expect(text).not.toMatch(/<\/script/i);
    expect(text).not.toContain('<!--');
    expect(text).not.toContain('\u2028');
    expect(JSON.parse(text)).toEqual(value);
  });
  it('writes typed arrays as lists', () => {
    expect(JSON.parse(jsonForScript({ v: new Float32Array([0.5, 1]) }))).toEqual({ v: [0.5, 1] });
  });
  it('escapeHtml escapes markup characters', () => {
    expect(escapeHtml(`<b a="1">'&'</b>`)).toBe('&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;');
  });
});

describe('run report page', () => {
  const data = makeRunData();
  data.config = { ...data.config, name: 'evil </script><script>window.pwned=1</script>' };
  const page = buildRunReport(data);
  const html = renderPage(page);

  it('embeds plotly inline and loads nothing from the network', () => {
    expect(plotlyVersion()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(html).toContain(plotlySource().slice(0, 2000));
    expect(html).not.toMatch(/<script[^>]*\ssrc\s*=/i);
    expect(html).not.toMatch(/<link[^>]*href\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/<(img|iframe)[^>]*src\s*=\s*["']?https?:/i);
    expect(ownMarkup(html)).not.toMatch(/https?:\/\//);
  });

  it('has exactly three script elements (plotly, figure JSON, bootstrap) despite a hostile config string', () => {
    expect(html.match(/<script[\s>]/gi)).toHaveLength(3);
    expect(html.match(/<\/script>/gi)).toHaveLength(3);
    expect(html).toContain('evil &lt;/script&gt;');
  });

  it('has one plot div per figure and the figure JSON names them all', () => {
    const figs = pageFigures(page);
    expect(figs.length).toBe(17);
    const divs = [...html.matchAll(/<div class="plot" id="([^"]+)"/g)].map((m) => m[1]);
    expect(divs).toEqual(figs.map((f) => f.id));
    const json = /<script type="application\/json" id="sigprop-figures">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(json).map((f: { id: string }) => f.id)).toEqual(divs);
  });

  it('rejects duplicate and malformed figure ids', () => {
    const fig = { id: 'a', data: [], layout: {} };
    expect(() => renderPage({ title: 't', sections: [{ title: 's', blocks: [{ kind: 'figure', figure: fig }, { kind: 'figure', figure: fig }] }] }, { embedPlotly: false })).toThrow(
      SigpropError,
    );
    expect(() => renderPage({ title: 't', sections: [{ title: 's', blocks: [{ kind: 'figure', figure: { ...fig, id: '1"x' } }] }] }, { embedPlotly: false })).toThrow(/figure id/);
  });

  it('writes the file atomically (no temp file left) and reports the figure count', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigprop-report-'));
    try {
      const out = join(dir, 'sub', 'report.html');
      const w = writeRunReport(out, makeRunData());
      expect(w.figureCount).toBe(17);
      expect(existsSync(out)).toBe(true);
      expect(readFileSync(out, 'utf8').startsWith('<!DOCTYPE html>')).toBe(true);
      expect(readdirSync(join(dir, 'sub'))).toEqual(['report.html']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('training figures and config table', () => {
  it('draws accuracy in percent with train and test curves and axis titles with units', () => {
    const figs = metricFigures(makeRunData());
    const acc = figs.find((f) => f.id === 'm-accuracy')!;
    expect(acc.data.map((t) => t.name)).toEqual(['train', 'test']);
    expect((acc.data[1].y as number[])[7]).toBeCloseTo(100 * (0.93 - 0.6 * Math.exp(-4)), 6);
    expect(JSON.stringify(acc.layout)).toContain('accuracy (%)');
    expect(figs.map((f) => f.id)).toEqual(['m-accuracy', 'm-loss', 'm-layer-loss', 'm-firing', 'm-weight-norm']);
    const firing = figs.find((f) => f.id === 'm-firing')!;
    expect(firing.data).toHaveLength(6);
    expect(firing.data[0].name).toBe('hidden0 (lif, 500) input');
  });

  it('names the target generator first when sigprop learns its target projection', () => {
    const data = { ...makeRunData(), config: { targetProjection: 'learned' } };
    data.epochs = data.epochs.map((e) => ({ ...e, layerLosses: [0.5, ...(e.layerLosses ?? [])] }));
    const fig = metricFigures(data).find((f) => f.id === 'm-layer-loss')!;
    expect(fig.data.map((t) => t.name)).toEqual(['target generator (S, d)', 'hidden0 (lif, 500)', 'hidden1 (lif, 500)', 'readout (10)']);
    const plain = metricFigures(makeRunData()).find((f) => f.id === 'm-layer-loss')!;
    expect(plain.data.map((t) => t.name)).toEqual(['hidden0 (lif, 500)', 'hidden1 (lif, 500)', 'readout (10)']);
  });

  it('leaves out figures whose data are missing', () => {
    const figs = metricFigures({ title: 't', epochs: [{ epoch: 1, testAccuracy: 0.5 }, { epoch: 2, testAccuracy: 0.6 }] });
    expect(figs.map((f) => f.id)).toEqual(['m-accuracy']);
    expect(figs[0].data).toHaveLength(1);
  });

  it('flattens nested config into dotted keys', () => {
    expect(flattenConfig({ a: 1, b: { c: 'x', d: [1, 2] }, layers: [{ size: 3 }, { size: 4, params: { beta: 0.9 } }], e: {} })).toEqual([
      ['a', '1'],
      ['b.c', 'x'],
      ['b.d', '[1,2]'],
      ['layers.0.size', '3'],
      ['layers.1.size', '4'],
      ['layers.1.params.beta', '0.9'],
      ['e', '{}'],
    ]);
    expect(configTable({ a: 1 }).columns).toEqual(['setting', 'value']);
  });
});
