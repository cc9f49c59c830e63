/**
 * Self-contained HTML pages with plotly figures. The plotly.js-dist-min bundle is embedded
 * inline (read from node_modules through createRequire), figure specs travel as JSON inside a
 * `<script type="application/json">` block, and a short bootstrap script draws them. The page
 * references nothing on the network: it opens offline by double-click.
 *
 * Pages are built from plain data (`ReportPage`: sections of figures, tables and text), so every
 * figure builder in src/report/ is a pure function that tests can inspect without a browser.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { SigpropError } from '../errors.js';
import { writeFileAtomic } from '../io.js';

/** A plotly trace (scatter, bar, heatmap, ...): passed to Plotly.newPlot unchanged. */
export type PlotTrace = Record<string, unknown>;

/** One plotly figure. */
export interface Figure {
  /** Unique within the page; becomes the plot div's id (letters, digits, '-', '_'). */
  id: string;
  data: PlotTrace[];
  layout: Record<string, unknown>;
  /** Plain-text caption under the figure (e.g. the decimation note). */
  caption?: string;
  /** Height in CSS px (default 380). */
  heightPx?: number;
}

/** A small table: column headers and rows of cell text (numbers are formatted by the caller). */
export interface Table {
  caption?: string;
  columns: string[];
  rows: (string | number)[][];
}

/** One block of a section, in display order. */
export type Block =
  | { kind: 'figure'; figure: Figure }
  | { kind: 'table'; table: Table }
  | { kind: 'text'; text: string };

export interface Section {
  title: string;
  blocks: Block[];
}

/** A whole page: a title, an optional subtitle line, sections in order. */
export interface ReportPage {
  title: string;
  subtitle?: string;
  sections: Section[];
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * JSON text that is safe inside `<script type="application/json">`: every '<' becomes \u003c
 * (so '</script>' and '<!--' cannot close or confuse the element), and U+2028/U+2029 are escaped.
 * JSON.parse of the result gives back the original value. Non-finite numbers become null.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value, typedArraysAsLists)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** JSON.stringify replacer: typed arrays become plain lists (they would otherwise become objects). */
function typedArraysAsLists(_key: string, v: unknown): unknown {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as unknown as ArrayLike<number>) : v;
}

let plotlyCache: string | undefined;

/**
 * The plotly.js-dist-min bundle's source, made safe for an inline `<script>` element
 * ('</script' inside it, should a version ever contain one, is written '<\/script', which
 * means the same in JS strings, regexes and comments).
 */
export function plotlySource(): string {
  if (plotlyCache === undefined) {
    let path: string;
    try {
      path = createRequire(import.meta.url).resolve('plotly.js-dist-min');
    } catch {
      throw new SigpropError(
        'cannot find the plotly.js-dist-min package needed for HTML reports; run `npm install` in the sigprop folder',
        'report',
      );
    }
    plotlyCache = readFileSync(path, 'utf8').replace(/<\/(script)/gi, '<\\/$1');
  }
  return plotlyCache;
}

