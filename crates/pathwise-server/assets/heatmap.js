// Latency heatmaps. The view (#/heatmap?node=<name>|path=<path>&range=24h) draws one node's
// or path's calls by start time (columns) and duration (log-spaced rows, slowest at the top)
// from GET /api/heatmap; colour = calls, on a log scale so a few slow calls still show. A
// cell opens the trace list with a query selecting exactly its calls (the span, its duration
// band, its minutes). `heatGrid` draws any such grid; the Decisions page uses it for the
// slowest steps over time.

import {
  api, errorBox, formatCount, formatMs, formatTime, h, isoTime, knownRange, markReady, rangePicker, withQuery,
} from './util.js';
import { s, svgTitle } from './charts.js';
import { literal, tracesHref } from './drill.js';

const GRID = { left: 84, top: 8, bottom: 34, right: 12, cellH: 16, width: 960 };
const COLD = [232, 237, 255]; // --accent-soft
const HOT = [201, 42, 42]; // --bad

/** A colour from cold (0) to hot (1). */
export function heatColour(t) {
  const mix = COLD.map((c, i) => Math.round(c + (HOT[i] - c) * Math.min(1, Math.max(0, t))));
  return `rgb(${mix.join(',')})`;
}

/** The start of the list's `start` range for column `c` of a grid, as a query time. */
const columnTime = (grid, c) => literal(isoTime(grid.since_ns + c * grid.column_ns));

/** The query part selecting spans started in column `c`. */
export function columnQuery(grid, c) {
  return `start >= ${columnTime(grid, c)} AND start < ${columnTime(grid, c + 1)}`;
}

/**
 * An SVG grid: `rows` labels from the top, `grid.columns` columns from `grid.since_ns` in steps
 * of `grid.column_ns`; `cell(c, r)` gives `{ t, title, href }` (t in 0…1) or null for none.
 */
