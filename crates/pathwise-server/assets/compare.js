// Two traces side by side (#/compare?a=<id>&b=<id|typical>): their spans aligned by path
// (GET /api/compare), one row per path, indented by depth, with a waterfall track for each
// trace (bars scaled to that trace's own timeline) and the difference B − A. Rows are coloured
// and labelled by what changed: only in A, only in B, status changed, slower or faster in B
// (by more than 20 %), or changed (occurrence count, decision values). A changed decision
// step opens a panel with A's and B's input, output and reasoning.
//
// b=typical compares with a typical successful trace of A's name, chosen by the server (the
// completed one whose duration is closest to the median of the last 7 days).

import { api, errorBox, formatCount, formatMs, h, markReady, statusBadge, withQuery } from './util.js';

const TRACE_ID = /^[0-9a-f]{32}$/;
const TYPICAL = 'typical';
const INDENT_PX = 14;
const LABELS = {
  only_a: 'only in A',
  only_b: 'only in B',
  status: 'status changed',
  slower: 'slower in B',
  faster: 'faster in B',
  changed: 'changed',
  same: '',
};
/** [totals key, label, row change it colours like]. */
const TOTALS = [
  ['only_in_a', 'only in A', 'only_a'],
  ['only_in_b', 'only in B', 'only_b'],
  ['status_changed', 'status changed', 'status'],
  ['slower', 'slower in B', 'slower'],
  ['faster', 'faster in B', 'faster'],
  ['count_changed', 'other count', 'changed'],
  ['decision_changed', 'decisions changed', 'changed'],
  ['unchanged', 'unchanged', 'same'],
];

const signed = (ms) => (ms > 0 ? `+${formatMs(ms)}` : ms < 0 ? `−${formatMs(-ms)}` : '±0');
const times = (ratio) => (ratio == null ? '' : ` ×${ratio.toFixed(2)}`);

function fact(label, ...value) {
  return h('div', { class: 'fact' }, h('div', { class: 'fact-label' }, label), h('div', { class: 'fact-value' }, ...value));
}

/** The header card of one trace. */
function traceHead(side, figures, note) {
  const t = figures.trace;
  return h('div', { class: 'trace-head compare-trace', dataset: { side } },
    h('div', { class: 'trace-title' },
      h('span', { class: `cmp-side cmp-side-${side}` }, side.toUpperCase()),
      h('a', { class: 'trace-name-heading', href: `#/trace/${t.trace_id}`, title: 'Open this trace' }, t.name),
      statusBadge(t.status)),
    h('div', { class: 'facts' },
      fact('Duration', formatMs(figures.duration_ms)),
      fact('Spans', formatCount(figures.spans)),
      fact('Errors', h('span', { class: figures.errors > 0 ? 'has-errors' : '' }, formatCount(figures.errors))),
      fact('Trace id', h('span', { class: 'mono small', dataset: { traceId: t.trace_id } }, t.trace_id))),
    note ? h('p', { class: 'muted small compare-note' }, note) : null);
}

/** The totals and the traces' durations, one chip each. */
function summaryBar(data) {
  const delta = data.duration_delta_ms;
  const chips = TOTALS.map(([key, label, change]) => h('span', {
    class: `cmp-total cmp-total-${change}`, dataset: { total: key },
  }, h('span', { class: 'cmp-total-value' }, formatCount(data.totals[key])), ` ${label}`));
  return [
    h('span', { class: 'cmp-duration' },
      `Duration: ${formatMs(data.a.duration_ms)} → ${formatMs(data.b.duration_ms)}`,
      delta == null ? '' : ` (${signed(delta)}${times(data.duration_ratio)})`,
      data.status_changed ? ', status changed' : ''),
    h('span', { class: 'cmp-rows-count muted' }, `${formatCount(data.totals.rows)} paths:`),
    ...chips,
  ];
}

/** One trace's track of a row: a bar per occurrence, scaled to that trace's timeline. */
function track(side, scale) {
  const el = h('div', { class: `wf-track${side ? '' : ' cmp-absent'}` });
  if (!side) return el;
  for (const [start, duration] of side.bars) {
    const bar = h('div', { class: `wf-bar${side.status === 'error' ? ' cmp-bar-error' : ''}` });
    bar.style.left = `${Math.min(100, (start / scale) * 100)}%`;
    bar.style.width = `${Math.min(100, (duration / scale) * 100)}%`;
    bar.title = `${formatMs(duration)} at +${formatMs(start)}`;
    el.append(bar);
  }
  return el;
}

function duration(side) {
  if (!side) return h('div', { class: 'wf-dur cmp-dur' }, '—');
  const count = side.count > 1 ? ` (${formatCount(side.count)}×)` : '';
  return h('div', { class: 'wf-dur cmp-dur', title: `${formatCount(side.errors)} failed` }, `${formatMs(side.total_ms)}${count}`);
}

