// The Health page (#/health): how well the system is doing right now.
//
// Panels: the overall score as a gauge with the reasons it lost points; one traffic light per
// component (span group); latency, error-rate and throughput shifts against the baseline; each
// operation's recent p95 against its baseline band; process resources (RSS with its trend
// forecast one hour ahead, CPU). Data: /api/snapshot (one consistent picture of health,
// operations and shifts) and /api/resources; both reloaded every 10 s. The address may carry
// `at` (Unix ms), `recent_s` and `baseline_h`, passed on to the API. Every chart is drawn here
// (no library); every name coming from the data is inserted as text.

import {
  ApiError, api, errorBox, formatCount, formatMs, formatPercent, formatTime, h, markReady,
  withQuery,
} from './util.js';

const REFRESH_MS = 10_000;
const RESOURCE_WINDOW_MS = 3_600_000;
const FORECAST_MS = 3_600_000;
/** With `at` further than this from now, the server's forecast (from now) is not drawn. */
const FORECAST_MAX_SKEW_MS = 600_000;
const HOUR_MS = 3_600_000;
const DEFAULT_RECENT_S = 60;
const DEFAULT_BASELINE_H = 24;
const WARNING_FACTOR = 2;
const CRITICAL_FACTOR = 5;
const MAX_CHART_POINTS = 600;
const SVG_NS = 'http://www.w3.org/2000/svg';
const LEVELS = ['Excellent', 'Good', 'Warning', 'Critical'];

// --- small helpers -------------------------------------------------------------------------

/** An SVG element; attributes via setAttribute, children as nodes or text. */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key === 'dataset') Object.assign(el.dataset, value);
      else el.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const svgTitle = (text) => s('title', null, text);
const round = (n) => Math.round(n * 10) / 10;
const empty = (text) => h('p', { class: 'empty-state' }, text);

/** `Excellent` → `excellent`; anything unknown → `unknown`. */
function levelClass(level) {
  return LEVELS.includes(level) ? level.toLowerCase() : 'unknown';
}

/** Reasons costing nothing ("… unknown … (cost 0 points)") are shown muted. */
const costsNothing = (reason) => /\(cost 0 points\)\s*$/.test(String(reason));

