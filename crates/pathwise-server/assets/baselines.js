// The Health page's table of operations against their baselines: each operation's p95 over
// all calls (the headline figure, the same as the Analysis page's), the baseline in force
// with the outliers it left out, the recent window ("no data" when it is empty), the recent
// p95 on the baseline band, and the p95 trend when there is enough data for one.

import { operationHref } from './drill.js';
import { formatCount, formatMs, formatPercent, h } from './util.js';
import { round, s, svgTitle } from './charts.js';

const WARNING_FACTOR = 2;
const CRITICAL_FACTOR = 5;

const empty = (text) => h('p', { class: 'empty-state' }, text);

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

function trendCell(outlook) {
  if (!outlook || outlook.status !== 'forecast') {
    const text = outlook && outlook.status === 'stale' ? 'stale' : 'not enough data';
    return h('td', { class: 'num muted trend-cell', title: (outlook && outlook.reason) || text }, text);
  }
  const { trend } = outlook;
  const slope = trend.slope_per_hour;
  const text = `${slope < 0 ? '−' : '+'}${formatMs(Math.abs(slope))}/h`;
  const rising = slope > 0 && trend.r_squared >= 0.5;
  return h('td', {
    class: `num trend-cell${rising ? ' rising' : ''}`,
    title: `p95 slope over the last hour: ${text} (r² ${trend.r_squared.toFixed(2)}, ${trend.points} points)`,
  }, text);
}

function allTitle(all) {
  if (!all) return '';
  return `${formatCount(all.calls)} calls, ${formatCount(all.failed_calls)} failed` +
    (all.error_rate_of_calls == null ? '' : ` (${formatPercent(all.error_rate_of_calls)} of calls)`) +
    ` · p50 ${formatMs(all.p50_ms)} · p95 ${formatMs(all.p95_ms)} · p99 ${formatMs(all.p99_ms)}`;
}

export function baselineTable(operations, recent) {
  if (!operations.length) return empty('No operations recorded in the baseline window.');
  const rows = operations.map((op) => {
    const b = op.baseline;
    const r = op.recent || {};
    const slow = (r.warnings || 0) + (r.criticals || 0);
    return h('tr', {
      dataset: { op: op.name, source: op.baseline ? 'baseline' : 'none' },
      class: r.criticals > 0 ? 'has-error-row' : null,
    },
    h('td', { class: 'op-name mono' }, recent ? h('a', { class: 'drill', href: operationHref(op.name, recent), title: 'Its recent calls' }, op.name) : op.name),
    h('td', null, sourceBadge(op)),
    h('td', { class: 'num all-p95', title: allTitle(op.all_calls) }, formatMs(op.all_calls && op.all_calls.p95_ms)),
    h('td', { class: 'num' }, b ? formatMs(b.p50) : '—'),
    h('td', { class: 'num base-p95', title: op.baseline_outliers || '' }, b ? formatMs(b.p95) : '—',
      b && b.outliers > 0 ? h('span', { class: 'outlier-count muted small' }, ` −${formatCount(b.outliers)} outliers`) : null),
    h('td', { class: 'num' }, r.no_data ? h('span', { class: 'muted no-data' }, 'no data') : formatMs(r.p95_ms)),
    h('td', { class: 'num' }, formatCount(r.calls ?? 0)),
    h('td', {
      class: `num ${r.criticals > 0 ? 'has-errors' : slow > 0 ? 'slow-calls' : 'muted'}`,
      title: `${formatCount(r.warnings || 0)} calls above 2× the baseline p95, ${formatCount(r.criticals || 0)} above 5×`,
    }, recent && b && slow > 0
      ? h('a', { class: 'drill', dataset: { drill: 'slow' }, href: operationHref(op.name, recent, `duration_ms > ${Math.floor(2 * b.p95 * 1000) / 1000}`) },
        `${formatCount(r.warnings || 0)} / ${formatCount(r.criticals || 0)}`)
      : `${formatCount(r.warnings || 0)} / ${formatCount(r.criticals || 0)}`),
    h('td', { class: 'band-cell' }, b ? bandChart(op) : learningProgress(op.learning)),
    trendCell(op.p95_trend));
  });
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data-table baseline-table', id: 'baseline-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Operation'), h('th', null, 'Baseline'),
      h('th', { class: 'num', title: 'p95 of every call in the baseline and recent windows, nothing left out: the same figure as the Analysis page' }, 'p95 (all calls)'),
      h('th', { class: 'num', title: 'The baseline\'s p50, after leaving out outliers' }, 'Baseline p50'),
      h('th', { class: 'num', title: 'The baseline\'s p95, after leaving out outliers (hover a value for how many and why)' }, 'Baseline p95'),
      h('th', { class: 'num' }, 'Recent p95'), h('th', { class: 'num' }, 'Recent calls'),
      h('th', { class: 'num', title: 'Recent calls above 2× / 5× the baseline p95' }, '> 2× / 5×'),
      h('th', null, 'Recent p95 vs baseline'), h('th', { class: 'num' }, 'p95 trend'))),
    h('tbody', null, rows)));
}