function badges(row) {
  const out = [];
  if (row.change !== 'same') {
    const ratio = row.change === 'slower' || row.change === 'faster' ? times(row.ratio) : '';
    out.push(h('span', { class: `cmp-change cmp-change-${row.change}` }, `${LABELS[row.change]}${ratio}`));
  }
  if (row.status_changed && row.change !== 'status') {
    out.push(h('span', { class: 'cmp-tag' }, 'status changed'));
  }
  if (row.status_changed) {
    out.push(h('span', { class: 'cmp-tag cmp-status-pair' }, `${row.a.status} → ${row.b.status}`));
  }
  if (row.count_changed) {
    out.push(h('span', { class: 'cmp-tag cmp-count-pair' }, `${row.a.count}× → ${row.b.count}×`));
  }
  return out;
}

/** A value of a decision field: JSON pretty-printed where whole, text as it is. */
function value(text, field, truncated) {
  if (text == null) return h('pre', { class: 'cmp-value muted' }, '(none)');
  let shown = text;
  if (field !== 'reasoning' && !truncated) {
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      shown = text;
    }
  }
  return h('pre', { class: 'cmp-value' }, shown);
}

/** The panel of a changed decision step: each changed occurrence, A's values beside B's. */
function decisionPanel(row) {
  const d = row.decision;
  const more = d.changed_occurrences - d.occurrences.length;
  return h('div', { class: 'cmp-decision', dataset: { for: row.path }, role: 'region', 'aria-label': `A and B of ${row.name}` },
    d.occurrences.map((o) => h('div', { class: 'cmp-occurrence', dataset: { occurrence: String(o.occurrence) } },
      h('div', { class: 'small muted' }, `Occurrence ${o.occurrence} (span ${o.span_a} in A, ${o.span_b} in B)`),
      o.fields.map((f) => h('div', { class: 'cmp-field', dataset: { field: f.field } },
        h('div', { class: 'fact-label' }, f.field, f.truncated ? ' (cut to 4 KB)' : ''),
        h('div', { class: 'cmp-values' },
          h('div', null, h('div', { class: 'small muted' }, 'A'), value(f.a, f.field, f.truncated)),
          h('div', null, h('div', { class: 'small muted' }, 'B'), value(f.b, f.field, f.truncated))))))),
    more > 0 ? h('p', { class: 'small muted' }, `and ${formatCount(more)} more changed occurrences`) : null);
}

function rowFor(row, scaleA, scaleB) {
  const el = h('div', {
    class: `cmp-row cmp-${row.change}${row.kind === 'step' ? ' kind-step' : ''}`,
    role: 'row',
    dataset: { path: row.path, change: row.change, presence: row.presence, depth: String(row.depth) },
  });
  const label = h('div', { class: 'wf-label' },
    h('span', { class: 'wf-name', title: row.path }, row.name),
    row.kind === 'step' ? h('span', { class: 'wf-kind kind-step' }, 'step') : null,
    ...badges(row));
  label.style.paddingLeft = `${row.depth * INDENT_PX + 8}px`;
  if (row.decision) {
    const names = ['input', 'output', 'reasoning'].filter((f) => row.decision[`${f}_changed`]);
    label.append(h('button', {
      type: 'button', class: 'link-button cmp-decision-toggle', 'aria-expanded': 'false',
      title: 'Show A and B side by side',
    }, `${names.join(', ')} differ ▸`));
  }
  const delta = row.delta_ms == null ? '' : row.delta_ms === 0 ? '±0' : `${signed(row.delta_ms)}${times(row.ratio)}`;
  el.append(label, track(row.a, scaleA), duration(row.a), track(row.b, scaleB), duration(row.b),
    h('div', { class: 'wf-dur cmp-delta' }, delta));
  return el;
}

