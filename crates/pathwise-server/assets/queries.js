// The Queries page (#/queries): database statements over a time range, normalised (values
// replaced by ?), in a table sortable by any column — calls, error rate, p50/p95/p99, rows,
// total time — each linking to the traces that ran it; below, the slow-query log: single
// executions over a threshold, each linking to its trace.
//
// URL: #/queries?range=1h&sort=p95_ms&dir=desc&threshold_ms=100 (every part optional).

import {
  api, errorBox, formatAgo, formatCount, formatMs, formatPercent, formatTime, h, isoTime,
  markReady, statusBadge, withQuery,
} from './util.js';

const RANGES = [
  ['15m', '15 min'],
  ['1h', '1 hour'],
  ['24h', '24 hours'],
  ['7d', '7 days'],
];
/** The presets: a column and the server order that ranks by it. */
const PRESETS = [
  ['p95_ms', 'Slowest', 'slowest'],
  ['calls', 'Most frequent', 'frequent'],
  ['total_ms', 'Most time', 'total'],
];
const STATEMENT_LIMIT = 1000;
const SLOW_LIMIT = 200;

const rows = (n) => (n == null ? '—' : n < 10 && !Number.isInteger(n) ? n.toFixed(1) : formatCount(Math.round(n)));

/** [key, heading, cell text, tooltip of the heading]. */
const COLUMNS = [
  ['statement', 'Statement', null, 'The statement with its values replaced by ?'],
  ['system', 'Database', (q) => q.system, null],
  ['calls', 'Calls', (q) => formatCount(q.calls), null],
  ['error_rate', 'Errors', (q) => (q.errors ? `${formatCount(q.errors)} (${formatPercent(q.error_rate)})` : '0'), 'Failed executions and their share of calls'],
  ['avg_ms', 'Avg', (q) => formatMs(q.avg_ms), 'Mean duration'],
  ['p50_ms', 'p50', (q) => formatMs(q.p50_ms), 'Median (within 1 %)'],
  ['p95_ms', 'p95', (q) => formatMs(q.p95_ms), '95th percentile (within 1 %)'],
  ['p99_ms', 'p99', (q) => formatMs(q.p99_ms), '99th percentile (within 1 %)'],
  ['max_ms', 'Max', (q) => formatMs(q.max_ms), null],
  ['avg_rows', 'Rows', (q) => rows(q.avg_rows), 'Mean rows returned or changed, of the executions that reported them'],
  ['total_ms', 'Total time', (q) => formatMs(q.total_ms), 'Calls × mean: what this statement costs'],
];

/** Text columns sort A→Z first, figures largest first. */
const firstDirection = (key) => (key === 'statement' || key === 'system' ? 'asc' : 'desc');

// Kept across navigations.
const state = { range: '1h', sort: { key: 'p95_ms', dir: 'desc' }, threshold: null };

function applyParams(params) {
  if (RANGES.some(([value]) => value === params.get('range'))) state.range = params.get('range');
  if (COLUMNS.some(([key]) => key === params.get('sort'))) {
    const key = params.get('sort');
    const dir = params.get('dir');
    state.sort = { key, dir: dir === 'asc' || dir === 'desc' ? dir : firstDirection(key) };
  }
  if (params.has('threshold_ms')) {
    const ms = Number(params.get('threshold_ms'));
    if (Number.isFinite(ms) && ms >= 0) state.threshold = ms;
  }
}

function rememberState() {
  history.replaceState(null, '', `#/queries${withQuery('', {
    range: state.range, sort: state.sort.key, dir: state.sort.dir, threshold_ms: state.threshold ?? '',
  })}`);
}

function panel(id, title, ...extra) {
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Loading…'));
  const el = h('section', { class: 'ana-panel', id, dataset: { state: 'loading' } },
    h('header', { class: 'ana-panel-head' }, h('h2', null, title), ...extra), body);
  return { el, body };
}

const empty = (text) => h('p', { class: 'empty-state' }, text);