/** The plotly version embedded (from the bundle's header comment), or 'unknown'. */
export function plotlyVersion(): string {
  const m = /plotly\.js v(\d+\.\d+\.\d+)/.exec(plotlySource().slice(0, 300));
  return m ? m[1] : 'unknown';
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1b1b1b;background:#fafafa}
header{background:#23395d;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;font-size:13px;opacity:.85}
nav{padding:8px 24px;font-size:13px;background:#eef1f6;border-bottom:1px solid #d8dde6}
nav a{margin-right:14px;color:#23395d}
main{padding:8px 24px 40px;max-width:1400px}
section{margin-top:18px}
h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px}
.figure{background:#fff;border:1px solid #e1e4ea;border-radius:4px;margin:10px 0;padding:4px}
.plot{width:100%}
.caption{font-size:12px;color:#555;margin:2px 8px 6px}
.plot-error{color:#b00020;font-family:monospace;padding:8px}
table{border-collapse:collapse;font-size:13px;margin:8px 0;background:#fff}
th,td{border:1px solid #d5d9e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-weight:600;padding:4px 0}
p.text{font-size:14px;max-width:900px}
footer{font-size:12px;color:#666;padding:12px 24px}
`;

/**
 * Runs in the page: draws every figure listed in the JSON block, marks failures in place and on
 * the console, and sets window.__sigpropReport = {expected, rendered, errors} when done (the
 * browser test waits for it).
 */
const BOOTSTRAP = `
(function(){
  var spec = JSON.parse(document.getElementById('sigprop-figures').textContent);
  var status = {expected: spec.length, rendered: 0, errors: []};
  var config = {responsive: true, displaylogo: false, showLink: false, showSendToCloud: false,
    showEditInChartStudio: false, plotlyServerURL: '', toImageButtonOptions: {format: 'png', scale: 2}};
  function fail(div, id, err) {
    var msg = 'figure ' + id + ' failed: ' + (err && err.message ? err.message : err);
    status.errors.push(msg);
    console.error(msg);
    if (div) { var p = document.createElement('div'); p.className = 'plot-error'; p.textContent = msg; div.appendChild(p); }
  }
  var jobs = spec.map(function(fig){
    var div = document.getElementById(fig.id);
    if (!div) { fail(null, fig.id, 'no element'); return Promise.resolve(); }
    if (typeof Plotly === 'undefined') { fail(div, fig.id, 'plotly did not load'); return Promise.resolve(); }
    try {
      return Promise.resolve(Plotly.newPlot(div, fig.data, fig.layout, config))
        .then(function(){ status.rendered++; }, function(e){ fail(div, fig.id, e); });
    } catch (e) { fail(div, fig.id, e); return Promise.resolve(); }
  });
  Promise.all(jobs).then(function(){ window.__sigpropReport = status; });
})();
`;

function renderTable(t: Table): string {
  const head = t.columns.every((c) => c === '') ? '' : `<thead><tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('')}</tr></thead>`;
  const body = t.rows
    .map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  const cap = t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : '';
  return `<table>${cap}${head}<tbody>\n${body}\n</tbody></table>`;
}

const ID_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** All figures of a page, in display order. */
export function pageFigures(page: ReportPage): Figure[] {
  const out: Figure[] = [];
  for (const s of page.sections) for (const b of s.blocks) if (b.kind === 'figure') out.push(b.figure);
  return out;
}

/**
 * Render a page to one self-contained HTML string. Throws a SigpropError for duplicate or
 * malformed figure ids (they would silently overwrite each other in the page).
 */
export function renderPage(page: ReportPage, opts: { embedPlotly?: boolean } = {}): string {
  const figures = pageFigures(page);
  const seen = new Set<string>();
  for (const f of figures) {
    if (!ID_RE.test(f.id)) throw new SigpropError(`report figure id "${f.id}" must start with a letter and use only letters, digits, '-' and '_'`, 'report');
    if (seen.has(f.id)) throw new SigpropError(`report figure id "${f.id}" is used twice; give each figure its own id`, 'report');
    seen.add(f.id);
  }
  const nav = page.sections.map((s, i) => `<a href="#sec-${i}">${escapeHtml(s.title)}</a>`).join('');
  const sections = page.sections
    .map((s, i) => {
      const blocks = s.blocks
        .map((b) => {
          if (b.kind === 'text') return `<p class="text">${escapeHtml(b.text)}</p>`;
          if (b.kind === 'table') return renderTable(b.table);
          const f = b.figure;
          const cap = f.caption ? `<div class="caption">${escapeHtml(f.caption)}</div>` : '';
          return `<div class="figure"><div class="plot" id="${f.id}" style="height:${Math.round(f.heightPx ?? 380)}px"></div>${cap}</div>`;
        })
        .join('\n');
      return `<section id="sec-${i}"><h2>${escapeHtml(s.title)}</h2>\n${blocks}\n</section>`;
    })
    .join('\n');
  const spec = figures.map((f) => ({ id: f.id, data: f.data, layout: f.layout }));
  const embed = opts.embedPlotly ?? true;
  const plotly = embed ? `<script>${plotlySource()}</script>` : '<!-- plotly omitted -->';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="sigprop report">
<title>${escapeHtml(page.title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>${escapeHtml(page.title)}</h1>${page.subtitle ? `<p>${escapeHtml(page.subtitle)}</p>` : ''}</header>
<nav>${nav}</nav>
<main>
${sections}
</main>
<footer>Written by sigprop on ${escapeHtml(new Date().toISOString())}. ${figures.length} figures; plotly.js embedded, no network access needed.</footer>
${plotly}
<script type="application/json" id="sigprop-figures">${jsonForScript(spec)}</script>
<script>${BOOTSTRAP}</script>
</body>
</html>
`;
}

/** Render `page` and write it atomically to `outFile`. Returns the number of figures written. */
export function writePage(outFile: string, page: ReportPage): { figureCount: number; bytes: number } {
  const html = renderPage(page);
  writeFileAtomic(outFile, html);
  return { figureCount: pageFigures(page).length, bytes: Buffer.byteLength(html) };
}
