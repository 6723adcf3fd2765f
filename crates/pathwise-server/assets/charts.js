// The resource charts of the Health page, drawn as SVG here (no library): memory (RSS) with
// its trend when one may be forecast, and CPU. Axes fit the data: a forecast that leaves the
// data's range is cut at the chart's edge rather than stretching the axis until the samples
// are a flat line. Also the SVG helpers the Health page's other charts use.

import { formatBytes, formatTime, h } from './util.js';

const HOUR_MS = 3_600_000;
const MAX_CHART_POINTS = 600;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes via setAttribute, children as nodes or text. */
export function s(tag, attrs, ...children) {
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

export const svgTitle = (text) => s('title', null, text);
export const round = (n) => Math.round(n * 10) / 10;

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

/** What may be said about the RSS: the server's outlook, or (older servers) a bare trend. */
function outlookOf(data) {
  if (data.rss_outlook && data.rss_outlook.status) return data.rss_outlook;
  return data.rss_trend ? { status: 'forecast' } : { status: 'not_enough_data', reason: '' };
}

/** The sentence under the RSS chart: the trend with its band, or why there is none. */
function rssText(outlook, trend, samples) {
  const p = (text, cls) => h('p', { class: `trend-description ${cls}`, id: 'rss-trend', dataset: { outlook: outlook.status } }, text);
  if (outlook.status === 'stale') {
    const last = samples[samples.length - 1].ts_ns;
    return p(`Stale: no samples since ${formatTime(last).slice(11, 19)} (${Math.round(outlook.age_s / 60)} min ago) — ` +
      'the process stopped reporting, so nothing is forecast.', 'stale-note');
  }
  if (outlook.status !== 'forecast' || !trend) {
    const counts = outlook.samples == null ? ''
      : `: ${outlook.samples} samples over ${Math.round(outlook.span_s)} s; a trend needs at least ` +
        `${outlook.need_samples} samples over ${Math.round(outlook.need_span_s / 60)} min`;
    return p(`Not enough data for a memory trend${counts}.`, 'muted');
  }
  // The server words the band in the description's units (powers of 1024).
  const bandText = trend.band_description ? ` (${trend.band_description})` : '';
  return p(`${trend.description || ''}${bandText}`, '');
}

/**
 * RSS over time. `forecastAt` (ms): the instant `rss_trend.forecast_bytes_in_1h` is for (the
 * server forecasts from its own clock: now + 1 h), or null to draw no forecast. The y-axis is
 * fitted to the samples; the trend line and its band are clipped to the plot.
 */
export function rssChart(samples, data, forecastAt) {
  const outlook = outlookOf(data);
  const trend = outlook.status === 'forecast' ? data.rss_trend : null;
  const points = samples.map((x) => [x.ts_ns / 1e6, x.process.rss_bytes]);
  const first = points[0][0];
  const last = points[points.length - 1][0];
  const raw = trend && Number.isFinite(trend.forecast_bytes_in_1h) ? trend.forecast_bytes_in_1h : null;
  const slope = trend && Number.isFinite(trend.slope_bytes_per_hour) ? trend.slope_bytes_per_hour : null;
  // The trend from the last sample to the forecast instant, with the band's slopes beside it.
  let line = null;
  if (raw != null && slope != null && forecastAt != null && forecastAt > last) {
    const hours = (forecastAt - last) / HOUR_MS;
    const from = raw - slope * hours;
    const band = (trend.slope_band_bytes_per_hour || []).filter(Number.isFinite);
    line = { from, to: raw, band: band.length === 2 ? band.map((b) => from + b * hours) : null };
  }
  const x1 = line ? forecastAt : Math.max(last, first + 60_000);
  // Zoomed on the samples (not from 0): a growth of a few MB an hour must show.
  const values = points.map((p) => p[1]);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = Math.max((high - low) * 0.15, high * 0.01, 1);
  const [yMin, yMax] = niceRange(Math.max(0, low - pad), high + pad);
  const clip = { 'clip-path': 'url(#rss-plot)' };
  const chart = timeChart({
    id: 'rss-chart', label: 'Resident memory over time, with its trend one hour ahead when there is enough data',
    series: [{ cls: 'line-rss', label: 'process RSS', points }],
    x0: first, x1, yMin, yMax, yFormat: formatBytes,
    extra: (x, y) => {
      if (!line) return null;
      // Unclamped: the clip path, not the scale, keeps the line inside the plot.
      const yy = (v) => round(C.h - C.b - ((v - yMin) / (yMax - yMin)) * (C.h - C.t - C.b));
      const tip = svgTitle(`trend: ${formatBytes(Math.max(0, line.to))} at ${clockTime(forecastAt)}`);
      return [
        s('clipPath', { id: 'rss-plot' }, s('rect', { x: C.l, y: C.t, width: C.w - C.l - C.r, height: C.h - C.t - C.b })),
        s('rect', { class: 'forecast-zone', x: x(last), y: C.t, width: Math.max(0, x(x1) - x(last)), height: C.h - C.t - C.b }),
        s('line', { class: 'now-line', x1: x(last), x2: x(last), y1: C.t, y2: C.h - C.b }),
        s('text', { class: 'zone-label', x: x(last) + 4, y: C.t + 11 }, 'forecast'),
        line.band ? s('path', {
          class: 'forecast-band', id: 'rss-band', ...clip,
          d: `M ${x(last)} ${yy(line.from)} L ${x(forecastAt)} ${yy(line.band[0])} L ${x(forecastAt)} ${yy(line.band[1])} Z`,
        }, svgTitle('95 % band of the trend')) : null,
        s('line', {
          class: 'forecast-line', id: 'rss-forecast', ...clip, x1: x(last), y1: yy(line.from), x2: x(forecastAt), y2: yy(line.to),
        }, tip),
      ];
    },
  });
  chart.dataset.yMax = String(yMax);
  chart.dataset.dataMax = String(high);
  const facts = [`latest ${formatBytes(points[points.length - 1][1])}`];
  if (line) facts.push(`trend in 1 h ${formatBytes(Math.max(0, line.to))}`);
  if (trend && Number.isFinite(trend.r_squared)) facts.push(`fit r² ${trend.r_squared.toFixed(2)}`);
  return h('figure', { class: 'res-figure', id: 'rss-figure', dataset: { outlook: outlook.status } },
    h('figcaption', { class: 'res-caption' }, h('strong', null, 'Memory (RSS)'), ' ', h('span', { class: 'muted small' }, facts.join(' · '))),
    chart,
    legend([['line-rss', 'process RSS'], ...(line ? [['line-forecast', 'trend, 1 h ahead (shaded: 95 % band)']] : [])]),
    rssText(outlook, data.rss_trend, samples));
}

export function cpuChart(samples) {
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