/** The link to the trace list filtered to the traces that ran `q`, over the page's range. */
function tracesHref(q) {
  return `#/traces${withQuery('', { q: q.trace_query, range: state.range })}`;
}

function errorTitle(q) {
  if (!q.errors) return 'No failed executions';
  return q.errors_by_type.map(([type, n]) => `${type}: ${formatCount(n)}`).join('\n');
}

function sorted(queries) {
  const { key, dir } = state.sort;
  const sign = dir === 'asc' ? 1 : -1;
  return queries.slice().sort((a, b) => {
    const va = a[key];
    const vb = b[key];
    const order = typeof va === 'string' ? va.localeCompare(vb) : (va ?? -1) - (vb ?? -1);
    return sign * order || a.statement.localeCompare(b.statement);
  });
}

function statementCell(q) {
  return h('td', { class: 'q-statement' },
    h('code', { class: 'q-sql', title: q.statement }, q.statement),
    h('a', {
      class: 'q-traces', href: tracesHref(q), title: `The traces that ran this statement (${rangeLabel()})`,
    }, 'traces →'));
}

const rangeLabel = () => `the last ${RANGES.find(([value]) => value === state.range)[1]}`;

function statementTable(queries, onSort) {
  const head = h('tr', null, COLUMNS.map(([key, label, , title]) => {
    const active = key === state.sort.key;
    const arrow = active ? (state.sort.dir === 'asc' ? ' ▴' : ' ▾') : '';
    return h('th', {
      class: `${key === 'statement' || key === 'system' ? '' : 'num'} sortable${active ? ' sorted' : ''}`,
      dataset: { sort: key }, title,
      'aria-sort': active ? (state.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none',
    }, h('button', { type: 'button', class: 'th-sort' }, label, arrow));
  }));
  const body = sorted(queries).map((q) => h('tr', {
    dataset: { statement: q.statement, system: q.system }, class: q.errors > 0 ? 'has-error-row' : null,
  }, COLUMNS.map(([key, , cell]) => {
    if (key === 'statement') return statementCell(q);
    if (key === 'error_rate') {
      return h('td', { class: `num ${q.errors > 0 ? 'has-errors' : 'muted'}`, title: errorTitle(q) }, cell(q));
    }
    if (key === 'avg_rows') {
      return h('td', {
        class: 'num',
        title: `The mean of ${formatCount(q.row_counts)} executions that reported rows (of the range's newest 100,000 queries)`,
      }, cell(q));
    }
    return h('td', { class: key === 'system' ? 'muted' : 'num', dataset: { col: key } }, cell(q));
  })));
  const table = h('table', { class: 'data-table node-table q-table', id: 'query-table' },
    h('thead', null, head), h('tbody', null, body));
  table.querySelector('thead').addEventListener('click', (event) => {
    const th = event.target.closest('th[data-sort]');
    if (th) onSort(th.dataset.sort);
  });
  return h('div', { class: 'table-scroll' }, table);
}

function slowTable(slow) {
  const body = slow.map((q) => h('tr', {
    dataset: { traceId: q.trace_id, spanId: q.span_id }, class: q.failed ? 'has-error-row' : null,
  },
  h('td', { class: 'time', title: isoTime(q.start_ns) }, formatTime(q.start_ns),
    h('div', { class: 'muted small' }, formatAgo(q.start_ns))),
  h('td', { class: 'num q-duration' }, formatMs(q.duration_ms)),
  h('td', { class: 'q-statement' },
    h('code', { class: 'q-sql', title: q.statement }, q.statement),
    q.full_statement ? h('div', { class: 'q-full mono small', title: 'The statement as written' }, q.full_statement) : null,
    q.caller ? h('div', { class: 'muted small q-path', title: q.path }, `from ${q.caller}`) : null),
  h('td', { class: 'muted' }, q.system),
  h('td', { class: 'num' }, q.rows == null ? '—' : formatCount(q.rows)),
  h('td', { title: q.error_message || '' }, statusBadge(q.failed ? 'error' : 'ok'),
    q.error_type ? h('div', { class: 'small has-errors' }, q.error_type) : null),
  h('td', null, h('a', { class: 'q-trace mono small', href: `#/trace/${encodeURIComponent(q.trace_id)}` }, 'trace →'))));
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data-table q-table', id: 'slow-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'When'), h('th', { class: 'num' }, 'Duration'), h('th', null, 'Statement'),
      h('th', null, 'Database'), h('th', { class: 'num' }, 'Rows'), h('th', null, 'Status'), h('th', null, 'Trace'))),
    h('tbody', null, body)));
}