/** Bytes, decimal units: `312 MB`. */
function formatBytes(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const sign = bytes < 0 ? '−' : '';
  let value = Math.abs(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${units[unit]}`;
}

/** A signed relative change: `+31.2%`, `−12%`; ten-fold and more as a factor: `×2346`. */
function formatChange(ratio) {
  if (ratio == null || !Number.isFinite(ratio)) return '—';
  if (ratio >= 9) return `×${formatCount(Math.round(1 + ratio))}`;
  const pct = ratio * 100;
  const text = Math.abs(pct) < 10 ? Math.abs(pct).toFixed(1) : Math.abs(pct).toFixed(0);
  return `${pct < 0 ? '−' : '+'}${text}%`;
}

function formatP(p) {
  if (p == null || !Number.isFinite(p)) return 'p —';
  if (p < 0.0001) return 'p < 0.0001';
  return `p = ${p < 0.01 ? p.toPrecision(2) : p.toFixed(3)}`;
}

/** Events per second, per minute or per hour, whichever reads best. */
function formatRate(perSecond) {
  if (perSecond == null || !Number.isFinite(perSecond)) return '—';
  if (perSecond === 0) return '0/s';
  const fixed = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
  if (perSecond >= 1) return `${fixed(perSecond)}/s`;
  if (perSecond * 60 >= 1) return `${fixed(perSecond * 60)}/min`;
  return `${fixed(perSecond * 3600)}/h`;
}

/** Four even steps of 1, 2 or 5 × 10ⁿ (whole tick labels) covering `lo`…`hi`: [min, max]. */
function niceRange(lo, hi) {
  const steps = [1, 2, 5];
  let step = niceCeil((hi - lo) / 4 || Math.abs(hi) / 4 || 1, steps);
  let min = Math.floor(lo / step) * step;
  while (min + 4 * step < hi) {
    step = niceCeil(step * 1.01, steps);
    min = Math.floor(lo / step) * step;
  }
  return [Math.max(0, min), Math.max(0, min) + 4 * step];
}

/** The smallest of `steps` × 10ⁿ (default 1, 2, 2.5, 5) at or above `v`. */
function niceCeil(v, steps = [1, 2, 2.5, 5]) {
  if (!(v > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of steps) if (step * power >= v) return step * power;
  return 10 * power;
}

const clockTime = (ms) => formatTime(ms * 1e6).slice(11, 16);

// --- address parameters --------------------------------------------------------------------

function readParams(params) {
  const int = (name, min, max) => {
    const raw = params.get(name);
    if (raw == null || !/^\d+$/.test(raw)) return null;
    const value = Number(raw);
    return value >= min && value <= max ? value : null;
  };
  return {
    at: int('at', 0, 8.64e15),
    recent_s: int('recent_s', 10, 86_400),
    baseline_h: int('baseline_h', 1, 24 * 90),
  };
}

// --- the gauge -----------------------------------------------------------------------------

const G = { cx: 100, cy: 100, r: 78, from: -120, to: 120 };

function polar(r, deg) {
  const rad = ((deg - 90) * Math.PI) / 180;
  return [round(G.cx + r * Math.cos(rad)), round(G.cy + r * Math.sin(rad))];
}

function arcPath(r, fromDeg, toDeg) {
  const [x1, y1] = polar(r, fromDeg);
  const [x2, y2] = polar(r, toDeg);
  return `M ${x1} ${y1} A ${r} ${r} 0 ${toDeg - fromDeg > 180 ? 1 : 0} 1 ${x2} ${y2}`;
}

const angleOf = (score) => G.from + ((G.to - G.from) * Math.max(0, Math.min(100, score))) / 100;

/** The overall score on a 240° arc: the level bands as a thin outer ring, the score inside. */
function gauge(health) {
  const score = Number(health.score) || 0;
  const level = levelClass(health.level);
  const bands = [[0, 40, 'critical'], [40, 60, 'warning'], [60, 80, 'good'], [80, 100, 'excellent']];
  const ticks = [0, 40, 60, 80, 100].map((v) => {
    const [x, y] = polar(G.r + 19, angleOf(v));
    return s('text', { class: 'gauge-tick', x, y: y + 3, 'text-anchor': 'middle' }, v);
  });
  return s('svg', {
    class: `gauge level-${level}`, id: 'health-gauge', viewBox: '0 0 200 158', role: 'img',
    'aria-label': `Overall health ${score} of 100: ${health.level}`,
    dataset: { score: String(score), level: health.level },
  },
  svgTitle(`Overall health ${score} / 100 (${health.level})`),
  bands.map(([a, b, cls]) => s('path', { class: `gauge-band gauge-band-${cls}`, d: arcPath(G.r + 10, angleOf(a) + 0.6, angleOf(b) - 0.6) })),
  s('path', { class: 'gauge-track', d: arcPath(G.r, G.from, G.to) }),
  score > 0 ? s('path', { class: 'gauge-value', d: arcPath(G.r, G.from, angleOf(score)) }) : null,
  ticks,
  s('text', { class: 'gauge-score', id: 'health-score', x: G.cx, y: G.cy + 8, 'text-anchor': 'middle' }, score),
  s('text', { class: 'gauge-of', x: G.cx, y: G.cy + 26, 'text-anchor': 'middle' }, 'of 100'),
  s('text', { class: 'gauge-level', id: 'health-level', x: G.cx, y: G.cy + 50, 'text-anchor': 'middle' }, health.level));
}

function reasonList(reasons, id) {
  if (!reasons || !reasons.length) return empty('Nothing cost any points.');
  return h('ul', { class: 'reason-list', id },
    reasons.map((reason) => h('li', { class: costsNothing(reason) ? 'muted' : null }, reason)));
}

// --- component traffic lights --------------------------------------------------------------

function componentCard(c, openReasons) {
  const level = levelClass(c.health.level);
  const reasons = c.health.reasons || [];
  const costly = reasons.filter((r) => !costsNothing(r)).length;
  const fact = (label, value, cls) => h('div', { class: 'hc-fact' },
    h('dt', null, label), h('dd', { class: cls || null }, value));
  const details = h('details', { class: 'hc-reasons' },
    h('summary', null, costly ? `${costly} reason${costly === 1 ? '' : 's'} for ${c.health.score}` : 'Why this score'),
    reasonList(reasons));
  details.open = openReasons.has(c.component);
  details.addEventListener('toggle', () => {
    if (details.open) openReasons.add(c.component);
    else openReasons.delete(c.component);
  });
  const ops = c.operations || [];
  return h('article', {
    class: `hc-card level-${level}`,
    title: [`${c.component}: ${c.health.score} (${c.health.level})`, ...reasons].join('\n'),
    dataset: { component: c.component, level: c.health.level, score: String(c.health.score) },
  },
  h('div', { class: 'hc-head' },
    h('span', { class: 'hc-light', 'aria-hidden': 'true' }),
    h('h3', { class: 'hc-name' }, c.component),
    h('span', { class: 'hc-score' }, c.health.score)),
  h('div', { class: 'hc-level' }, c.health.level),
  h('dl', { class: 'hc-facts' },
    fact('Calls', formatCount(c.calls)),
    fact('Errors', formatCount(c.errors), c.errors > 0 ? 'has-errors' : 'muted'),
    fact('Cache hits', c.cache_hit_rate == null ? '—' : formatPercent(c.cache_hit_rate)),
    fact('Speed', c.speed_ratio == null ? '—' : `${c.speed_ratio.toFixed(2)}×`,
      c.speed_ratio >= WARNING_FACTOR ? 'has-errors' : null)),
  h('div', { class: 'hc-ops', title: ops.join('\n') },
    `${ops.length} operation${ops.length === 1 ? '' : 's'}: `, h('span', { class: 'mono' }, ops.join(', '))),
  details);
}

// --- shifts --------------------------------------------------------------------------------

/** Every flagged shift of every operation, worst first: regressions, traffic, improvements. */
function collectShifts(operations) {
  const shifts = [];
  for (const op of operations) {
    const l = op.latency;
    if (l && l.kind !== 'NoChange') {
      const bad = l.kind === 'Regression';
      shifts.push({
        op: op.name, kind: 'latency', direction: bad ? 'regression' : 'improvement', tone: bad ? 'bad' : 'good',
        badge: bad ? 'latency ↑' : 'latency ↓', effect: l.effect, effectText: formatChange(l.effect),
        detail: `median ${formatMs(l.base_median)} → ${formatMs(l.recent_median)}`, p: l.p_value,
        rank: bad ? 0 : 3,
      });
    }
    const e = op.error_rate;
    if (e && e.change !== 'NoChange') {
      const bad = e.change === 'Increase';
      const points = e.absolute_change * 100;
      shifts.push({
        op: op.name, kind: 'error-rate', direction: bad ? 'regression' : 'improvement', tone: bad ? 'bad' : 'good',
        badge: bad ? 'errors ↑' : 'errors ↓', effect: e.absolute_change,
        effectText: `${points < 0 ? '−' : '+'}${Math.abs(points).toFixed(1)} pts`,
        detail: `error rate ${formatPercent(e.base_rate)} → ${formatPercent(e.recent_rate)}`, p: e.p_value,
        rank: bad ? 0 : 3,
      });
    }
    const t = op.throughput;
    if (t && t.change !== 'NoChange') {
      const up = t.change === 'Increase';
      shifts.push({
        op: op.name, kind: 'throughput', direction: up ? 'increase' : 'decrease', tone: up ? 'info' : 'warn',
        badge: up ? 'traffic ↑' : 'traffic ↓', effect: t.relative_change,
        effectText: t.relative_change == null ? 'new' : formatChange(t.relative_change),
        detail: `throughput ${formatRate(t.base_rate)} → ${formatRate(t.recent_rate)}`, p: t.p_value,
        rank: up ? 2 : 1,
      });
    }
  }
  const size = (x) => (x.effect == null ? Infinity : Math.abs(x.effect));
  return shifts.sort((a, b) => (a.rank - b.rank) || (size(b) - size(a)) || a.op.localeCompare(b.op));
}

function shiftList(shifts) {
  if (!shifts.length) return empty('No shifts detected: latency, error rates and traffic match their baselines.');
  return h('ul', { class: 'shift-list', id: 'shift-list' }, shifts.map((x) => h('li', {
    class: `shift shift-${x.tone}`,
    dataset: { op: x.op, kind: x.kind, direction: x.direction, effect: x.effect == null ? '' : String(x.effect) },
  },
  h('span', { class: 'shift-badge' }, x.badge),
  h('span', { class: 'shift-op mono' }, x.op),
  h('span', { class: 'shift-effect' }, x.effectText),
  h('span', { class: 'shift-detail muted' }, `${x.detail} · ${formatP(x.p)}`))));
}

// --- latency against the baseline band -------------------------------------------------------

const BAND = { w: 300, h: 30, pad: 8 };

/** Baseline p50–p95 (shaded), warning and critical lines, and the recent p95 as a marker, on a
 * log scale from half the baseline p50 (so the band and the 5× line both fit). */
function bandChart(op) {
  const b = op.baseline;
  const recent = op.recent ? op.recent.p95_ms : null;
  const warn = b.p95 * WARNING_FACTOR;
  const crit = b.p95 * CRITICAL_FACTOR;
  const lo = Math.max(b.p50 / 2, 1e-6);
  const hi = Math.max(crit * 1.15, Math.min(b.p95 * 8, (recent ?? 0) * 1.1), lo * 10);
  const span = Math.log(hi / lo);
  const x = (v) => round(BAND.pad + (Math.log(Math.max(lo, Math.min(v, hi)) / lo) / span) * (BAND.w - 2 * BAND.pad));
  const mid = 19;
  let zone = 'none';
  if (recent != null) {
    if (recent > crit) zone = 'critical';
    else if (recent > warn) zone = 'warning';
    else if (recent > b.p95) zone = 'above';
    else zone = 'normal';
  }
  const parts = [
    s('line', { class: 'band-axis', x1: BAND.pad, x2: BAND.w - BAND.pad, y1: mid, y2: mid }),
    s('rect', {
      class: 'band-range', x: x(b.p50), y: mid - 6, width: Math.max(1.5, round(x(b.p95) - x(b.p50))), height: 12, rx: 2,
    }),
    s('line', { class: 'band-warning', x1: x(warn), x2: x(warn), y1: 9, y2: BAND.h - 2 }),
    s('text', { class: 'band-label band-label-warning', x: x(warn), y: 7, 'text-anchor': 'middle' }, '2×'),
    s('line', { class: 'band-critical', x1: x(crit), x2: x(crit), y1: 9, y2: BAND.h - 2 }),
    s('text', { class: 'band-label band-label-critical', x: x(crit), y: 7, 'text-anchor': 'middle' }, '5×'),
  ];
  if (recent != null) {
    const mx = x(recent);
    parts.push(s('path', {
      class: `band-marker marker-${zone}`, d: `M ${mx} ${mid - 7} L ${mx + 5} ${mid} L ${mx} ${mid + 7} L ${mx - 5} ${mid} Z`,
    }));
    if (recent > hi) parts.push(s('text', { class: 'band-label band-off', x: BAND.w - 1, y: mid + 4, 'text-anchor': 'end' }, '»'));
    if (recent < lo) parts.push(s('text', { class: 'band-label band-off', x: 1, y: mid + 4 }, '«'));
  }
  const title = [
    `${op.name}`,
    `baseline p50–p95: ${formatMs(b.p50)} – ${formatMs(b.p95)}`,
    `warning above ${formatMs(warn)} (2× p95) · critical above ${formatMs(crit)} (5× p95)`,
    recent == null ? 'no calls in the recent window' : `recent p95: ${formatMs(recent)} (${(recent / b.p95).toFixed(2)}× the baseline p95)`,
  ].join('\n');
  return s('svg', {
    class: 'band-chart', width: BAND.w, height: BAND.h, viewBox: `0 0 ${BAND.w} ${BAND.h}`, role: 'img',
    'aria-label': `Recent p95 against the baseline band of ${op.name}`, dataset: { zone },
  }, svgTitle(title), parts);
}

function learningProgress(learning) {
  const l = learning && learning.NotEnoughSamples;
  if (!l) return h('span', { class: 'muted small' }, 'no baseline');
  const fill = h('span', { class: 'bar-fill' });
  fill.style.width = `${Math.min(100, (l.have / Math.max(1, l.need)) * 100)}%`;
  return h('span', { class: 'learning' },
    h('span', { class: 'learning-text' }, `learning: ${formatCount(l.have)} of ${formatCount(l.need)} samples`),
    h('span', { class: 'mini-track learning-track' }, fill));
}

function sourceBadge(op) {
  const source = String(op.baseline_source || 'none');
  let cls = 'none';
  let text = source;
  if (source.startsWith('stored')) cls = source.includes('pinned') ? 'pinned' : 'stored';
  else if (source === 'learned') cls = 'learned';
  else if (op.learning) text = 'learning';
  return h('span', { class: `src-badge src-${cls}` }, text);
}

function trendCell(trend) {
  if (!trend) return h('td', { class: 'num muted' }, '—');
  const slope = trend.slope_per_hour;
  const text = `${slope < 0 ? '−' : '+'}${formatMs(Math.abs(slope))}/h`;
  const rising = slope > 0 && trend.r_squared >= 0.5;
  return h('td', {
    class: `num trend-cell${rising ? ' rising' : ''}`,
    title: `p95 slope over the last hour: ${text} (r² ${trend.r_squared.toFixed(2)}, ${trend.points} points)`,
  }, text);
}

function baselineTable(operations) {
  if (!operations.length) return empty('No operations recorded in the baseline window.');
  const rows = operations.map((op) => {
    const b = op.baseline;
    const r = op.recent || {};
    const slow = (r.warnings || 0) + (r.criticals || 0);
    return h('tr', {
      dataset: { op: op.name, source: op.baseline ? 'baseline' : 'none' },
      class: r.criticals > 0 ? 'has-error-row' : null,
    },
    h('td', { class: 'op-name mono' }, op.name),
    h('td', null, sourceBadge(op)),
    h('td', { class: 'num' }, b ? formatMs(b.p50) : '—'),
    h('td', { class: 'num' }, b ? formatMs(b.p95) : '—'),
    h('td', { class: 'num' }, formatMs(r.p95_ms)),
    h('td', { class: 'num' }, formatCount(r.calls ?? 0)),
    h('td', {
      class: `num ${r.criticals > 0 ? 'has-errors' : slow > 0 ? 'slow-calls' : 'muted'}`,
      title: `${formatCount(r.warnings || 0)} calls above 2× the baseline p95, ${formatCount(r.criticals || 0)} above 5×`,
    }, `${formatCount(r.warnings || 0)} / ${formatCount(r.criticals || 0)}`),
    h('td', { class: 'band-cell' }, b ? bandChart(op) : learningProgress(op.learning)),
    trendCell(op.p95_trend));
  });
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data-table baseline-table', id: 'baseline-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Operation'), h('th', null, 'Baseline'), h('th', { class: 'num' }, 'p50'),
      h('th', { class: 'num' }, 'p95'), h('th', { class: 'num' }, 'Recent p95'), h('th', { class: 'num' }, 'Recent calls'),
      h('th', { class: 'num', title: 'Recent calls above 2× / 5× the baseline p95' }, '> 2× / 5×'),
      h('th', null, 'Recent p95 vs baseline'), h('th', { class: 'num' }, 'p95 trend'))),
    h('tbody', null, rows)));
}

// --- resource charts -----------------------------------------------------------------------

/** At most `MAX_CHART_POINTS` points: averages of consecutive samples. */
function thin(points) {
  if (points.length <= MAX_CHART_POINTS) return points;
  const size = Math.ceil(points.length / MAX_CHART_POINTS);
  const out = [];
  for (let i = 0; i < points.length; i += size) {
    const chunk = points.slice(i, i + size);
    out.push([chunk.reduce((a, p) => a + p[0], 0) / chunk.length, chunk.reduce((a, p) => a + p[1], 0) / chunk.length]);
  }
  return out;
}

const C = { w: 560, h: 210, l: 62, r: 16, t: 14, b: 30 };

/**
 * A time chart: `series` [{cls, label, points: [[ms, value]]}], x from `x0` to `x1` (ms),
 * y from `yMin` (default 0) to `yMax`; `extra(x, y)` adds elements drawn over the grid.
 */
function timeChart({ id, label, series, x0, x1, yMin = 0, yMax, yFormat, extra }) {
  const span = Math.max(1, x1 - x0);
  const x = (t) => round(C.l + ((t - x0) / span) * (C.w - C.l - C.r));
  const y = (v) => round(C.h - C.b - ((Math.max(yMin, v) - yMin) / (yMax - yMin)) * (C.h - C.t - C.b));
  const grid = [];
  for (let i = 0; i <= 4; i += 1) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    grid.push(s('line', { class: 'grid', x1: C.l, x2: C.w - C.r, y1: y(v), y2: y(v) }));
    grid.push(s('text', { class: 'tick', x: C.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, yFormat(v)));
  }
  const step = [60_000, 300_000, 600_000, 900_000, 1_800_000, HOUR_MS, 2 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS]
    .find((st) => span / st <= 7) || 24 * HOUR_MS;
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
    grid.push(s('line', { class: 'grid', x1: x(t), x2: x(t), y1: C.t, y2: C.h - C.b }));
    grid.push(s('text', { class: 'tick', x: x(t), y: C.h - C.b + 16, 'text-anchor': 'middle' }, clockTime(t)));
  }
  const axis = s('line', { class: 'axis', x1: C.l, x2: C.w - C.r, y1: C.h - C.b, y2: C.h - C.b });
  const lines = series.filter((line) => line.points.length).map((line) => (line.points.length === 1
    ? s('circle', { class: `res-line ${line.cls}`, cx: x(line.points[0][0]), cy: y(line.points[0][1]), r: 2.5 }, svgTitle(line.label))
    : s('polyline', {
      class: `res-line ${line.cls}`, points: thin(line.points).map(([t, v]) => `${x(t)},${y(v)}`).join(' '),
    }, svgTitle(line.label))));
  return s('svg', {
    class: 'res-chart', id, viewBox: `0 0 ${C.w} ${C.h}`, role: 'img', 'aria-label': label,
  }, grid, axis, extra ? extra(x, y) : null, lines);
}

function legend(items) {
  return h('div', { class: 'res-legend' }, items.map(([cls, text]) => h('span', { class: 'res-key' },
    h('span', { class: `res-swatch ${cls}` }), text)));
}

/**
 * RSS over time. `forecastAt` (ms): the instant `rss_trend.forecast_bytes_in_1h` is for (the
 * server forecasts from its own clock: now + 1 h), or null to draw no forecast.
 */
function rssChart(samples, trend, forecastAt) {
  const points = samples.map((x) => [x.ts_ns / 1e6, x.process.rss_bytes]);
  const first = points[0][0];
  const last = points[points.length - 1][0];
  const raw = trend && Number.isFinite(trend.forecast_bytes_in_1h) ? trend.forecast_bytes_in_1h : null;
  const slope = trend && Number.isFinite(trend.slope_bytes_per_hour) ? trend.slope_bytes_per_hour : null;
  // The trend line from the last sample to the forecast instant, stopped where it reaches 0.
  let line = null;
  if (raw != null && slope != null && forecastAt != null && forecastAt > last) {
    const from = raw - (slope * (forecastAt - last)) / HOUR_MS;
    let end = [forecastAt, raw];
    if (raw < 0 && from > 0) end = [last + ((forecastAt - last) * from) / (from - raw), 0];
    if (from >= 0) line = { from, end };
  }
  const forecast = raw == null ? null : Math.max(0, raw);
  const x1 = line ? forecastAt : Math.max(last, first + 60_000);
  // Zoomed on the values (not from 0): a growth of a few MB an hour must show.
  const values = [...points.map((p) => p[1]), ...(line ? [line.from, line.end[1]] : [])];
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max((high - low) * 0.15, high * 0.01, 1);
  const [yMin, yMax] = niceRange(Math.max(0, low - pad), high + pad);
  const chart = timeChart({
    id: 'rss-chart', label: 'Resident memory over time, with its trend one hour ahead',
    series: [{ cls: 'line-rss', label: 'process RSS', points }],
    x0: first, x1, yMin, yMax, yFormat: formatBytes,
    extra: (x, y) => {
      if (!line) return null;
      const tip = svgTitle(`trend: ${formatBytes(forecast)} at ${clockTime(forecastAt)}`);
      return [
        s('rect', { class: 'forecast-zone', x: x(last), y: C.t, width: Math.max(0, x(x1) - x(last)), height: C.h - C.t - C.b }),
        s('line', { class: 'now-line', x1: x(last), x2: x(last), y1: C.t, y2: C.h - C.b }),
        s('text', { class: 'zone-label', x: x(last) + 4, y: C.t + 11 }, 'forecast'),
        s('line', {
          class: 'forecast-line', id: 'rss-forecast', x1: x(last), y1: y(line.from), x2: x(line.end[0]), y2: y(line.end[1]),
        }, tip),
        s('circle', { class: 'forecast-end', cx: x(line.end[0]), cy: y(line.end[1]), r: 3 }, tip),
      ];
    },
  });
  const latest = points[points.length - 1][1];
  const facts = [`latest ${formatBytes(latest)}`];
  if (line) facts.push(`in 1 h ${formatBytes(forecast)}`);
  if (trend && Number.isFinite(trend.r_squared)) facts.push(`fit r² ${trend.r_squared.toFixed(2)}`);
  return h('figure', { class: 'res-figure', id: 'rss-figure' },
    h('figcaption', { class: 'res-caption' }, h('strong', null, 'Memory (RSS)'), ' ', h('span', { class: 'muted small' }, facts.join(' · '))),
    chart,
    legend([['line-rss', 'process RSS'], ...(line ? [['line-forecast', 'trend, 1 h ahead']] : [])]),
    trend && trend.description
      ? h('p', { class: 'trend-description', id: 'rss-trend' }, trend.description)
      : h('p', { class: 'trend-description muted', id: 'rss-trend' }, 'Not enough samples for a memory trend yet.'));
}

function cpuChart(samples) {
  const proc = samples.map((x) => [x.ts_ns / 1e6, x.process.cpu_pct]);
  const host = samples.filter((x) => x.host).map((x) => [x.ts_ns / 1e6, x.host.cpu_pct]);
  const first = proc[0][0];
  const last = Math.max(proc[proc.length - 1][0], first + 60_000);
  const top = Math.max(...proc.map((p) => p[1]), ...host.map((p) => p[1]), 0);
  const chart = timeChart({
    id: 'cpu-chart', label: 'CPU use over time: the process and the whole host',
    series: [
      { cls: 'line-host-cpu', label: 'host CPU % (all cores)', points: host },
      { cls: 'line-cpu', label: 'process CPU % (of one core)', points: proc },
    ],
    x0: first, x1: last, yMax: top <= 100 ? 100 : niceCeil(top * 1.05), yFormat: (v) => `${Math.round(v)}%`,
  });
  const latest = samples[samples.length - 1];
  return h('figure', { class: 'res-figure', id: 'cpu-figure' },
    h('figcaption', { class: 'res-caption' }, h('strong', null, 'CPU'), ' ',
      h('span', { class: 'muted small' }, `process ${Number(latest.process.cpu_pct).toFixed(1)}%` +
        (latest.host ? ` · host ${Number(latest.host.cpu_pct).toFixed(1)}%` : ''))),
    chart,
    legend([['line-cpu', 'process (% of one core)'], ['line-host-cpu', 'host (% of all cores)']]));
}

// --- the view ------------------------------------------------------------------------------

function panel(id, title, ...extra) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Loading…'));
  const el = h('section', { class: 'ana-panel hl-panel', id, dataset: { state: 'loading' } },
    h('header', { class: 'ana-panel-head' }, h('h2', null, title), ...extra), body);
  return { el, body };
}

export function healthView(root, params) {
  const query = readParams(params);
  let disposed = false;
  let seq = 0;
  let first = true;
  let timer = 0;
  let controller = new AbortController();
  const openReasons = new Set();

  // --- skeleton ---
  const windowLabel = h('span', { class: 'muted small', id: 'health-window' });
  const updated = h('span', { class: 'muted small', id: 'health-updated' });
  const live = h('span', { class: 'live-indicator', title: `Reloaded every ${REFRESH_MS / 1000} s` }, `● every ${REFRESH_MS / 1000} s`);
  const refresh = h('button', { type: 'button', class: 'btn', id: 'health-refresh', title: 'Load again' }, 'Refresh');
  refresh.addEventListener('click', () => load());
  const message = h('div', { class: 'hl-message' });

  const overall = panel('health-overall', 'Overall health');
  const components = panel('health-components', 'Components', h('span', { class: 'muted small' }, 'one light per span group · hover or open for the reasons'));
  const shifts = panel('health-shifts', 'Regressions and shifts', h('span', { class: 'muted small', id: 'shift-summary' }));
  const baselines = panel('health-baselines', 'Latency against the baseline',
    h('span', { class: 'muted small band-legend' },
      h('span', { class: 'key-band' }), ' baseline p50–p95 ',
      h('span', { class: 'key-marker' }), ' recent p95 ',
      h('span', { class: 'key-warning' }), ' warning 2× p95 ',
      h('span', { class: 'key-critical' }), ' critical 5× p95 · log scale'));
  const resources = panel('health-resources', 'Resources', h('span', { class: 'muted small' }, 'the last hour · dashed: the memory trend, one hour ahead'));

  root.append(h('section', { class: 'health-view' },
    h('div', { class: 'ana-top' },
      h('h1', { class: 'page-title' }, 'Health'), windowLabel, h('span', { class: 'spacer' }), updated, live, refresh),
    message,
    h('div', { class: 'hl-grid hl-grid-top' }, overall.el, components.el),
    shifts.el, baselines.el, resources.el));

  const snapshotUrl = () => withQuery('/api/snapshot', query);

  function renderSnapshot(snap) {
    const recentS = query.recent_s ?? DEFAULT_RECENT_S;
    const baselineH = query.baseline_h ?? DEFAULT_BASELINE_H;
    windowLabel.textContent = `as of ${formatTime(snap.generated_ns).slice(0, 19)} · the last ${formatCount(recentS)} s ` +
      `against a ${formatCount(baselineH)} h baseline`;

    overall.el.dataset.state = 'loaded';
    overall.el.dataset.level = snap.overall.level;
    overall.body.replaceChildren(h('div', { class: `hl-overall level-${levelClass(snap.overall.level)}` },
      gauge(snap.overall),
      h('div', { class: 'hl-reasons' },
        h('h3', { class: 'panel-title' }, snap.overall.score >= 100 ? 'Full marks' : `Why not 100`),
        reasonList(snap.overall.reasons, 'overall-reasons'))));

    const comps = snap.components || [];
    components.el.dataset.state = comps.length ? 'loaded' : 'empty';
    components.body.replaceChildren(comps.length
      ? h('div', { class: 'hc-grid', id: 'component-cards' }, comps.map((c) => componentCard(c, openReasons)))
      : empty('No components: nothing was recorded in the baseline window.'));

    const found = collectShifts(snap.operations || []);
    shifts.el.dataset.state = found.length ? 'loaded' : 'empty';
    const bad = found.filter((x) => x.tone === 'bad').length;
    const good = found.filter((x) => x.tone === 'good').length;
    const traffic = found.length - bad - good;
    shifts.el.querySelector('#shift-summary').textContent = found.length
      ? [`${bad} regression${bad === 1 ? '' : 's'}`, `${good} improvement${good === 1 ? '' : 's'}`,
        `${traffic} traffic shift${traffic === 1 ? '' : 's'}`].join(' · ')
      : '';
    shifts.body.replaceChildren(shiftList(found));

    const ops = snap.operations || [];
    baselines.el.dataset.state = ops.length ? 'loaded' : 'empty';
    baselines.body.replaceChildren(baselineTable(ops));
  }

  function renderResources(result) {
    if (result.status === 'rejected') {
      const err = result.reason;
      if (err instanceof ApiError && err.status === 404) {
        resources.el.dataset.state = 'unavailable';
        resources.body.replaceChildren(empty('Resource samples are not available from this server.'));
      } else {
        resources.el.dataset.state = 'failed';
        resources.body.replaceChildren(err instanceof ApiError && err.status === 401 ? empty('—') : errorBox(err));
      }
      return;
    }
    const data = result.value || {};
    let samples = Array.isArray(data.samples) ? data.samples.filter((x) => x && x.process && Number.isFinite(x.ts_ns)) : [];
    if (query.at != null) samples = samples.filter((x) => x.ts_ns <= query.at * 1e6);
    samples.sort((a, b) => a.ts_ns - b.ts_ns);
    if (!samples.length) {
      resources.el.dataset.state = 'empty';
      resources.body.replaceChildren(empty('No resource samples in the last hour: the SDK records them while its resource sampler runs.'));
      return;
    }
    resources.el.dataset.state = 'loaded';
    // The forecast is for the server's now + 1 h: shown unless looking at another instant.
    const now = Date.now();
    const forecastAt = query.at == null || Math.abs(now - query.at) < FORECAST_MAX_SKEW_MS ? now + FORECAST_MS : null;
    resources.body.replaceChildren(h('div', { class: 'hl-grid hl-grid-2' },
      rssChart(samples, data.rss_trend || null, forecastAt), cpuChart(samples)));
  }

  async function load() {
    const mine = ++seq;
    clearTimeout(timer);
    controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    const view = root.querySelector('.health-view');
    view.classList.add('loading');
    const since = (query.at ?? Date.now()) - RESOURCE_WINDOW_MS;
    const [snapR, resR] = await Promise.allSettled([
      api(snapshotUrl(), { signal }),
      api(withQuery('/api/resources', { since, until: query.at ?? undefined }), { signal }),
    ]);
    if (disposed || mine !== seq) return;
    view.classList.remove('loading');
    const failures = [snapR, resR].filter((r) => r.status === 'rejected').map((r) => r.reason);
    if (failures.some((e) => e && e.name === 'AbortError')) return;
    const signedOut = failures.find((e) => e instanceof ApiError && e.status === 401);
    // Figures that could not be reloaded stay, dimmed, under the error.
    view.classList.toggle('stale', snapR.status !== 'fulfilled');
    if (snapR.status === 'fulfilled') {
      message.replaceChildren();
      renderSnapshot(snapR.value);
      updated.textContent = `updated ${formatTime(Date.now() * 1e6).slice(11, 19)}`;
    } else {
      message.replaceChildren(errorBox(snapR.reason));
      for (const p of [overall, components, shifts, baselines]) {
        if (p.el.dataset.state === 'loading') {
          p.el.dataset.state = 'failed';
          p.body.replaceChildren(empty('—'));
        }
      }
    }
    renderResources(signedOut ? { status: 'rejected', reason: signedOut } : resR);
    live.hidden = Boolean(signedOut);
    if (!signedOut) timer = setTimeout(load, REFRESH_MS);
    if (first) {
      first = false;
      markReady('health');
    }
  }

  load();

  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
}
