// The Health page (#/health): how well the system is doing right now.
//
// Panels: the overall score as a gauge with the reasons it lost points; one traffic light per
// component (span group); latency, error-rate and throughput shifts against the baseline in
// force; each operation's p95 over all calls, its recent p95 against its baseline band (the
// baseline leaves outliers out and says how many); process resources (RSS with its trend
// forecast one hour ahead when there is enough data, CPU; charts in charts.js). Data: /api/snapshot (one consistent picture of health,
// operations and shifts) and /api/resources; both reloaded every 10 s. The address may carry
// `at` (Unix ms), `recent_s` and `baseline_h`, passed on to the API. Every chart is drawn here
// (no library); every name coming from the data is inserted as text.

import {
  ApiError, api, errorBox, formatCount, formatMs, formatPercent, formatTime, h, markReady,
  withQuery,
} from './util.js';
import { baselineTable } from './baselines.js';
import { operationHref, recentWindow } from './drill.js';
import { cpuChart, round, rssChart, s, svgTitle } from './charts.js';

const REFRESH_MS = 10_000;
const RESOURCE_WINDOW_MS = 3_600_000;
const FORECAST_MS = 3_600_000;
/** With `at` further than this from now, the server's forecast (from now) is not drawn. */
const FORECAST_MAX_SKEW_MS = 600_000;
const DEFAULT_RECENT_S = 60;
const DEFAULT_BASELINE_H = 24;
const WARNING_FACTOR = 2;
const LEVELS = ['Excellent', 'Good', 'Warning', 'Critical'];

// --- small helpers -------------------------------------------------------------------------

const empty = (text) => h('p', { class: 'empty-state' }, text);

/** `Excellent` → `excellent`; anything unknown → `unknown`. */
function levelClass(level) {
  return LEVELS.includes(level) ? level.toLowerCase() : 'unknown';
}

/** Reasons costing nothing ("… unknown … (cost 0 points)") are shown muted. */
const costsNothing = (reason) => /\(cost 0 points\)\s*$/.test(String(reason));

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
    fact('Calls (5 min)', formatCount(c.calls)),
    fact('Failed calls', formatCount(c.errors), c.errors > 0 ? 'has-errors' : 'muted'),
    fact('Cache hits (of lookups)', c.cache_hit_rate == null ? '—' : formatPercent(c.cache_hit_rate)),
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
        slowerThanMs: l.base_median,
        detail: `median ${formatMs(l.base_median)} → ${formatMs(l.recent_median)}` +
          (op.shifted_since_ns ? ` since ${formatTime(op.shifted_since_ns).slice(11, 16)}` : ''), p: l.p_value,
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
        detail: `error rate (of calls) ${formatPercent(e.base_rate)} → ${formatPercent(e.recent_rate)}`, p: e.p_value,
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
        detail: `throughput (calls) ${formatRate(t.base_rate)} → ${formatRate(t.recent_rate)}`, p: t.p_value,
        rank: up ? 2 : 1,
      });
    }
  }
  const size = (x) => (x.effect == null ? Infinity : Math.abs(x.effect));
  return shifts.sort((a, b) => (a.rank - b.rank) || (size(b) - size(a)) || a.op.localeCompare(b.op));
}

/** Operations with no call in the recent window: "no data", never a 100 % drop. */
function noDataNote(operations, recentS) {
  const quiet = operations.filter((op) => op.recent && op.recent.no_data).map((op) => op.name);
  if (!quiet.length) return null;
  const all = quiet.length === operations.length;
  return h('p', { class: 'muted small', id: 'no-data-note', title: quiet.join('\n') },
    `No data in the last ${formatCount(recentS)} s for ${all ? 'any operation' : `${quiet.length} operation${quiet.length === 1 ? '' : 's'}`}` +
    ': nothing to compare with the baseline (no calls is not a drop in traffic).');
}

/** What a shift's traces are: the slow recent calls, the failed ones, or all recent calls. */
function shiftExtra(x) {
  if (x.kind === 'latency' && x.direction === 'regression' && Number.isFinite(x.slowerThanMs)) {
    return `duration_ms > ${Math.floor(x.slowerThanMs * 1000) / 1000}`;
  }
  if (x.kind === 'error-rate') return 'status == failed';
  return null;
}

function shiftList(shifts, operations, recentS, recent) {
  const note = noDataNote(operations, recentS);
  if (!shifts.length) {
    return h('div', null, note, note && operations.every((op) => op.recent && op.recent.no_data) ? null
      : empty('No shifts detected: latency, error rates and traffic match their baselines.'));
  }
  return h('div', null, note, h('ul', { class: 'shift-list', id: 'shift-list' }, shifts.map((x) => h('li', {
    class: `shift shift-${x.tone}`,
    dataset: { op: x.op, kind: x.kind, direction: x.direction, effect: x.effect == null ? '' : String(x.effect) },
  },
  h('span', { class: 'shift-badge' }, x.badge),
  h('span', { class: 'shift-op mono' }, x.op),
  h('span', { class: 'shift-effect' }, x.effectText),
  h('span', { class: 'shift-detail muted' }, `${x.detail} · ${formatP(x.p)}`),
  h('a', { class: 'shift-traces', href: operationHref(x.op, recent, shiftExtra(x)), title: 'The recent calls behind this shift' }, 'traces')))));
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
    const recent = recentWindow(snap.generated_ns, recentS, query.at != null);
    shifts.body.replaceChildren(shiftList(found, snap.operations || [], recentS, recent));

    const ops = snap.operations || [];
    baselines.el.dataset.state = ops.length ? 'loaded' : 'empty';
    baselines.body.replaceChildren(baselineTable(ops, recent));
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
      rssChart(samples, data, forecastAt), cpuChart(samples)));
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