export function compareView(root, params) {
  const a = (params.get('a') || '').trim().toLowerCase();
  const b = (params.get('b') || TYPICAL).trim().toLowerCase();
  const controller = new AbortController();
  const rowData = new WeakMap(); // row element → its row of the answer
  let disposed = false;

  const inputA = h('input', { id: 'compare-a', class: 'search mono', placeholder: 'trace id of A', 'aria-label': 'Trace A', spellcheck: 'false' });
  const inputB = h('input', { id: 'compare-b', class: 'search mono', placeholder: 'trace id of B, or typical', 'aria-label': 'Trace B', spellcheck: 'false' });
  inputA.value = a;
  inputB.value = b;
  const formError = h('span', { class: 'small has-errors', id: 'compare-form-error', role: 'alert' });
  const go = (idA, idB) => {
    location.hash = `#/compare${withQuery('', { a: idA, b: idB })}`;
  };
  const form = h('form', { class: 'toolbar compare-form', id: 'compare-form' },
    h('span', { class: 'cmp-side cmp-side-a' }, 'A'), inputA,
    h('span', { class: 'cmp-side cmp-side-b' }, 'B'), inputB,
    h('button', { class: 'btn btn-primary', type: 'submit', id: 'compare-go' }, 'Compare'),
    h('button', { class: 'btn', type: 'button', id: 'compare-typical', title: 'B: a typical successful trace of A’s name', onclick: () => go(inputA.value.trim().toLowerCase(), TYPICAL) }, 'With typical'),
    TRACE_ID.test(b) ? h('a', { href: `#/compare${withQuery('', { a: b, b: a })}`, id: 'compare-swap' }, 'Swap A and B') : null,
    formError);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const idA = inputA.value.trim().toLowerCase();
    const idB = inputB.value.trim().toLowerCase() || TYPICAL;
    if (!TRACE_ID.test(idA)) formError.textContent = 'A must be a trace id: 32 hex digits.';
    else if (idB !== TYPICAL && !TRACE_ID.test(idB)) formError.textContent = 'B must be a trace id (32 hex digits) or typical.';
    else go(idA, idB);
  });

  const message = h('div', { class: 'compare-message' });
  const heads = h('div', { class: 'compare-heads' });
  const summary = h('div', { class: 'compare-summary', id: 'compare-summary' });
  const notice = h('div', { class: 'wf-notice', hidden: true });
  const body = h('div', { class: 'cmp-body', id: 'compare-rows', role: 'rowgroup' });
  const table = h('section', { class: 'waterfall compare-table', role: 'table', 'aria-label': 'Paths of A and B', hidden: true },
    h('div', { class: 'wf-head cmp-head', role: 'row' },
      h('div', { class: 'wf-label' }, 'Path'), h('div', { class: 'cmp-col' }, 'A'), h('div', { class: 'wf-dur' }, 'A total'),
      h('div', { class: 'cmp-col' }, 'B'), h('div', { class: 'wf-dur' }, 'B total'), h('div', { class: 'wf-dur' }, 'B − A')),
    body);
  root.append(h('section', { class: 'compare-view' },
    h('a', { class: 'back-link', href: TRACE_ID.test(a) ? `#/trace/${a}` : '#/traces' }, TRACE_ID.test(a) ? '← Trace A' : '← All traces'),
    h('h1', { class: 'page-title' }, 'Compare traces'), form, message, heads, summary, notice, table));

  body.addEventListener('click', (event) => {
    const toggle = event.target.closest('.cmp-decision-toggle');
    const row = toggle && toggle.closest('.cmp-row');
    if (!row) return;
    const open = row.nextElementSibling && row.nextElementSibling.classList.contains('cmp-decision');
    if (open) row.nextElementSibling.remove();
    else row.after(decisionPanel(rowData.get(row)));
    toggle.setAttribute('aria-expanded', String(!open));
    toggle.textContent = toggle.textContent.replace(open ? '▾' : '▸', open ? '▸' : '▾');
  });

  function render(data) {
    const typical = data.typical;
    heads.replaceChildren(
      traceHead('a', data.a, null),
      traceHead('b', data.b, typical
        ? `Typical: of ${formatCount(typical.candidates)} completed traces named “${data.a.trace.name}” in the last ${typical.window_days} days, the one closest to their median duration (${formatMs(typical.median_duration_ms)}).`
        : null));
    summary.replaceChildren(...summaryBar(data));
    notice.hidden = data.depth_limit == null;
    notice.textContent = data.depth_limit == null ? ''
      : `Large traces: compared down to depth ${data.depth_limit} (${formatCount(data.a.compared_spans)} of ${formatCount(data.a.spans)} spans of A, ${formatCount(data.b.compared_spans)} of ${formatCount(data.b.spans)} of B).`;
    const scaleA = Math.max(data.a.timeline_ms, 1e-6);
    const scaleB = Math.max(data.b.timeline_ms, 1e-6);
    const fragment = document.createDocumentFragment();
    for (const row of data.rows) {
      const el = rowFor(row, scaleA, scaleB);
      rowData.set(el, row);
      fragment.append(el);
    }
    body.replaceChildren(fragment);
    body.dataset.rows = String(data.rows.length);
    table.hidden = false;
    document.title = `Compare ${data.a.trace.name} · Pathwise`;
  }

  async function load() {
    if (!TRACE_ID.test(a)) {
      message.replaceChildren(h('p', { class: 'empty-state' },
        'Give the id of trace A (or open a trace and choose “Compare with typical”), and B: another trace id, or typical.'));
      return;
    }
    try {
      const data = await api(withQuery('/api/compare', { a, b }), { signal: controller.signal });
      if (disposed) return;
      render(data);
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      message.replaceChildren(errorBox(err));
    }
  }

  load().finally(() => {
    if (!disposed) markReady('compare');
  });

  return {
    dispose() {
      disposed = true;
      controller.abort();
      document.title = 'Pathwise';
    },
  };
}
