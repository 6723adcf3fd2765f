// The decision funnel (#/funnel?name=<trace name>&range=24h): for the decision traces of one
// name (GET /api/funnel), how many reach each step and fail there, and — for a step that
// records evaluations — a Sankey of its candidates through the filters: the band narrows at
// each filter by the items that filter was the first to reject (each evaluation's own filter
// order), and what is left qualifies. Every count links to traces: a step's traces and its
// failed ones as queries, a filter's rejections as example traces. Below, the slowest steps
// over time (GET /api/heatmap/steps): a row per step, colour = its p95 in that column, a cell
// opening the runs of the step at or above that p95.

import {
  api, errorBox, formatCount, formatMs, formatPercent, h, knownRange, markReady, rangePicker, withQuery,
} from './util.js';
import { s, svgTitle } from './charts.js';
import { atOrAbove, literal, tracesHref } from './drill.js';
import { columnQuery, heatGrid } from './heatmap.js';

const SANKEY = { width: 760, band: 120, top: 28, drop: 70, node: 10 };

/** The list query for the traces of `name` that ran `step` (failed in it with `failed`). */
function stepQuery(name, step, failed) {
  const query = `trace.name == ${literal(name)} AND kind == step AND name == ${literal(step)}`;
  return failed ? `${query} AND status == failed` : query;
}

function traceLinks(ids, label) {
  if (!ids || !ids.length) return null;
  return h('span', { class: 'funnel-examples' }, `${label}: `,
    ids.map((id, i) => h('a', { href: `#/trace/${id}`, class: 'mono small', dataset: { traceId: id } },
      `${id.slice(0, 8)}${i < ids.length - 1 ? ' ' : ''}`)));
}

/** `el` as wide as `share` of its track (CSSOM: the page's CSP refuses style attributes). */
function widthOf(el, share) {
  el.style.width = `${(share * 100).toFixed(2)}%`;
  return el;
}

/** One row of the trace funnel: a bar as wide as the share of traces reaching the step. */
function stepRow(data, step, range) {
  const share = data.traces ? step.traces / data.traces : 0;
  const failedShare = data.traces ? step.failed_traces / data.traces : 0;
  return h('div', { class: 'funnel-step', dataset: { step: step.name, traces: String(step.traces), failed: String(step.failed_traces) } },
    h('div', { class: 'funnel-step-name' },
      h('a', { href: tracesHref(stepQuery(data.name, step.name, false), range), title: 'The traces that ran this step' }, step.name)),
    h('div', { class: 'funnel-track', title: `${formatCount(step.traces)} of ${formatCount(data.traces)} traces` },
      widthOf(h('div', { class: 'funnel-bar' }), share),
      widthOf(h('div', { class: 'funnel-bar-failed' }), failedShare)),
    h('div', { class: 'funnel-step-figures' },
      h('span', { class: 'funnel-reached' }, `${formatCount(step.traces)} reached`),
      step.dropped_before ? h('span', { class: 'muted' }, ` · ${formatCount(step.dropped_before)} stopped before`) : null,
      step.failed_traces
        ? h('a', { class: 'funnel-failed has-errors', href: tracesHref(stepQuery(data.name, step.name, true), range), title: 'The traces in which this step failed' },
          ` · ${formatCount(step.failed_traces)} failed`)
        : null,
      h('span', { class: 'muted' }, ` · p50 ${formatMs(step.p50_ms)} · p95 ${formatMs(step.p95_ms)}`),
      step.items_in == null ? null
        : h('span', { class: 'funnel-items' }, ` · ${formatCount(step.items_in)} candidates in, ${formatCount(step.items_out)} out`)));
}

/** A band from (x0, y0..y0+t) to (x1, y1..y1+t), as a filled path with curved edges. */
function band(x0, y0, x1, y1, t) {
  const mid = (x0 + x1) / 2;
  return `M${x0},${y0} C${mid},${y0} ${mid},${y1} ${x1},${y1} L${x1},${y1 + t} C${mid},${y1 + t} ${mid},${y0 + t} ${x0},${y0 + t} Z`;
}