export function queriesView(root, params) {
  applyParams(params);
  let disposed = false;
  let seq = 0;
  let first = true;
  let controller = new AbortController();
  let queries = [];
  let serverThreshold = null;

  // --- skeleton ---
  const rangeButtons = RANGES.map(([value, label]) => h('button', {
    type: 'button', class: 'seg-btn', dataset: { range: value }, title: `The last ${label}`,
  }, value));
  const rangeGroup = h('div', { class: 'seg', id: 'queries-range', role: 'group', 'aria-label': 'Time range' }, rangeButtons);
  rangeGroup.addEventListener('click', (event) => {
    const button = event.target.closest('[data-range]');
    if (!button || button.dataset.range === state.range) return;
    state.range = button.dataset.range;
    rememberState();
    load();
  });
  const presetButtons = PRESETS.map(([key, label]) => h('button', {
    type: 'button', class: 'seg-btn', dataset: { preset: key },
  }, label));
  const presetGroup = h('div', { class: 'seg', id: 'queries-order', role: 'group', 'aria-label': 'Order' }, presetButtons);
  presetGroup.addEventListener('click', (event) => {
    const button = event.target.closest('[data-preset]');
    if (button) setSort(button.dataset.preset, 'desc');
  });
  const windowLabel = h('span', { class: 'muted small', id: 'queries-window' });
  const refresh = h('button', { type: 'button', class: 'btn', id: 'queries-refresh', title: 'Load again' }, 'Refresh');
  refresh.addEventListener('click', () => load());
  const message = h('div', { class: 'ana-message' });

  const CARDS = [['statements', 'Statements'], ['calls', 'Calls'], ['errors', 'Failed'], ['total', 'Time in queries'], ['slow', 'Slow executions']];
  const cardValues = {};
  const cards = h('section', { class: 'cards ana-cards', 'aria-label': 'Window totals' },
    CARDS.map(([key, label]) => {
      cardValues[key] = h('div', { class: 'card-value' }, '…');
      return h('div', { class: `card card-${key}`, dataset: { stat: key } }, h('div', { class: 'card-label' }, label), cardValues[key]);
    }));

  const statements = panel('query-statements', 'Statements', presetGroup,
    h('span', { class: 'muted small' }, 'click a heading to sort · values are replaced by ?'));
  const thresholdInput = h('input', {
    type: 'number', id: 'slow-threshold', class: 'search q-threshold', min: '0', step: '1', inputmode: 'numeric',
    'aria-label': 'Slow-query threshold in milliseconds',
  });
  const thresholdForm = h('form', { class: 'pattern-form', id: 'slow-form' },
    h('label', { for: 'slow-threshold' }, 'At least'), thresholdInput, h('span', { class: 'muted' }, 'ms'),
    h('button', { type: 'submit', class: 'btn' }, 'Show'));
  thresholdForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const ms = Number(thresholdInput.value);
    if (!Number.isFinite(ms) || ms < 0 || thresholdInput.value === '') return;
    state.threshold = ms;
    rememberState();
    loadSlow(seq);
  });
  const slow = panel('slow-queries', 'Slow-query log', h('span', { class: 'muted small', id: 'slow-caption' }));
  slow.body.before(thresholdForm);

  const view = h('section', { class: 'analysis-view queries-view' },
    h('div', { class: 'ana-top' },
      h('h1', { class: 'page-title' }, 'Queries'), rangeGroup, windowLabel, h('span', { class: 'spacer' }), refresh),
    message, cards, statements.el, slow.el);
  root.append(view);

  function showControls() {
    for (const button of rangeButtons) button.setAttribute('aria-pressed', String(button.dataset.range === state.range));
    for (const button of presetButtons) {
      button.setAttribute('aria-pressed', String(button.dataset.preset === state.sort.key && state.sort.dir === 'desc'));
    }
  }

  /** Sorts by `key`: in direction `dir`, or (a heading clicked) the other way round when it
   * is the current column, else the column's natural first direction. */
  function setSort(key, dir) {
    let next = dir;
    if (!next) {
      const flipped = state.sort.dir === 'asc' ? 'desc' : 'asc';
      next = key === state.sort.key ? flipped : firstDirection(key);
    }
    state.sort = { key, dir: next };
    rememberState();
    showControls();
    renderStatements();
    statements.body.querySelector(`th[data-sort="${key}"] button`)?.focus();
  }

  function renderStatements() {
    statements.body.replaceChildren(queries.length
      ? statementTable(queries, (key) => setSort(key))
      : empty(`No database queries in ${rangeLabel()}. Record them with pathwise::db_query or the rusqlite wrapper.`));
  }

  async function loadSlow(mine) {
    const threshold = state.threshold ?? serverThreshold;
    thresholdInput.value = threshold == null ? '' : String(threshold);
    slow.el.dataset.state = 'loading';
    try {
      const answer = await api(withQuery('/api/queries/slow', {
        since: state.range, threshold_ms: state.threshold ?? '', limit: SLOW_LIMIT,
      }), { signal: controller.signal });
      if (disposed || mine !== seq) return;
      const list = answer.queries;
      cardValues.slow.textContent = formatCount(list.length) + (list.length >= SLOW_LIMIT ? '+' : '');
      document.getElementById('slow-caption').textContent =
        `executions of at least ${formatMs(answer.threshold_ms)}, newest first${list.length >= SLOW_LIMIT ? ` (the newest ${SLOW_LIMIT})` : ''}`;
      slow.body.replaceChildren(list.length
        ? slowTable(list)
        : empty(`No execution took ${formatMs(answer.threshold_ms)} or more in ${rangeLabel()}.`));
      slow.el.dataset.state = 'loaded';
    } catch (err) {
      if (disposed || err.name === 'AbortError' || mine !== seq) return;
      slow.body.replaceChildren(errorBox(err));
      slow.el.dataset.state = 'failed';
    }
  }

  async function load() {
    const mine = ++seq;
    controller.abort();
    controller = new AbortController();
    showControls();
    view.classList.add('loading');
    const preset = PRESETS.find(([key]) => key === state.sort.key);
    const slowDone = loadSlow(mine);
    try {
      const report = await api(withQuery('/api/queries', {
        since: state.range, sort: preset ? preset[2] : 'slowest', limit: STATEMENT_LIMIT,
      }), { signal: controller.signal });
      if (disposed || mine !== seq) return;
      message.replaceChildren();
      queries = report.queries;
      serverThreshold = report.slow_threshold_ms;
      if (state.threshold == null && thresholdInput.value === '') thresholdInput.value = String(serverThreshold);
      windowLabel.textContent = `${formatTime(report.window.since_ns)} – now`;
      cardValues.statements.textContent = formatCount(report.statements);
      cardValues.calls.textContent = formatCount(report.calls);
      cardValues.errors.textContent = report.calls ? `${formatCount(report.errors)} (${formatPercent(report.errors / report.calls)})` : '0';
      cardValues.total.textContent = formatMs(report.total_ms);
      renderStatements();
      statements.el.dataset.state = 'loaded';
    } catch (err) {
      if (disposed || err.name === 'AbortError' || mine !== seq) return;
      message.replaceChildren(errorBox(err));
      statements.body.replaceChildren(empty('Could not load the statements.'));
      statements.el.dataset.state = 'failed';
    } finally {
      if (mine === seq) view.classList.remove('loading');
    }
    await slowDone;
    if (first && !disposed && mine === seq) {
      first = false;
      markReady('queries');
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