export function heatGrid(grid, rows, cell, label) {
  const { left, top, bottom, right, cellH, width } = GRID;
  const cellW = (width - left - right) / Math.max(1, grid.columns);
  const height = top + rows.length * cellH + bottom;
  const svg = s('svg', { class: 'heatmap', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  svg.append(s('rect', { class: 'heat-bg', x: left, y: top, width: width - left - right, height: rows.length * cellH }));
  rows.forEach((name, r) => {
    svg.append(s('text', { class: 'heat-label', x: left - 6, y: top + r * cellH + cellH * 0.7, 'text-anchor': 'end' }, name));
  });
  for (let c = 0; c < grid.columns; c += 1) {
    for (let r = 0; r < rows.length; r += 1) {
      const it = cell(c, r);
      if (!it) continue;
      const rect = s('rect', {
        class: 'heat-cell', x: left + c * cellW, y: top + r * cellH, width: Math.max(1, cellW - 1), height: cellH - 1,
        fill: heatColour(it.t), dataset: { column: String(c), row: String(r), value: String(it.value) },
      }, svgTitle(it.title));
      svg.append(it.href ? s('a', { href: it.href }, rect) : rect);
    }
  }
  const long = grid.columns * grid.column_ns > 86_400e9;
  const tick = (ns) => {
    const text = formatTime(ns);
    return long ? text.slice(5, 16) : text.slice(11, 16); // MM-DD HH:MM, or HH:MM
  };
  const ticks = Math.min(6, grid.columns);
  for (let i = 0; i < ticks; i += 1) {
    const c = Math.round((i * (grid.columns - 1)) / Math.max(1, ticks - 1));
    const anchor = i === 0 ? 'start' : i === ticks - 1 ? 'end' : 'middle';
    const x = left + (i === ticks - 1 ? (c + 1) * cellW : c * cellW);
    svg.append(s('text', { class: 'heat-label', x, y: height - bottom + 16, 'text-anchor': anchor }, tick(grid.since_ns + c * grid.column_ns)));
  }
  return svg;
}

/** The list query of one cell of a node's or path's heatmap. */
function cellQuery(data, c, r) {
  const subject = data.kind === 'path' ? `path == ${literal(data.key)}` : `name == ${literal(data.key)}`;
  const lo = data.edges_ns[r];
  const hi = data.edges_ns[r + 1];
  const last = r === data.edges_ns.length - 2;
  return `${subject} AND duration_ms >= ${lo}ns AND duration_ms ${last ? '<=' : '<'} ${hi}ns AND ${columnQuery(data, c)}`;
}

function renderMap(data, range) {
  const rowsCount = data.edges_ns.length - 1;
  const grid = { since_ns: data.since_ns, column_ns: data.column_ns, columns: data.cells.length };
  // Slowest at the top: display row d is data row rowsCount − 1 − d.
  const labels = [];
  for (let d = 0; d < rowsCount; d += 1) labels.push(`≥ ${formatMs(data.edges_ns[rowsCount - 1 - d] / 1e6)}`);
  const scale = Math.log1p(Math.max(1, data.max_cell));
  return heatGrid(grid, labels, (c, d) => {
    const r = rowsCount - 1 - d;
    const count = data.cells[c][r];
    if (!count) return null;
    const from = formatMs(data.edges_ns[r] / 1e6);
    const to = formatMs(data.edges_ns[r + 1] / 1e6);
    return {
      t: Math.log1p(count) / scale,
      value: count,
      title: `${formatCount(count)} call${count === 1 ? '' : 's'} of ${from}–${to}, from ${formatTime(data.since_ns + c * data.column_ns)}`,
      href: tracesHref(cellQuery(data, c, r), range),
    };
  }, `Latency heatmap of ${data.key}`);
}

export function heatmapView(root, params) {
  const kind = params.get('path') ? 'path' : 'node';
  const key = (params.get(kind) || '').trim();
  let range = knownRange(params.get('range'));
  let disposed = false;
  let controller = new AbortController();

  const summary = h('p', { class: 'heat-summary' });
  const message = h('div', { class: 'ana-message' });
  const body = h('section', { class: 'ana-panel', id: 'heatmap-panel', hidden: true });
  root.append(h('section', { class: 'heatmap-view' },
    h('div', { class: 'ana-top' }, h('h1', { class: 'page-title' }, 'Latency heatmap'),
      h('span', { class: 'mono heat-key', title: kind }, key || '—'),
      rangePicker(range, (chosen) => {
        range = chosen;
        history.replaceState(null, '', `#/heatmap${withQuery('', { [kind]: key, range })}`);
        load();
      })),
    message, summary, body));


  async function load() {
    controller.abort();
    controller = new AbortController();
    if (!key) {
      message.replaceChildren(h('p', { class: 'empty-state' }, 'Open a heatmap from a node of the Analysis page.'));
      return;
    }
    try {
      const data = await api(withQuery('/api/heatmap', { [kind]: key, since: range, columns: 120, rows: 24 }), { signal: controller.signal });
      if (disposed) return;
      data.key = key;
      const calls = data.calls.reduce((a, b) => a + b, 0);
      const errors = data.errors.reduce((a, b) => a + b, 0);
      summary.replaceChildren(`${formatCount(calls)} calls, ${formatCount(errors)} failed, in columns of ${formatMs(data.column_ns / 1e6)}; `,
        h('span', { class: 'muted' }, 'click a cell for its traces'));
      summary.dataset.calls = String(calls);
      if (!calls) {
        body.hidden = true;
        message.replaceChildren(h('p', { class: 'empty-state' }, `No calls of ${key} in the last ${range}.`));
        return;
      }
      message.replaceChildren();
      body.replaceChildren(renderMap(data, range));
      body.hidden = false;
      document.title = `Heatmap ${key} · Pathwise`;
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      message.replaceChildren(errorBox(err));
    }
  }

  load().finally(() => {
    if (!disposed) markReady('heatmap');
  });
  return {
    dispose() {
      disposed = true;
      controller.abort();
      document.title = 'Pathwise';
    },
  };
}
