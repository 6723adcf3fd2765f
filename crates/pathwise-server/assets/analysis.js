// The Analysis page (#/analysis): where time goes and what fails, over a time range.
//
// Panels: summary cards; hot / slow / error-prone paths as bar charts; an error-rate-vs-calls
// scatter plot; the sortable node-metrics table with a p95 sparkline per node; optimisation
// opportunities and never-run functions; the window's flame graph (inferno's own SVG, embedded
// so its zoom and search work, optionally against the previous window); the dependency graph;
// error patterns by attribute; scaling (scaling.js). Every chart is drawn here (no library);
// every name coming from the data is inserted as text.

import {
  ApiError, api, errorBox, formatCount, formatMs, formatPercent, formatTime, h, markReady,
  withQuery,
} from './util.js';
import { applyScalingParams, scalingPanel } from './scaling.js';
import { attributeQuery, nodeQuery, pathQuery, tracesHref } from './drill.js';
import { errorTypesTable, shortType } from './error_types.js';
import { windowComparePanel } from './window_compare.js';

const RANGES = [
  ['15m', '15 min', 15 * 60_000],
  ['1h', '1 hour', 3_600_000],
  ['24h', '24 hours', 86_400_000],
  ['7d', '7 days', 7 * 86_400_000],
];
const BARS = 10;
const SPARK_WINDOWS = 12;
const SVG_NS = 'http://www.w3.org/2000/svg';
const ARROW = ' → ';

// Kept across navigations.
// `attr` empty: the error-pattern panel picks the window's most telling attribute itself.
const state = { range: '24h', sort: { key: 'share_of_time', dir: 'desc' }, attr: '', compare: false };

function applyParams(params) {
  if (params.has('range') && RANGES.some(([value]) => value === params.get('range'))) {
    state.range = params.get('range');
  }
  if (params.has('attr') && params.get('attr').trim()) state.attr = params.get('attr').trim();
}

function rememberState() {
  history.replaceState(null, '', `#/analysis${withQuery('', { range: state.range })}`);
}

const rangeMs = () => RANGES.find(([value]) => value === state.range)[2];
const rangeLabel = () => RANGES.find(([value]) => value === state.range)[1];

// --- SVG and small helpers ---------------------------------------------------------------

/** An SVG element; attributes via setAttribute, children as nodes or text. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key === 'class') el.setAttribute('class', value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An SVG <title> (the native tooltip). */
const svgTitle = (text) => s('title', null, text);

const round = (n) => Math.round(n * 10) / 10;

/** The figures of a path or node, one per line (tooltips). */
function describe(m) {
  const lines = [
    m.key,
    `${formatCount(m.calls)} calls · ${formatCount(m.errors)} errors (${formatPercent(m.error_rate)})`,
    `avg ${formatMs(m.avg_ms)} · p50 ${formatMs(m.p50_ms)} · p95 ${formatMs(m.p95_ms)} · p99 ${formatMs(m.p99_ms)}`,
    `self ${formatMs(m.self_ms)} · ${formatPercent(m.share_of_time)} of request time`,
    `on critical paths ${formatMs(m.critical_ms)} · responsible for ${formatPercent(m.share_of_latency)} of request latency`,
  ];
  if (Array.isArray(m.errors_by_type) && m.errors_by_type.length) {
    lines.push(`errors: ${m.errors_by_type.map(([type, n]) => `${shortType(type)} ×${n}`).join(', ')}`);
  }
  return lines.join('\n');
}

/**
 * A path `A → B → C` as text: the callers muted (cut from the left when short of room), the
 * node itself emphasised.
 */
function pathLabel(key) {
  const parts = String(key).split(ARROW);
  const last = parts.pop();
  return h('span', { class: 'path-label' },
    parts.length ? h('span', { class: 'path-prefix' }, h('span', { class: 'path-prefix-text' }, parts.join(ARROW) + ARROW)) : null,
    h('span', { class: 'path-node' }, last));
}

function empty(text) {
  return h('p', { class: 'empty-state' }, text);
}

/** Red tint for an error rate: 0 → none, ≥ 50 % → full. */
function errorTint(rate) {
  if (!(rate > 0)) return 0;
  return 0.3 + 0.7 * Math.min(1, rate / 0.5);
}

function mix(a, b, t) {
  const channel = (i) => Math.round(a[i] + (b[i] - a[i]) * t);
  return `rgb(${channel(0)}, ${channel(1)}, ${channel(2)})`;
}
const GREY = [142, 151, 166];
const RED = [201, 42, 42];
const BLUE = [59, 91, 219];

// --- bar charts ----------------------------------------------------------------------------

function barChart(kind, rows, value, format, emptyText, range) {
  if (!rows.length) return empty(emptyText);
  const max = Math.max(...rows.map(value), Number.MIN_VALUE);
  return h('ol', { class: `bar-chart bar-${kind}`, dataset: { chart: kind } },
    rows.map((m) => {
      const fill = h('span', { class: 'bar-fill' });
      fill.style.width = `${Math.max(0.5, (value(m) / max) * 100)}%`;
      // The label opens the traces behind the bar (drill.js).
      return h('li', { class: 'bar-row', title: describe(m), dataset: { key: m.key } },
        h('a', { class: 'bar-label drill', href: tracesHref(pathQuery(kind, m), range) }, pathLabel(m.key)),
        h('div', { class: 'bar-line' },
          h('span', { class: 'bar-track' }, fill),
          h('span', { class: 'bar-value' }, format(m))));
    }));
}

