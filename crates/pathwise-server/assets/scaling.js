// The Scaling panel of the Analysis page: how a node's duration grows with the size of its
// input (GET /api/scaling). A log-log scatter of the node's calls with the fitted power law,
// the growth exponent ("≈ O(n^1.9)") with its 95 % interval, and a flag when growth is
// super-linear. The node is picked from the window's nodes, the size field from the fields
// its calls carry (/api/scaling/fields); with neither chosen, the panel tries the most called
// nodes until one has a size field. Names from the data are inserted as text only.

import { api, errorBox, formatCount, formatMs, h, withQuery } from './util.js';
import { round, s, svgTitle } from './charts.js';

/** Nodes tried, most called first, when no node is chosen. */
const AUTO_PICK_NODES = 8;

// Kept across navigations; `#/analysis?scale_node=&scale_size=` sets it.
const state = { node: '', size: '' };

/** Reads `scale_node` and `scale_size` from the page's parameters. */
export function applyScalingParams(params) {
  if (params.get('scale_node')) state.node = params.get('scale_node');
  if (params.get('scale_size')) state.size = params.get('scale_size');
}

const empty = (text) => h('p', { class: 'empty-state' }, text);

/** A size for an axis or a tooltip: whole numbers grouped, small ones with two digits. */
function formatSize(v) {
  return v >= 10 ? formatCount(Math.round(v)) : String(Number(v.toPrecision(2)));
}

/** Tick values for a log axis over [lo, hi]: decades, or 1-2-5 steps within a short range. */
function logTicks(lo, hi) {
  const from = Math.floor(Math.log10(lo));
  const to = Math.ceil(Math.log10(hi));
  const steps = Math.log10(hi / lo) <= 2.2 ? [1, 2, 5] : [1];
  const ticks = [];
  for (let d = from; d <= to; d += 1) {
    for (const m of steps) {
      const v = m * 10 ** d;
      if (v >= lo / 1.0001 && v <= hi * 1.0001) ticks.push(v);
    }
  }
  return ticks;
}

/** The scatter of `points` on log axes, with the fitted line when there is a fit. */
function plot(data) {
  const W = 600;
  const H = 300;
  const m = { l: 70, r: 20, t: 14, b: 42 };
  const points = data.points;
  const fit = data.fit;
  const sizes = points.map((p) => p.size);
  const times = points.map((p) => p.duration_ms);
  if (fit) times.push(fit.coefficient * fit.min_size ** fit.exponent, fit.coefficient * fit.max_size ** fit.exponent);
  // Pad the ranges by a few percent so that no dot sits on an axis.
  const [xLo, xHi] = [Math.min(...sizes) / 1.15, Math.max(...sizes) * 1.15];
  const [yLo, yHi] = [Math.min(...times) / 1.3, Math.max(...times) * 1.3];
  const lx = (v) => (Math.log10(v) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo));
  const ly = (v) => (Math.log10(v) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo));
  const x = (v) => m.l + lx(v) * (W - m.l - m.r);
  const y = (v) => H - m.b - ly(v) * (H - m.t - m.b);

  const grid = [];
  for (const v of logTicks(xLo, xHi)) {
    grid.push(s('line', { class: 'grid', x1: round(x(v)), x2: round(x(v)), y1: m.t, y2: H - m.b }));
    grid.push(s('text', { class: 'tick', x: round(x(v)), y: H - m.b + 16, 'text-anchor': 'middle' }, formatSize(v)));
  }
  for (const v of logTicks(yLo, yHi)) {
    grid.push(s('line', { class: 'grid', x1: m.l, x2: W - m.r, y1: round(y(v)), y2: round(y(v)) }));
    grid.push(s('text', { class: 'tick', x: m.l - 6, y: round(y(v)) + 4, 'text-anchor': 'end' }, formatMs(v)));
  }
  const axes = [
    s('line', { class: 'axis', x1: m.l, x2: W - m.r, y1: H - m.b, y2: H - m.b }),
    s('line', { class: 'axis', x1: m.l, x2: m.l, y1: m.t, y2: H - m.b }),
    s('text', { class: 'axis-title', x: (m.l + W - m.r) / 2, y: H - 6, 'text-anchor': 'middle' }, `${data.size} (log scale)`),
    s('text', { class: 'axis-title', x: 12, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, 'duration (log scale)'),
  ];
  const dots = points.map((p) => s('circle', {
    class: 'scaling-dot', cx: round(x(p.size)), cy: round(y(p.duration_ms)), r: 3.5,
  }, svgTitle(`${data.size} ${formatSize(p.size)} · ${formatMs(p.duration_ms)}`)));
  const line = fit ? s('line', {
    class: `scaling-fit${fit.super_linear ? ' super-linear' : ''}`, id: 'scaling-fit',
    x1: round(x(fit.min_size)), y1: round(y(fit.coefficient * fit.min_size ** fit.exponent)),
    x2: round(x(fit.max_size)), y2: round(y(fit.coefficient * fit.max_size ** fit.exponent)),
    dataset: { exponent: fit.exponent },
  }, svgTitle(fit.summary)) : null;
  return s('svg', {
    class: 'scatter scaling-plot', id: 'scaling-plot', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `Duration of ${data.node} against ${data.size}, log-log, one dot per call`,
  }, grid, axes, dots, line);
}