/** The Sankey of one step's candidates through its filters. */
function sankey(step) {
  const { width, band: bandH, top, drop, node } = SANKEY;
  const total = step.items_in;
  const scale = total > 0 ? bandH / total : 0;
  const columns = step.filters.length + 1;
  const x = (i) => 60 + (i * (width - 180)) / columns;
  const height = top + bandH + drop + 40;
  const svg = s('svg', { class: 'sankey', viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': `${step.name}: ${total} candidates through ${step.filters.length} filters` });
  let left = total;
  svg.append(s('rect', { class: 'sankey-node', x: x(0) - node, y: top, width: node, height: Math.max(1, left * scale) }),
    s('text', { class: 'sankey-label', x: x(0) - node, y: top - 8 }, `${formatCount(total)} in`));
  step.filters.forEach((filter, i) => {
    const out = filter.first_rejections;
    const stay = left - out;
    const [xa, xb] = [x(i), x(i + 1) - node];
    // Survivors keep the band's top; the rejected leave from its bottom, down to their node.
    svg.append(s('path', { class: 'sankey-flow', d: band(xa, top, xb, top, stay * scale), dataset: { flow: 'pass', filter: filter.name, count: String(stay) } },
      svgTitle(`${formatCount(stay)} passed ${filter.name} (and every filter before it)`)));
    const rejectX = (xa + xb) / 2 + 20;
    const rejectY = top + bandH + drop;
    if (out > 0) {
      svg.append(s('path', { class: 'sankey-flow sankey-reject', d: band(xa, top + stay * scale, rejectX, rejectY, out * scale), dataset: { flow: 'reject', filter: filter.name, count: String(out) } },
        svgTitle(`${formatCount(out)} rejected first by ${filter.name}`)));
    }
    const label = s('text', { class: 'sankey-label sankey-reject-label', x: rejectX, y: rejectY + out * scale + 14 },
      `${filter.name} ✗ ${formatCount(out)}`);
    const link = filter.examples.length ? s('a', { href: `#/trace/${filter.examples[0]}` }, label) : label;
    svg.append(s('rect', { class: 'sankey-node sankey-reject-node', x: rejectX, y: rejectY, width: node, height: Math.max(1, out * scale) }),
      link,
      s('rect', { class: 'sankey-node', x: xb, y: top, width: node, height: Math.max(1, stay * scale) }),
      s('text', { class: 'sankey-label', x: xb, y: top - 8 }, `${filter.name} ✓ ${formatCount(stay)}`));
    left = stay;
  });
  const end = x(columns) - node;
  const unqualified = step.unqualified_after_filters;
  const qualified = left - unqualified;
  svg.append(s('path', { class: 'sankey-flow sankey-qualified', d: band(x(columns - 1), top, end, top, qualified * scale), dataset: { flow: 'qualified', count: String(qualified) } },
    svgTitle(`${formatCount(qualified)} qualified`)),
  s('rect', { class: 'sankey-node sankey-qualified-node', x: end, y: top, width: node, height: Math.max(1, qualified * scale) }),
  s('text', { class: 'sankey-label', x: end + node + 4, y: top + 12 }, `${formatCount(step.items_out)} qualified`));
  if (unqualified > 0) {
    svg.append(s('text', { class: 'sankey-label muted', x: end + node + 4, y: top + 30 },
      `${formatCount(unqualified)} passed every filter, not qualified`));
  }
  return svg;
}

/** The table of a step's filters: which reject most. */
function filterTable(step) {
  const rows = [...step.filters].sort((a, b) => b.rejected - a.rejected).map((f) => h('tr', { dataset: { filter: f.name } },
    h('td', null, f.name),
    h('td', { class: 'num' }, formatCount(f.evaluated)),
    h('td', { class: 'num' }, formatCount(f.passed)),
    h('td', { class: 'num', dataset: { col: 'rejected' } }, formatCount(f.rejected)),
    h('td', { class: 'num', dataset: { col: 'first' } }, formatCount(f.first_rejections)),
    h('td', { class: 'num' }, formatPercent(f.evaluated ? f.rejected / f.evaluated : null)),
    h('td', null, traceLinks(f.examples, 'rejected in'))));
  return h('table', { class: 'data-table funnel-filters' },
    h('thead', null, h('tr', null, ['Filter', 'Evaluated', 'Passed', 'Rejected', 'First to reject', 'Reject rate', 'Examples']
      .map((label, i) => h('th', { class: i > 0 && i < 6 ? 'num' : null }, label)))),
    h('tbody', null, rows));
}

/** The slowest-steps heatmap: colour = p95 on a log scale between the grid's extremes. */
function stepHeatmap(data, name, range) {
  const values = data.steps.flatMap((st) => st.p95_ms.filter((v) => v != null && v > 0));
  const panel = h('section', { class: 'ana-panel', id: 'step-heatmap' },
    h('header', { class: 'ana-panel-head' }, h('h2', null, 'Slowest steps over time'),
      h('span', { class: 'muted small' }, 'p95 per step and period, slowest step first; click a cell for its slow runs')));
  if (!values.length) {
    panel.append(h('p', { class: 'muted small' }, 'No step ran in this range.'));
    return panel;
  }
  const lo = Math.log(Math.min(...values));
  const spread = Math.log(Math.max(...values)) - lo || 1;
  const grid = { since_ns: data.since_ns, column_ns: data.column_ns, columns: data.steps[0].p95_ms.length };
  panel.append(heatGrid(grid, data.steps.map((st) => st.name), (c, r) => {
    const step = data.steps[r];
    const p95 = step.p95_ms[c];
    if (p95 == null) return null;
    const bound = atOrAbove(p95);
    const query = `trace.name == ${literal(name)} AND kind == step AND name == ${literal(step.name)} `
      + `AND duration_ms >= ${bound} AND ${columnQuery(data, c)}`;
    return {
      t: (Math.log(Math.max(p95, 1e-9)) - lo) / spread,
      value: p95,
      title: `${step.name}: p95 ${formatMs(p95)} over ${formatCount(step.calls[c])} runs`,
      href: tracesHref(query, range),
    };
  }, `Slowest steps of ${name}`));
  return panel;
}

function stepPanel(step) {
  return h('section', { class: 'ana-panel funnel-candidates', dataset: { step: step.name } },
    h('header', { class: 'ana-panel-head' },
      h('h2', null, `${step.name}: candidates`),
      h('span', { class: 'muted small' },
        `${formatCount(step.items_in)} evaluated, ${formatCount(step.items_out)} qualified · each item leaves at the first filter it fails`)),
    sankey(step), filterTable(step));
}

export function funnelView(root, params) {
  let name = (params.get('name') || '').trim();
  let range = knownRange(params.get('range'));
  let disposed = false;
  let controller = new AbortController();
  const suggestions = new AbortController(); // apart: a new funnel must not cancel them

  const nameInput = h('input', { type: 'text', id: 'funnel-name', class: 'search', value: name, list: 'funnel-names',
    placeholder: 'decision trace name', 'aria-label': 'Decision trace name', autocomplete: 'off', spellcheck: 'false', maxlength: '200' });
  const names = h('datalist', { id: 'funnel-names' });
  const form = h('form', { class: 'funnel-form' }, nameInput, names, h('button', { type: 'submit', class: 'btn' }, 'Show'));
  const summary = h('p', { class: 'funnel-summary' });
  const message = h('div', { class: 'ana-message' });
  const steps = h('section', { class: 'ana-panel funnel-steps', id: 'funnel-steps', hidden: true });
  const candidates = h('div', { class: 'funnel-candidate-panels' });
  const slowest = h('div', { class: 'funnel-slowest' });
  root.append(h('section', { class: 'funnel-view' },
    h('div', { class: 'ana-top' }, h('h1', { class: 'page-title' }, 'Decision funnel'), form,
      rangePicker(range, (chosen) => {
        range = chosen;
        navigate();
      })),
    message, summary, steps, candidates, slowest));

  function navigate() {
    history.replaceState(null, '', `#/funnel${withQuery('', { name, range })}`);
    load();
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    name = nameInput.value.trim();
    navigate();
  });

  function render(data) {
    summary.replaceChildren(
      h('span', { dataset: { traces: String(data.traces) } }, `${formatCount(data.traces)} traces of `, h('strong', null, data.name)),
      `: ${formatCount(data.completed)} completed, ${formatCount(data.failed)} failed, ${formatCount(data.running)} running`,
      data.truncated ? h('span', { class: 'muted' }, ` (the newest ${formatCount(data.max_traces)} of the window)`) : '');
    if (!data.steps.length) {
      steps.hidden = true;
      candidates.replaceChildren();
      slowest.replaceChildren();
      message.replaceChildren(h('p', { class: 'empty-state' },
        data.traces ? `The traces of ${data.name} have no steps.` : `No trace named ${data.name} in the last ${range}.`));
      return;
    }
    message.replaceChildren();
    steps.replaceChildren(h('header', { class: 'ana-panel-head' }, h('h2', null, 'Steps'),
      h('span', { class: 'muted small' }, 'traces reaching each step, in the order they run; red: failed there')),
    ...data.steps.map((step) => stepRow(data, step, range)));
    steps.hidden = false;
    candidates.replaceChildren(...data.steps.filter((step) => step.filters.length).map(stepPanel));
    loadSlowest(data.name);
    document.title = `Funnel ${data.name} · Pathwise`;
  }

  async function loadSlowest(of) {
    try {
      const data = await api(withQuery('/api/heatmap/steps', { name: of, since: range, columns: 60 }), { signal: controller.signal });
      if (!disposed) slowest.replaceChildren(stepHeatmap(data, of, range));
    } catch (err) {
      if (!disposed && err.name !== 'AbortError') slowest.replaceChildren(errorBox(err));
    }
  }

  async function loadNames() {
    try {
      const page = await api(withQuery('/api/traces', { limit: 200, q: 'kind == step' }), { signal: suggestions.signal });
      const seen = [...new Set(page.traces.map((t) => t.name))].sort();
      names.replaceChildren(...seen.map((n) => h('option', { value: n })));
      if (!name && seen.length) nameInput.placeholder = `e.g. ${seen[0]}`;
    } catch { /* suggestions only */ }
  }

  async function load() {
    controller.abort();
    controller = new AbortController();
    if (!name) {
      summary.replaceChildren();
      steps.hidden = true;
      candidates.replaceChildren();
      slowest.replaceChildren();
      message.replaceChildren(h('p', { class: 'empty-state' },
        'Name the decision traces to follow (pathwise::trace / pathwise.trace): their steps, candidates and filters.'));
      return;
    }
    message.replaceChildren(h('p', { class: 'muted small' }, 'Loading…'));
    try {
      const data = await api(withQuery('/api/funnel', { name, since: range }), { signal: controller.signal });
      if (!disposed) render(data);
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      message.replaceChildren(errorBox(err));
    }
  }

  loadNames();
  load().finally(() => {
    if (!disposed) markReady('funnel');
  });
  return {
    dispose() {
      disposed = true;
      controller.abort();
      suggestions.abort();
      document.title = 'Pathwise';
    },
  };
}