// --- scatter: error rate vs calls ------------------------------------------------------------

const RATE_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

function scatterPlot(nodes) {
  if (!nodes.length) return empty('No calls in this window.');
  const W = 600;
  const H = 300;
  const m = { l: 66, r: 20, t: 16, b: 42 };
  const maxCalls = Math.max(...nodes.map((n) => n.calls), 1);
  const decades = Math.max(1, Math.ceil(Math.log10(maxCalls * 1.3)));
  const maxRate = Math.max(...nodes.map((n) => n.error_rate || 0));
  const yMax = RATE_STEPS.find((step) => step >= maxRate * 1.08) ?? 1;
  const x = (calls) => m.l + (Math.log10(Math.max(1, calls)) / decades) * (W - m.l - m.r);
  const y = (rate) => H - m.b - (Math.min(rate || 0, yMax) / yMax) * (H - m.t - m.b);

  const grid = [];
  for (let d = 0; d <= decades; d += 1) {
    const gx = x(10 ** d);
    grid.push(s('line', { class: 'grid', x1: gx, x2: gx, y1: m.t, y2: H - m.b }));
    grid.push(s('text', { class: 'tick', x: gx, y: H - m.b + 16, 'text-anchor': 'middle' }, formatCount(10 ** d)));
  }
  for (let i = 0; i <= 4; i += 1) {
    const rate = (yMax * i) / 4;
    const gy = y(rate);
    grid.push(s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: gy, y2: gy }));
    grid.push(s('text', { class: 'tick', x: m.l - 6, y: gy + 4, 'text-anchor': 'end' }, formatPercent(rate)));
  }
  const axes = [
    s('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }),
    s('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }),
    s('text', { class: 'axis-title', x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle' }, 'calls (log scale)'),
    s('text', { class: 'axis-title', x: 12, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, 'error rate'),
  ];

  // Dots: most called drawn first, so small ones stay on top; dots on the same spot are
  // spread sideways so that each stays visible (and hoverable).
  const ordered = nodes.slice().sort((a, b) => b.calls - a.calls);
  const seen = new Map();
  const dx = new Map();
  for (const n of ordered) {
    const spot = `${Math.round(x(n.calls) / 4)},${Math.round(y(n.error_rate) / 4)}`;
    const k = seen.get(spot) || 0;
    seen.set(spot, k + 1);
    dx.set(n.key, k * 7);
  }
  const dots = ordered.map((n) => s('circle', {
    class: `scatter-dot${n.errors > 0 ? ' has-errors' : ''}`,
    cx: round(x(n.calls) + dx.get(n.key)), cy: round(y(n.error_rate)), r: 5.5,
    fill: mix(GREY, RED, errorTint(n.error_rate)),
    dataset: { node: n.key },
  }, svgTitle(describe(n))));

  // Labels for the failing nodes and the most called ones, skipping any that would overlap.
  const placed = [];
  const labels = [];
  const wanted = [...ordered.filter((n) => n.errors > 0), ...ordered.slice(0, 4)];
  for (const n of wanted) {
    if (labels.length >= 10 || labels.some((l) => l.key === n.key)) continue;
    const text = String(n.key);
    const width = text.length * 6.3;
    let lx = x(n.calls) + dx.get(n.key) + 8;
    let anchor = 'start';
    if (lx + width > W - 4) {
      lx = x(n.calls) - 8;
      anchor = 'end';
    }
    const above = y(n.error_rate) - 7;
    const ly = above - 10 < 2 ? y(n.error_rate) + 17 : above;
    const box = anchor === 'start' ? [lx, ly - 10, lx + width, ly + 2] : [lx - width, ly - 10, lx, ly + 2];
    if (placed.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
    placed.push(box);
    labels.push({ key: n.key, el: s('text', { class: 'dot-label', x: round(lx), y: round(ly), 'text-anchor': anchor }, text) });
  }

  return s('svg', {
    class: 'scatter', id: 'scatter', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': 'Error rate against calls, one dot per node',
  }, grid, axes, dots, labels.map((l) => l.el));
}

// --- node table with sparklines -------------------------------------------------------------

const COLUMNS = [
  ['key', 'Node', (n) => n.key],
  ['calls', 'Calls', (n) => formatCount(n.calls)],
  ['errors', 'Errors', (n) => formatCount(n.errors)],
  ['error_rate', 'Error rate', (n) => formatPercent(n.error_rate)],
  ['avg_ms', 'Avg', (n) => formatMs(n.avg_ms)],
  ['p50_ms', 'p50', (n) => formatMs(n.p50_ms)],
  ['p95_ms', 'p95', (n) => formatMs(n.p95_ms)],
  ['p99_ms', 'p99', (n) => formatMs(n.p99_ms)],
  ['self_ms', 'Self time', (n) => formatMs(n.self_ms),
    'Duration minus the union of its children\'s intervals (parallel children are not subtracted twice)'],
  ['share_of_time', 'Share of time', (n) => formatPercent(n.share_of_time),
    'Total time (children included) as a share of all request time'],
  ['share_of_latency', 'Latency share', (n) => formatPercent(n.share_of_latency),
    'Its own time on its traces\' critical paths, as a share of all request latency: what shortening it would save. A parallel branch that others outlasted has 0 %.'],
];

function sparkline(values, stepMs) {
  const W = 96;
  const H = 24;
  const pad = 3;
  const known = values.filter((v) => v != null);
  if (!known.length) return h('span', { class: 'muted small' }, '—');
  const max = Math.max(...known, Number.MIN_VALUE);
  const px = (i) => round(pad + (i / Math.max(1, values.length - 1)) * (W - 2 * pad));
  const py = (v) => round(H - pad - (v / max) * (H - 2 * pad));
  const parts = [s('line', { class: 'spark-base', x1: pad, x2: W - pad, y1: H - pad, y2: H - pad })];
  let run = [];
  const flush = () => {
    if (run.length > 1) parts.push(s('polyline', { class: 'spark-line', points: run.map(([i, v]) => `${px(i)},${py(v)}`).join(' ') }));
    else if (run.length === 1) parts.push(s('circle', { class: 'spark-dot', cx: px(run[0][0]), cy: py(run[0][1]), r: 1.8 }));
    run = [];
  };
  values.forEach((v, i) => {
    if (v == null) flush();
    else run.push([i, v]);
  });
  flush();
  const lastIndex = values.reduce((at, v, i) => (v == null ? at : i), -1);
  parts.push(s('circle', { class: 'spark-last', cx: px(lastIndex), cy: py(values[lastIndex]), r: 2.2 }));
  const summary = values.map((v) => (v == null ? '·' : formatMs(v))).join('  ');
  return s('svg', { class: 'sparkline', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img' },
    svgTitle(`p95 per ${formatMs(stepMs)} (oldest first):\n${summary}`), parts);
}

// --- dependency graph ----------------------------------------------------------------------

const CHAR_W = 7.2;
const BOX_H = 28;
const ROW_GAP = 14;
const COL_GAP = 110;

function dependencyGraph(graphNodes, edges) {
  const byName = new Map();
  for (const n of graphNodes) byName.set(n.key, n);
  for (const e of edges) {
    for (const name of [e.caller, e.callee]) {
      if (!byName.has(name)) byName.set(name, { key: name, calls: 0, errors: 0, error_rate: 0 });
    }
  }
  if (byName.size === 0) return empty('No calls in this window.');

  // Depth: breadth-first from the roots (nodes nobody else calls).
  const out = new Map();
  const incoming = new Map();
  for (const e of edges) {
    if (!out.has(e.caller)) out.set(e.caller, []);
    out.get(e.caller).push(e.callee);
    if (e.caller !== e.callee) incoming.set(e.callee, (incoming.get(e.callee) || 0) + 1);
  }
  const depth = new Map();
  const byCalls = (a, b) => (byName.get(b).calls - byName.get(a).calls) || (a < b ? -1 : 1);
  const names = [...byName.keys()].sort(byCalls);
  const queue = names.filter((name) => !incoming.has(name));
  for (const name of queue) depth.set(name, 0);
  for (let i = 0; i < queue.length; i += 1) {
    for (const callee of out.get(queue[i]) || []) {
      if (!depth.has(callee)) {
        depth.set(callee, depth.get(queue[i]) + 1);
        queue.push(callee);
      }
    }
  }
  for (const name of names) if (!depth.has(name)) depth.set(name, 0); // only inside cycles

  // Columns, each ordered by the mean row of its callers (fewer crossings).
  const columns = [];
  for (const name of names) {
    const d = depth.get(name);
    while (columns.length <= d) columns.push([]);
    columns[d].push(name);
  }
  const row = new Map();
  columns[0].forEach((name, i) => row.set(name, i));
  const callers = new Map();
  for (const e of edges) {
    if (!callers.has(e.callee)) callers.set(e.callee, []);
    callers.get(e.callee).push(e.caller);
  }
  for (let d = 1; d < columns.length; d += 1) {
    const centre = (name) => {
      const rows = (callers.get(name) || []).filter((c) => depth.get(c) < d).map((c) => row.get(c));
      return rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : Infinity;
    };
    const weight = new Map(columns[d].map((name) => [name, centre(name)]));
    columns[d].sort((a, b) => (weight.get(a) - weight.get(b)) || byCalls(a, b));
    columns[d].forEach((name, i) => row.set(name, i));
  }

  // Geometry.
  const pad = 16;
  const tallest = Math.max(...columns.map((c) => c.length));
  const H = pad * 2 + tallest * BOX_H + (tallest - 1) * ROW_GAP;
  const colWidth = columns.map((c) => Math.max(90, ...c.map((name) => name.length * CHAR_W + 22)));
  const colX = [];
  let xAt = pad;
  for (const w of colWidth) {
    colX.push(xAt);
    xAt += w + COL_GAP;
  }
  const W = xAt - COL_GAP + pad + 30;
  const pos = new Map();
  columns.forEach((column, d) => {
    const height = column.length * BOX_H + (column.length - 1) * ROW_GAP;
    const top = (H - height) / 2;
    column.forEach((name, i) => {
      pos.set(name, { x: colX[d], y: top + i * (BOX_H + ROW_GAP), w: colWidth[d] });
    });
  });

  // Edges. Call counts sit near the end where edges fan out (beside the callee when a caller
  // has many callees, beside the caller when a callee has many callers); overlapping ones are
  // left out (the edge's tooltip has them).
  const maxCalls = Math.max(1, ...edges.map((e) => e.calls));
  const edgeEls = [];
  const labelEls = [];
  const labelBoxes = [];
  const outDegree = new Map();
  const inDegree = new Map();
  for (const e of edges) {
    outDegree.set(e.caller, (outDegree.get(e.caller) || 0) + 1);
    inDegree.set(e.callee, (inDegree.get(e.callee) || 0) + 1);
  }
  const bezier = (p0, p1, p2, p3, t) => {
    const u = 1 - t;
    return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
  };
  for (const e of edges) {
    const a = pos.get(e.caller);
    const b = pos.get(e.callee);
    const width = 1 + 5 * (Math.log1p(e.calls) / Math.log1p(maxCalls));
    const colour = mix(GREY, RED, errorTint(e.error_rate));
    let d;
    let mid;
    if (e.caller === e.callee) {
      const x1 = a.x + a.w;
      const y1 = a.y + BOX_H / 2;
      d = `M ${x1} ${y1 - 7} C ${x1 + 40} ${y1 - 34}, ${x1 + 40} ${y1 + 34}, ${x1} ${y1 + 7}`;
      mid = [x1 + 34, y1];
    } else if (depth.get(e.callee) > depth.get(e.caller)) {
      const x1 = a.x + a.w;
      const y1 = a.y + BOX_H / 2;
      const x2 = b.x - 3;
      const y2 = b.y + BOX_H / 2;
      const dx = Math.max(30, (x2 - x1) / 2);
      d = `M ${x1} ${y1} C ${x1 + dx} ${y1}, ${x2 - dx} ${y2}, ${x2} ${y2}`;
      const t = (outDegree.get(e.caller) || 0) > (inDegree.get(e.callee) || 0) ? 0.82 : 0.18;
      mid = [bezier(x1, x1 + dx, x2 - dx, x2, t), bezier(y1, y1, y2, y2, t)];
    } else {
      // A call back to an earlier (or the same) column: a curve below the boxes.
      const x1 = a.x + a.w / 2;
      const y1 = a.y + BOX_H;
      const x2 = b.x + b.w / 2;
      const y2 = b.y + BOX_H + 3;
      const drop = 36 + Math.abs(x2 - x1) / 6;
      d = `M ${x1} ${y1} C ${x1} ${y1 + drop}, ${x2} ${y2 + drop}, ${x2} ${y2}`;
      mid = [(x1 + x2) / 2, (y1 + y2) / 2 + drop * 0.75];
    }
    const title = `${e.caller} → ${e.callee}\n${formatCount(e.calls)} calls · ${formatCount(e.errors)} errors ` +
      `(${formatPercent(e.error_rate)}) · p95 ≤ ${formatMs(e.p95_ms)}`;
    edgeEls.push(s('path', {
      class: `dep-edge${e.errors > 0 ? ' has-errors' : ''}`, d, stroke: colour,
      'stroke-width': round(width), 'marker-end': 'url(#dep-arrow)',
      dataset: { caller: e.caller, callee: e.callee, calls: String(e.calls) },
    }, svgTitle(title)));
    const label = formatCount(e.calls);
    const half = (label.length * 6 + 4) / 2;
    const box = [mid[0] - half, mid[1] - 14, mid[0] + half, mid[1] - 1];
    if (!labelBoxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) {
      labelBoxes.push(box);
      labelEls.push(s('text', { class: 'dep-edge-label', x: round(mid[0]), y: round(mid[1] - 4), 'text-anchor': 'middle' },
        svgTitle(title), label));
    }
  }

  const nodeEls = [...pos.entries()].map(([name, p]) => {
    const n = byName.get(name);
    const tint = errorTint(n.error_rate);
    return s('g', { class: `dep-node${n.errors > 0 ? ' has-errors' : ''}`, dataset: { node: name } },
      svgTitle(n.calls ? describe(n) : name),
      s('rect', { x: p.x, y: p.y, width: p.w, height: BOX_H, rx: 5, stroke: tint ? mix(GREY, RED, tint) : '#b8bec8' }),
      s('text', { x: p.x + 11, y: p.y + BOX_H / 2 + 4 }, name));
  });

  return s('svg', {
    class: 'dep-graph', id: 'dependency-graph', width: W, height: H, viewBox: `0 0 ${W} ${H}`,
    role: 'img', 'aria-label': 'Dependency graph: callers on the left, callees to their right',
  },
  s('defs', null, s('marker', {
    id: 'dep-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 5, markerHeight: 5,
    markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse',
  }, s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'dep-arrowhead' }))),
  edgeEls, nodeEls, labelEls);
}

// --- the view ------------------------------------------------------------------------------

function panel(id, title, ...extra) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Loading…'));
  const el = h('section', { class: 'ana-panel', id },
    h('header', { class: 'ana-panel-head' }, h('h2', null, title), ...extra), body);
  return { el, body };
}

export function analysisView(root, params) {
  applyParams(params);
  applyScalingParams(params);
  let disposed = false;
  let seq = 0;
  let first = true;
  let controller = new AbortController();
  let nodes = [];
  let trends = new Map(); // node → p95 per sub-window
  let trendStep = 0;
  let windowMs = { since: 0, until: 0 };

  // --- skeleton ---
  const rangeButtons = RANGES.map(([value, label]) => h('button', {
    type: 'button', class: 'seg-btn', dataset: { range: value }, 'aria-pressed': String(value === state.range),
    title: `The last ${label}`,
  }, value));
  const rangeGroup = h('div', { class: 'seg', id: 'analysis-range', role: 'group', 'aria-label': 'Time range' }, rangeButtons);
  rangeGroup.addEventListener('click', (event) => {
    const button = event.target.closest('[data-range]');
    if (!button || button.dataset.range === state.range) return;
    state.range = button.dataset.range;
    rememberState();
    load();
  });
  const windowLabel = h('span', { class: 'muted small', id: 'analysis-window' });
  const refresh = h('button', { type: 'button', class: 'btn', title: 'Load again' }, 'Refresh');
  refresh.addEventListener('click', () => load());
  const message = h('div', { class: 'ana-message' });

  const cardValues = {};
  const CARDS = [['requests', 'Requests'], ['nodes', 'Nodes'], ['calls', 'Calls'], ['errors', 'Errors'], ['rate', 'Error rate']];
  const cards = h('section', { class: 'cards ana-cards', 'aria-label': 'Window totals' },
    CARDS.map(([key, label]) => {
      cardValues[key] = h('div', { class: 'card-value' }, '…');
      return h('div', { class: `card card-${key}`, dataset: { stat: key } }, h('div', { class: 'card-label' }, label), cardValues[key]);
    }));

  const hot = panel('hot-paths', 'Hot paths', h('span', { class: 'muted small' }, 'by calls'));
  const slow = panel('slow-paths', 'Slow paths', h('span', { class: 'muted small' }, 'by p95'));
  const failing = panel('error-paths', 'Error-prone paths', h('span', { class: 'muted small' }, 'by error rate'));
  const scatter = panel('error-scatter', 'Error rate vs calls', h('span', { class: 'muted small' }, 'one dot per node'));
  const opportunities = panel('opportunities', 'Optimisation opportunities');
  const unused = panel('never-run', 'Never run');
  const table = panel('node-metrics', 'Node metrics', h('span', { class: 'muted small' }, 'click a heading to sort'));
  const errorTypesPanel = panel('error-types', 'Error types', h('span', { class: 'muted small' }, 'failed calls by error type'));

  const compare = h('input', { type: 'checkbox', id: 'flame-compare' });
  compare.checked = state.compare;
  compare.addEventListener('change', () => {
    state.compare = compare.checked;
    loadFlame();
  });
  const flameHint = h('span', { class: 'muted small flame-hint' });
  const flame = panel('flame-graph', 'Flame graph',
    h('label', { class: 'toggle' }, compare, ' Compare with previous window'), flameHint);
  const deps = panel('dependency-graph-panel', 'Dependency graph',
    h('span', { class: 'muted small' }, 'caller → callee · width: calls · red: error rate'));

  const attrInput = h('input', {
    type: 'text', name: 'attr', id: 'pattern-attr', class: 'search attr-input', value: state.attr,
    'aria-label': 'Attribute name', autocomplete: 'off', spellcheck: 'false', maxlength: '200', required: true,
    list: 'pattern-attrs',
  });
  const attrChoices = h('datalist', { id: 'pattern-attrs' });
  const patternForm = h('form', { class: 'pattern-form', id: 'pattern-form' },
    h('label', { for: 'pattern-attr' }, 'Attribute'), attrInput, attrChoices,
    h('button', { type: 'submit', class: 'btn' }, 'Show'));
  patternForm.addEventListener('submit', (event) => {
    event.preventDefault();
    state.attr = attrInput.value.trim();
    loadPatterns();
  });
  const patterns = panel('error-patterns', 'Error patterns', h('span', { class: 'muted small' }, 'error rate per attribute value'));
  patterns.body.before(patternForm);
  const scaling = scalingPanel();
  const shifts = windowComparePanel();

  root.append(h('section', { class: 'analysis-view' },
    h('div', { class: 'ana-top' },
      h('h1', { class: 'page-title' }, 'Analysis'), rangeGroup, windowLabel, h('span', { class: 'spacer' }), refresh),
    message, cards,
    h('div', { class: 'ana-grid ana-grid-3' }, hot.el, slow.el, failing.el),
    h('div', { class: 'ana-grid ana-grid-2' }, scatter.el,
      h('div', { class: 'ana-stack' }, opportunities.el, unused.el)),
    table.el, errorTypesPanel.el, shifts.el, flame.el, deps.el, patterns.el, scaling.el));

  for (const button of rangeButtons) button.setAttribute('aria-pressed', String(button.dataset.range === state.range));

  // --- node table ---
  const sortKey = () => state.sort.key;
  function sortedNodes() {
    const { key, dir } = state.sort;
    const sign = dir === 'asc' ? 1 : -1;
    return nodes.slice().sort((a, b) => {
      const va = a[key];
      const vb = b[key];
      const order = typeof va === 'string' ? va.localeCompare(vb) : (va ?? 0) - (vb ?? 0);
      return sign * order || a.key.localeCompare(b.key);
    });
  }

  function renderTable() {
    if (!nodes.length) {
      table.body.replaceChildren(empty('No calls in this window.'));
      return;
    }
    const head = h('tr', null,
      COLUMNS.map(([key, label, , definition]) => {
        const active = key === sortKey();
        const arrow = active ? (state.sort.dir === 'asc' ? ' ▴' : ' ▾') : '';
        return h('th', {
          class: `${key === 'key' ? '' : 'num'} sortable${active ? ' sorted' : ''}`, dataset: { sort: key },
          'aria-sort': active ? (state.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none',
          title: definition || null,
        }, h('button', { type: 'button', class: 'th-sort' }, label, arrow));
      }),
      h('th', { class: 'spark-col' }, 'p95 trend'));
    const rows = sortedNodes().map((n) => h('tr', { dataset: { node: n.key }, class: n.errors > 0 ? 'has-error-row' : null },
      COLUMNS.map(([key, , format]) => {
        const drill = nodeQuery(key, n);
        const text = drill ? h('a', { class: 'drill', href: tracesHref(drill, state.range), dataset: { drill: key } }, format(n)) : format(n);
        if (key === 'key') return h('td', { class: 'node-name', title: describe(n) }, text);
        const cls = key === 'errors' || key === 'error_rate' ? (n.errors > 0 ? 'num has-errors' : 'num muted') : 'num';
        return h('td', { class: cls }, text);
      }),
      h('td', { class: 'spark-cell' }, h('a', {
        class: 'heatmap-link', href: `#/heatmap${withQuery('', { node: n.key, range: state.range })}`, title: 'Latency heatmap: calls by time and duration',
      }, trends.has(n.key) ? sparkline(trends.get(n.key), trendStep) : h('span', { class: 'spark-wait' })))));
    const el = h('table', { class: 'data-table node-table', id: 'node-table' },
      h('thead', null, head), h('tbody', null, rows));
    el.querySelector('thead').addEventListener('click', (event) => {
      const th = event.target.closest('th[data-sort]');
      if (!th) return;
      const key = th.dataset.sort;
      state.sort = key === state.sort.key
        ? { key, dir: state.sort.dir === 'asc' ? 'desc' : 'asc' }
        : { key, dir: key === 'key' ? 'asc' : 'desc' };
      renderTable();
      table.body.querySelector(`th[data-sort="${key}"] button`)?.focus();
    });
    table.body.replaceChildren(h('div', { class: 'table-scroll' }, el));
  }

  async function loadTrends(mine, signal) {
    const step = (windowMs.until - windowMs.since) / SPARK_WINDOWS;
    const requests = [];
    for (let i = 0; i < SPARK_WINDOWS; i += 1) {
      const since = Math.round(windowMs.since + i * step);
      const until = Math.round(windowMs.since + (i + 1) * step);
      requests.push(api(withQuery('/api/nodes', { since, until }), { signal }));
    }
    let answers;
    try {
      answers = await Promise.all(requests);
    } catch (err) {
      if (disposed || mine !== seq || err.name === 'AbortError') return;
      table.el.dataset.trends = 'failed';
      return;
    }
    if (disposed || mine !== seq) return;
    const next = new Map();
    answers.forEach((answer, i) => {
      for (const n of answer.nodes) {
        if (!next.has(n.key)) next.set(n.key, new Array(SPARK_WINDOWS).fill(null));
        next.get(n.key)[i] = n.calls > 0 ? n.p95_ms : null;
      }
    });
    for (const n of nodes) if (!next.has(n.key)) next.set(n.key, new Array(SPARK_WINDOWS).fill(null));
    trends = next;
    trendStep = step;
    renderTable();
    table.el.dataset.trends = 'loaded';
  }

  // --- flame graph ---
  function flameUrl() {
    if (!state.compare) return withQuery('/api/flamegraph.svg', { since: windowMs.since });
    const length = windowMs.until - windowMs.since;
    return withQuery('/api/flamegraph.svg', {
      since: windowMs.since, until: windowMs.until,
      base_since: windowMs.since - length, base_until: windowMs.since,
    });
  }

  function loadFlame() {
    const url = flameUrl();
    const mine = seq;
    flame.el.dataset.state = 'loading';
    flameHint.textContent = state.compare
      ? `Against the previous ${rangeLabel()}: red frames grew, blue ones shrank. Click to zoom; Search finds frames.`
      : 'Self time by call stack. Click a frame to zoom; Search (top right) highlights frames.';
    const object = h('object', {
      type: 'image/svg+xml', data: url, class: 'flame-object', id: 'flame-object',
      'aria-label': state.compare ? 'Differential flame graph' : 'Flame graph of the window',
      dataset: { state: 'loading', url },
    });
    object.addEventListener('load', () => {
      if (disposed || mine !== seq) return;
      const doc = object.contentDocument;
      const svg = doc && doc.documentElement;
      if (svg && svg.localName === 'svg') {
        const height = Number.parseFloat(svg.getAttribute('height'));
        if (Number.isFinite(height) && height > 0) object.style.height = `${height}px`;
        object.dataset.state = 'loaded';
        flame.el.dataset.state = 'loaded';
      } else {
        flameFailed(object, url, mine);
      }
    });
    object.addEventListener('error', () => flameFailed(object, url, mine));
    flame.body.replaceChildren(object);
  }

  async function flameFailed(object, url, mine) {
    if (disposed || mine !== seq || object.dataset.state === 'failed') return;
    object.dataset.state = 'failed';
    flame.el.dataset.state = 'empty';
    flameHint.textContent = '';
    try {
      await api(url, { signal: controller.signal });
      flame.body.replaceChildren(empty('The flame graph could not be shown.'));
    } catch (err) {
      if (disposed || mine !== seq || err.name === 'AbortError') return;
      flame.body.replaceChildren(err instanceof ApiError && err.status === 404
        ? empty(state.compare ? 'Nothing recorded to compare in these windows.' : 'Nothing recorded to draw in this window.')
        : errorBox(err));
    }
  }

  // --- error patterns ---
  /** Offers the window's attributes (those on failed spans first); picks the first when none is chosen. */
  async function loadAttributes() {
    const data = await api(withQuery('/api/attributes', { since: windowMs.since }), { signal: controller.signal });
    const keys = data.attributes || [];
    attrChoices.replaceChildren(...keys.map((k) => h('option', { value: k.key },
      `${formatCount(k.spans)} spans · ${formatCount(k.errors)} failed`)));
    if (!state.attr && keys.length) {
      state.attr = keys[0].key;
      attrInput.value = state.attr;
    }
  }

  async function loadPatterns() {
    const mine = seq;
    patterns.el.dataset.state = 'loading';
    try {
      await loadAttributes();
      if (disposed || mine !== seq) return;
      const attr = state.attr;
      if (!attr) {
        patterns.el.dataset.state = 'loaded';
        patterns.body.replaceChildren(empty('No span in this window carries an attribute.'));
        return;
      }
      const data = await api(withQuery('/api/error-patterns', { attr, since: windowMs.since }), { signal: controller.signal });
      if (disposed || mine !== seq || attr !== state.attr) return;
      patterns.el.dataset.state = 'loaded';
      if (!data.spans) {
        patterns.body.replaceChildren(empty(`No span in this window carries the attribute “${attr}”.`));
        return;
      }
      const flagged = data.values.filter((v) => v.flagged).length;
      const summary = h('p', { class: 'pattern-summary', id: 'pattern-summary' },
        h('strong', { class: 'pattern-spans' }, `${formatCount(data.spans)} spans`),
        ` carry “${data.attribute}”: ${formatCount(data.errors)} errors, overall rate ${formatPercent(data.overall_error_rate)}`,
        flagged ? ` · ${flagged} value${flagged === 1 ? '' : 's'} flagged (at least twice the overall rate)` : '',
        data.values.length >= 100 ? ' · the 100 most frequent values' : '');
      const maxRate = Math.max(...data.values.map((v) => v.error_rate), Number.MIN_VALUE);
      const rows = data.values.map((v) => {
        const fill = h('span', { class: 'bar-fill' });
        fill.style.width = `${(v.error_rate / maxRate) * 100}%`;
        const link = (failed, text) => h('a', { class: 'drill', href: tracesHref(attributeQuery(data.attribute, v.value, failed), state.range) }, text);
        return h('tr', { class: v.flagged ? 'flagged' : null, dataset: { value: v.value } },
          h('td', { class: 'mono pattern-value' }, link(false, v.value), v.flagged ? h('span', { class: 'flag-badge' }, 'flagged') : null),
          h('td', { class: 'num' }, formatCount(v.spans)),
          h('td', { class: `num ${v.errors > 0 ? 'has-errors' : 'muted'}` }, v.errors > 0 ? link(true, formatCount(v.errors)) : formatCount(v.errors)),
          h('td', { class: 'num rate-cell' }, formatPercent(v.error_rate), h('span', { class: 'mini-track' }, fill)));
      });
      patterns.body.replaceChildren(summary, h('div', { class: 'table-scroll pattern-scroll' },
        h('table', { class: 'data-table pattern-table', id: 'pattern-table' },
          h('thead', null, h('tr', null, h('th', null, 'Value'), h('th', { class: 'num' }, 'Spans'),
            h('th', { class: 'num' }, 'Errors'), h('th', { class: 'num' }, 'Error rate (of spans)'))),
          h('tbody', null, rows))));
    } catch (err) {
      if (disposed || mine !== seq || err.name === 'AbortError') return;
      patterns.el.dataset.state = 'failed';
      patterns.body.replaceChildren(errorBox(err));
    }
  }

  // --- loading ---
  async function load() {
    const mine = ++seq;
    controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    for (const button of rangeButtons) button.setAttribute('aria-pressed', String(button.dataset.range === state.range));
    const until = Date.now();
    windowMs = { since: until - rangeMs(), until };
    windowLabel.textContent = `${formatTime(windowMs.since * 1e6).slice(0, 16)} – now`;
    root.querySelector('.analysis-view').classList.add('loading');
    trends = new Map();
    table.el.dataset.trends = 'loading';

    const since = windowMs.since;
    shifts.load(since, state.range, signal);
    const get = (path, extra) => api(withQuery(path, { since, ...extra }), { signal });
    const results = await Promise.allSettled([
      get('/api/nodes'),
      get('/api/paths/hot', { limit: BARS }),
      get('/api/paths/slow', { limit: BARS }),
      get('/api/paths/errors', { limit: BARS }),
      get('/api/consumers', { limit: 5 }),
      get('/api/unused'),
      get('/api/graph'),
    ]);
    if (disposed || mine !== seq) return;
    root.querySelector('.analysis-view').classList.remove('loading');
    const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.some((e) => e && e.name === 'AbortError')) return;
    const signedOut = failures.find((e) => e instanceof ApiError && e.status === 401);
    message.replaceChildren(...(signedOut ? [errorBox(signedOut)] : []));
    const fill = (target, result, render) => {
      if (result.status === 'fulfilled') target.body.replaceChildren(render(result.value));
      else target.body.replaceChildren(signedOut ? empty('—') : errorBox(result.reason));
    };
    const [nodesR, hotR, slowR, errorsR, consumersR, unusedR, graphR] = results;

    nodes = nodesR.status === 'fulfilled' ? nodesR.value.nodes : [];
    if (nodesR.status === 'fulfilled') {
      const calls = nodes.reduce((sum, n) => sum + n.calls, 0);
      const errors = nodes.reduce((sum, n) => sum + n.errors, 0);
      cardValues.requests.textContent = formatCount(nodesR.value.requests);
      cardValues.nodes.textContent = formatCount(nodes.length);
      cardValues.calls.textContent = formatCount(calls);
      cardValues.errors.textContent = formatCount(errors);
      cardValues.errors.classList.toggle('has-errors', errors > 0);
      cardValues.rate.textContent = calls ? formatPercent(errors / calls) : '—';
    } else {
      for (const value of Object.values(cardValues)) value.textContent = '—';
      cardValues.errors.classList.remove('has-errors');
    }

    fill(hot, hotR, (d) => barChart('hot', d.paths, (m) => m.calls, (m) => formatCount(m.calls), 'No calls in this window.', state.range));
    fill(slow, slowR, (d) => barChart('slow', d.paths, (m) => m.p95_ms, (m) => formatMs(m.p95_ms), 'No calls in this window.', state.range));
    fill(failing, errorsR, (d) => barChart('errors', d.paths, (m) => m.error_rate,
      (m) => `${formatPercent(m.error_rate)} · ${formatCount(m.errors)}/${formatCount(m.calls)}`, 'No errors in this window.', state.range));
    fill(scatter, nodesR, (d) => scatterPlot(d.nodes));
    fill(opportunities, consumersR, (d) => (d.opportunities.length
      ? h('ul', { class: 'opportunity-list', id: 'opportunity-list' }, d.opportunities.map((text) => {
        const at = String(text).indexOf(': ');
        return at < 0 ? h('li', null, text)
          : h('li', null, h('strong', null, text.slice(0, at)), text.slice(at));
      }))
      : empty('Nothing stands out in this window.')));
    fill(unused, unusedR, (d) => {
      if (!d.registered) return empty('No monitored (#[monitor]) functions are registered in this database.');
      if (!d.never_executed.length) return empty(`All ${formatCount(d.registered)} monitored functions ran in this window.`);
      return h('div', null,
        h('p', { class: 'muted small' }, `${formatCount(d.never_executed.length)} of ${formatCount(d.registered)} monitored functions did not run in this window:`),
        h('ul', { class: 'never-run-list', id: 'never-run-list' }, d.never_executed.map((name) => h('li', { class: 'mono' }, name))));
    });
    if (nodesR.status === 'fulfilled') renderTable();
    else fill(table, nodesR, () => null);
    fill(errorTypesPanel, nodesR, (d) => errorTypesTable(d.nodes, state.range));
    fill(deps, graphR, (d) => h('div', { class: 'dep-scroll' }, dependencyGraph(d.nodes, d.edges)));

    if (!signedOut) {
      loadFlame();
      loadPatterns();
      scaling.load(windowMs.since, nodes, signal);
      if (nodes.length) loadTrends(mine, signal);
    } else {
      flame.body.replaceChildren(empty('—'));
      flameHint.textContent = '';
      patterns.body.replaceChildren(empty('—'));
      scaling.blank();
    }

    if (first) {
      first = false;
      markReady('analysis');
    }
  }

  load();

  return {
    dispose() {
      disposed = true;
      controller.abort();
    },
  };
}