/** The verdict above the plot: the exponent and its class, or why there is none. */
function verdict(data) {
  const fit = data.fit;
  const counts = h('p', { class: 'muted small scaling-counts' },
    `${formatCount(data.used)} of the newest ${formatCount(data.calls)} calls fitted`,
    data.failed ? ` · ${formatCount(data.failed)} failed left out` : '',
    data.without_size ? ` · ${formatCount(data.without_size)} without a size` : '',
    data.not_positive ? ` · ${formatCount(data.not_positive)} at size or duration 0` : '');
  if (!fit) {
    return [h('p', { class: 'scaling-summary refused', id: 'scaling-summary' }, `No exponent: ${data.refused}`), counts];
  }
  const line = h('p', { class: `scaling-summary${fit.super_linear ? ' super-linear' : ''}`, id: 'scaling-summary', dataset: { growth: fit.growth } },
    h('strong', { class: 'scaling-complexity' }, `≈ ${fit.complexity}`),
    ` exponent ${fit.exponent.toFixed(2)} (95 % interval ${fit.ci_low.toFixed(2)}–${fit.ci_high.toFixed(2)}, r² ${fit.r_squared.toFixed(2)}): ${fit.growth.replace('_', '-')}`,
    fit.super_linear ? h('span', { class: 'flag-badge', title: 'The whole interval lies above 1.1: cost grows faster than the input' }, 'super-linear') : null);
  const formula = h('p', { class: 'muted small' },
    `duration ≈ ${formatMs(fit.coefficient)} · n^${fit.exponent.toFixed(2)} for ${data.size} from ${formatSize(fit.min_size)} to ${formatSize(fit.max_size)}`,
    fit.super_linear ? ` · doubling it multiplies the time by about ${(2 ** fit.exponent).toFixed(1)}` : '');
  return [line, formula, counts];
}

/** The panel: `load(sinceMs, nodes, signal)` after each load of the page. */
export function scalingPanel() {
  let since = 0;
  let seq = 0;
  let controller = new AbortController();

  const nodeSelect = h('select', { id: 'scaling-node', 'aria-label': 'Node' });
  const sizeInput = h('input', {
    type: 'text', id: 'scaling-size', class: 'search attr-input', list: 'scaling-sizes', 'aria-label': 'Size field',
    autocomplete: 'off', spellcheck: 'false', maxlength: '200', placeholder: 'attribute or input.<argument>',
  });
  const sizeChoices = h('datalist', { id: 'scaling-sizes' });
  const form = h('form', { class: 'pattern-form scaling-form', id: 'scaling-form' },
    h('label', { for: 'scaling-node' }, 'Node'), nodeSelect,
    h('label', { for: 'scaling-size' }, 'Size'), sizeInput, sizeChoices,
    h('button', { type: 'submit', class: 'btn' }, 'Fit'));
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Loading…'));
  const el = h('section', { class: 'ana-panel', id: 'scaling-panel' },
    h('header', { class: 'ana-panel-head' }, h('h2', null, 'Scaling'),
      h('span', { class: 'muted small' }, 'duration against input size · log-log · one dot per call')),
    form, body);

  /** A fresh request context: earlier requests of the panel are dropped. */
  function begin() {
    controller.abort();
    controller = new AbortController();
    seq += 1;
    return { mine: seq, signal: controller.signal };
  }

  function failed(err, mine) {
    if (mine !== seq || err.name === 'AbortError') return;
    el.dataset.state = 'failed';
    body.replaceChildren(errorBox(err));
  }

  /** The size fields of `node`, offered in the datalist. */
  async function fields(node, signal) {
    const data = await api(withQuery('/api/scaling/fields', { node, since }), { signal });
    sizeChoices.replaceChildren(...data.fields.map((f) => h('option', { value: f.size },
      `${formatCount(f.calls)} calls · ${formatSize(f.min)}–${formatSize(f.max)}`)));
    return data.fields;
  }

  async function fit() {
    const { mine, signal } = begin();
    const node = state.node;
    const size = state.size;
    if (!node || !size) {
      el.dataset.state = 'loaded';
      body.replaceChildren(empty(node ? `No call of ${node} carries a numeric attribute or a sized argument in this window: type a size field.` : 'Pick a node whose calls carry a size.'));
      return;
    }
    el.dataset.state = 'loading';
    try {
      const data = await api(withQuery('/api/scaling', { node, size, since }), { signal });
      if (mine !== seq) return;
      el.dataset.state = 'loaded';
      el.classList.toggle('flagged', Boolean(data.fit && data.fit.super_linear));
      body.replaceChildren(...verdict(data), data.points.length ? plot(data) : empty('No call with a size to draw.'));
    } catch (err) {
      failed(err, mine);
    }
  }

  /** After a node is chosen: offers its fields, keeps a size it has, else takes its first. */
  async function chooseNode(node) {
    state.node = node;
    if (!node) {
      state.size = '';
      sizeInput.value = '';
      sizeChoices.replaceChildren();
      fit();
      return;
    }
    const { mine, signal } = begin();
    el.dataset.state = 'loading';
    try {
      const offered = await fields(node, signal);
      if (mine !== seq) return;
      if (!offered.some((f) => f.size === state.size)) state.size = offered.length ? offered[0].size : '';
      sizeInput.value = state.size;
      await fit();
    } catch (err) {
      failed(err, mine);
    }
  }

  /** With no node chosen: the first of the most called nodes with a size field spanning enough. */
  async function autoPick(nodes) {
    const { mine, signal } = begin();
    el.dataset.state = 'loading';
    try {
      for (const n of nodes.slice(0, AUTO_PICK_NODES)) {
        const offered = await fields(n.key, signal);
        if (mine !== seq) return;
        const good = offered.find((f) => f.enough_range);
        if (good) {
          state.node = n.key;
          state.size = good.size;
          nodeSelect.value = n.key;
          sizeInput.value = good.size;
          await fit();
          return;
        }
      }
      sizeChoices.replaceChildren();
      el.dataset.state = 'loaded';
      body.replaceChildren(empty('None of the most called nodes carries a size that varies enough: pick a node and type a size field (an attribute, or input.<argument>).'));
    } catch (err) {
      failed(err, mine);
    }
  }

  nodeSelect.addEventListener('change', () => chooseNode(nodeSelect.value));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    state.node = nodeSelect.value;
    state.size = sizeInput.value.trim();
    fit();
  });

  return {
    el,
    /** Shows `—` (the page could not load). */
    blank() {
      begin();
      body.replaceChildren(empty('—'));
    },
    /** Loads for the window starting at `sinceMs`, offering `nodes` (most called first). */
    load(sinceMs, nodes, pageSignal) {
      since = sinceMs;
      pageSignal.addEventListener('abort', () => controller.abort(), { once: true });
      const ordered = nodes.slice().sort((a, b) => b.calls - a.calls);
      const known = ordered.some((n) => n.key === state.node);
      const options = ordered.map((n) => h('option', { value: n.key }, n.key));
      // A node chosen earlier (or by the address) stays offered even if this window lacks it.
      if (state.node && !known) options.unshift(h('option', { value: state.node }, state.node));
      nodeSelect.replaceChildren(h('option', { value: '' }, '— node —'), ...options);
      nodeSelect.value = state.node;
      sizeInput.value = state.size;
      if (!state.node) {
        autoPick(ordered);
      } else if (!state.size) {
        chooseNode(state.node);
      } else {
        fields(state.node, pageSignal).catch(() => {});
        fit();
      }
    },
  };
}
