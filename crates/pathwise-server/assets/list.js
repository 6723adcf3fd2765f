// The trace list: stat cards that follow the filters, filters (name or query, status, time
// range, duration), trace id lookup, keyset pagination, export, auto-refresh while traces run.
// Every filter and the page are in the address, so a list can be bookmarked and shared.

import {
  ApiError, api, debounce, errorBox, formatAgo, formatCount, formatMs, formatNs, formatTime, h,
  isoTime, markReady, statusBadge, withQuery,
} from './util.js';
import { followTraces } from './tail.js';

const DEFAULT_PAGE_SIZE = 50;
const REFRESH_MS = 5000;
const SEARCH_DEBOUNCE_MS = 300;

const RANGES = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'],
  ['all', 'All time'],
];
const STATUSES = [
  ['', 'Any status'],
  ['running', 'Running'],
  ['completed', 'Completed'],
  ['failed', 'Failed'],
];

// Kept across navigations, so "back" from a trace returns to the same page and filters.
const state = {
  q: '', status: '', range: '24h', min_ms: '', max_ms: '', sort: '', limit: DEFAULT_PAGE_SIZE, cursors: [null],
};
/** Sortable columns: the order a first click gives, and the other. '' is newest first. */
const SORTS = { start: ['', 'oldest'], duration: ['slowest', 'fastest'] };
const TRACE_ID = /^[0-9a-fA-F]{32}$/;
/** At most this many traces go into an export. */
const EXPORT_MAX = 10_000;

function applyParams(params) {
  let changed = false;
  for (const key of ['q', 'status', 'range', 'min_ms', 'max_ms', 'sort']) {
    if (params.has(key) && params.get(key) !== state[key]) {
      state[key] = params.get(key);
      changed = true;
    }
  }
  if (params.has('limit')) {
    const limit = Number.parseInt(params.get('limit'), 10);
    const valid = Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : DEFAULT_PAGE_SIZE;
    changed = changed || valid !== state.limit;
    state.limit = valid;
  }
  if (!RANGES.some(([value]) => value === state.range)) state.range = '24h';
  if (!STATUSES.some(([value]) => value === state.status)) state.status = '';
  // An address with list parameters is the whole state (the default order is left out of
  // it): without `sort` it is newest first, whatever this tab showed before.
  if (!params.has('sort') && [...params.keys()].length > 0 && state.sort !== '') {
    state.sort = '';
    changed = true;
  }
  if (!Object.values(SORTS).flat().includes(state.sort)) state.sort = '';
  for (const key of ['min_ms', 'max_ms']) {
    if (state[key] !== '' && !/^[0-9]{1,12}$/.test(state[key])) state[key] = '';
  }
  if (changed) state.cursors = [null];
  // A shared address opens on its page: the cursor of the page shown.
  const cursor = params.get('cursor');
  if (cursor && state.cursors[state.cursors.length - 1] !== cursor) state.cursors = [null, cursor];
}

/** The list's filters as API parameters (the list and its figures share them). */
function filterParams() {
  return {
    q: state.q, status: state.status, since: state.range === 'all' ? undefined : state.range,
    min_ms: state.min_ms, max_ms: state.max_ms,
  };
}

function rememberFilters() {
  const cursor = state.cursors[state.cursors.length - 1];
  const query = withQuery('', {
    q: state.q, status: state.status, range: state.range, min_ms: state.min_ms, max_ms: state.max_ms,
    sort: state.sort, limit: state.limit === DEFAULT_PAGE_SIZE ? '' : state.limit, cursor,
  });
  history.replaceState(null, '', `#/traces${query}`);
}

/** Every trace the filters select (up to EXPORT_MAX), page by page. */
async function allTraces(signal) {
  const traces = [];
  let cursor;
  do {
    const page = await api(withQuery('/api/traces', { ...filterParams(), sort: state.sort, limit: 1000, cursor }), { signal });
    traces.push(...page.traces);
    cursor = page.next_cursor;
  } while (cursor && traces.length < EXPORT_MAX);
  return traces.slice(0, EXPORT_MAX);
}

const EXPORT_COLUMNS = ['trace_id', 'name', 'status', 'start_ns', 'duration_ns', 'span_count', 'error_count'];

/** RFC 4180 CSV: fields with a comma, quote or line break are quoted, quotes doubled. */
function csv(traces) {
  const field = (value) => {
    const text = value == null ? '' : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const lines = [EXPORT_COLUMNS.join(',')];
  for (const t of traces) lines.push(EXPORT_COLUMNS.map((c) => field(t[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h('a', { href: url, download: name, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function options(pairs, selected) {
  return pairs.map(([value, label]) => {
    const option = h('option', { value }, label);
    option.selected = value === selected;
    return option;
  });
}

const STAT_CARDS = [
  ['total', 'Total', null],
  ['completed', 'Completed', 'completed'],
  ['failed', 'Failed', 'failed'],
  ['running', 'Running', 'running'],
  ['avg', 'Avg duration', null],
  ['p95', 'p95 duration', null],
];

export function listView(root, params) {
  applyParams(params);
  let disposed = false;
  let seq = 0;
  let refreshTimer = 0;
  let firstRender = true;
  const controller = new AbortController();

  // --- skeleton ---
  const cardValues = {};
  const cards = h('section', { class: 'cards', 'aria-label': 'Trace statistics' },
    STAT_CARDS.map(([key, label, status]) => {
      const value = h('div', { class: 'card-value' }, '…');
      cardValues[key] = value;
      const card = h('div', { class: `card card-${key}`, dataset: { stat: key } },
        h('div', { class: 'card-label' }, label), value);
      if (status) {
        card.classList.add('clickable');
        card.title = `Show ${status} traces`;
        card.addEventListener('click', () => setFilter('status', state.status === status ? '' : status));
      }
      return card;
    }));

  const search = h('input', {
    type: 'search', class: 'search', id: 'trace-search',
    placeholder: 'Name, query (duration_ms > 500 AND status == "failed") or trace id…',
    'aria-label': 'Search traces by name, query or trace id', autocomplete: 'off', spellcheck: 'false',
  });
  search.value = state.q;
  search.addEventListener('input', debounce(() => {
    const text = search.value.trim();
    if (TRACE_ID.test(text)) lookUp(text.toLowerCase());
    else setFilter('q', text);
  }, SEARCH_DEBOUNCE_MS));

  const durationInput = (id, label) => {
    const input = h('input', {
      type: 'number', class: 'duration-filter', id, min: 0, step: 1, placeholder: label,
      'aria-label': `${label} (ms)`, title: `${label} in milliseconds`,
    });
    input.value = state[id.replace('-', '_')];
    input.addEventListener('input', debounce(() => {
      const value = input.value.trim();
      if (value === '' || /^[0-9]{1,12}$/.test(value)) setFilter(id.replace('-', '_'), value);
    }, SEARCH_DEBOUNCE_MS));
    return input;
  };
  const minInput = durationInput('min-ms', 'Min ms');
  const maxInput = durationInput('max-ms', 'Max ms');

  const exportButton = (format) => {
    const button = h('button', { class: 'btn', type: 'button', id: `export-${format}`, title: `Download every matching trace (up to ${formatCount(EXPORT_MAX)}) as ${format.toUpperCase()}` },
      format.toUpperCase());
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        const traces = await allTraces(controller.signal);
        if (format === 'csv') download('traces.csv', 'text/csv', csv(traces));
        else download('traces.json', 'application/json', JSON.stringify(traces, null, 2));
        button.dataset.exported = String(traces.length);
      } catch (err) {
        if (!disposed && err.name !== 'AbortError') message.replaceChildren(errorBox(err));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };

  const statusSelect = h('select', { id: 'status-filter', 'aria-label': 'Status' },
    options(STATUSES, state.status));
  statusSelect.addEventListener('change', () => setFilter('status', statusSelect.value));

  const rangeSelect = h('select', { id: 'range-filter', 'aria-label': 'Time range' },
    options(RANGES, state.range));
  rangeSelect.addEventListener('change', () => setFilter('range', rangeSelect.value));

  const live = h('span', { class: 'live-indicator', hidden: true, title: 'Refreshing every 5 s while traces run' },
    '● live');
  // The live tail: new traces stream in at the top of the first page while it is on.
  const tailButton = h('button', {
    class: 'btn', type: 'button', id: 'live-toggle', 'aria-pressed': 'false',
    title: 'Stream new traces into the list as they start',
  }, 'Live tail');
  const tailCount = h('span', { class: 'muted small', id: 'live-count' });
  let tail = null;
  let tailed = 0;
  tailButton.addEventListener('click', () => (tail ? stopTail() : startTail()));
  const toolbar = h('div', { class: 'toolbar' }, search, statusSelect, rangeSelect, minInput, maxInput,
    h('span', { class: 'spacer' }), live, tailButton, tailCount, h('span', { class: 'muted small' }, 'Export'),
    exportButton('csv'), exportButton('json'));

  const tbody = h('tbody', { id: 'trace-rows' });
  const table = h('table', { class: 'traces', id: 'trace-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Name'), h('th', null, 'Status'), sortHeader('start', 'Started', null),
      sortHeader('duration', 'Duration', 'num'), h('th', { class: 'num' }, 'Spans'),
      h('th', { class: 'num' }, 'Errors'))),
    tbody);
  table.querySelector('thead').addEventListener('click', (event) => {
    const button = event.target.closest('button[data-sort]');
    if (!button) return;
    const [first, second] = SORTS[button.dataset.sort];
    setFilter('sort', state.sort === first ? second : first);
    markSort();
  });
  markSort();
  tbody.addEventListener('click', (event) => {
    if (event.target.closest('a')) return; // the link navigates by itself
    const row = event.target.closest('tr[data-trace-id]');
    if (row) location.hash = `#/trace/${row.dataset.traceId}`;
  });

  const prev = h('button', { class: 'btn', id: 'page-prev', type: 'button' }, '← Previous');
  const next = h('button', { class: 'btn', id: 'page-next', type: 'button' }, 'Next →');
  const pageLabel = h('span', { class: 'page-label', id: 'page-label' });
  prev.addEventListener('click', () => {
    if (state.cursors.length > 1) {
      state.cursors.pop();
      rememberFilters();
      load();
    }
  });
  let nextCursor = null;
  next.addEventListener('click', () => {
    if (nextCursor) {
      state.cursors.push(nextCursor);
      rememberFilters();
      load();
    }
  });
  const pager = h('div', { class: 'pager' }, prev, pageLabel, next);
  const message = h('div', { class: 'list-message' });

  root.append(h('section', { class: 'list-view' },
    h('h1', { class: 'page-title' }, 'Traces'), cards, toolbar, message, h('div', { class: 'table-wrap' }, table), pager));

  /** A column heading that sorts the list (by the server: every page, not only this one). */
  function sortHeader(column, label, cls) {
    return h('th', { class: cls, dataset: { column } },
      h('button', { type: 'button', class: 'th-sort', dataset: { sort: column }, title: `Sort by ${label.toLowerCase()}` }, label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' })));
  }

  /** Shows the order on the headings (aria-sort and an arrow). */
  function markSort() {
    for (const th of table.querySelectorAll('th[data-column]')) {
      const [first, second] = SORTS[th.dataset.column];
      const on = state.sort === first || state.sort === second;
      const descending = state.sort === '' || state.sort === 'slowest';
      th.setAttribute('aria-sort', on ? (descending ? 'descending' : 'ascending') : 'none');
      th.querySelector('.sort-mark').textContent = on ? (descending ? ' ▼' : ' ▲') : '';
    }
  }

  function startTail() {
    tailed = 0;
    tailCount.textContent = '';
    tailButton.setAttribute('aria-pressed', 'true');
    tailButton.textContent = 'Pause';
    tail = followTraces(filterParams(), (trace) => {
      // New traces belong on the first page of the newest first; others stay as they are.
      if (state.cursors.length > 1 || state.sort) return;
      tbody.querySelector('tr.empty')?.remove();
      tbody.prepend(traceRow(trace, 'new-row'));
      while (tbody.children.length > state.limit) tbody.lastElementChild.remove();
      tailed += 1;
      tailCount.textContent = `${formatCount(tailed)} new`;
    }, (connection) => { tailButton.dataset.connection = connection; });
  }

  function stopTail() {
    tail?.stop();
    tail = null;
    tailButton.setAttribute('aria-pressed', 'false');
    tailButton.textContent = 'Live tail';
  }

  function setFilter(key, value) {
    if (state[key] === value) return;
    if (tail) { // the stream follows the filters
      stopTail();
      queueMicrotask(startTail);
    }
    state[key] = value;
    state.cursors = [null];
    if (key === 'status') statusSelect.value = value;
    rememberFilters();
    load();
  }

  /** A pasted trace id opens its trace, or says there is none. */
  async function lookUp(id) {
    try {
      await api(withQuery(`/api/traces/${id}`, { max_spans: 1 }), { signal: controller.signal });
      if (!disposed) location.hash = `#/trace/${id}`;
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      const text = err instanceof ApiError && err.status === 404 ? `No trace with id ${id}.` : err.message;
      message.replaceChildren(h('div', { class: 'error-box', id: 'lookup-message', role: 'alert' }, text));
    }
  }

  // --- data ---
  async function load() {
    const mine = ++seq;
    clearTimeout(refreshTimer);
    table.classList.add('loading');
    const cursor = state.cursors[state.cursors.length - 1];
    const filters = filterParams();
    try {
      const [page, stats] = await Promise.all([
        api(withQuery('/api/traces', { ...filters, sort: state.sort, limit: state.limit, cursor }), { signal: controller.signal }),
        // The cards count what the filters select, not the whole window.
        api(withQuery('/api/stats', { ...filters, since: filters.since ?? '0' }), { signal: controller.signal }),
      ]);
      if (disposed || mine !== seq) return;
      message.replaceChildren();
      renderStats(stats);
      renderRows(page.traces);
      nextCursor = page.next_cursor || null;
      prev.disabled = state.cursors.length <= 1;
      next.disabled = !nextCursor;
      const first = (state.cursors.length - 1) * state.limit;
      pageLabel.textContent = page.traces.length
        ? `Page ${state.cursors.length} · ${first + 1}–${first + page.traces.length}`
        : `Page ${state.cursors.length}`;
      const running = page.traces.some((t) => t.status === 'running');
      live.hidden = !running;
      if (running) refreshTimer = setTimeout(load, REFRESH_MS);
    } catch (err) {
      if (disposed || err.name === 'AbortError' || mine !== seq) return;
      message.replaceChildren(errorBox(err));
      if (!(err instanceof ApiError && err.status === 401)) refreshTimer = setTimeout(load, REFRESH_MS);
    } finally {
      if (mine === seq) table.classList.remove('loading');
    }
    if (firstRender && !disposed) {
      firstRender = false;
      markReady('list');
    }
  }

  function renderStats(stats) {
    cardValues.total.textContent = formatCount(stats.total);
    cardValues.completed.textContent = formatCount(stats.completed);
    cardValues.failed.textContent = formatCount(stats.failed);
    cardValues.running.textContent = formatCount(stats.running);
    cardValues.avg.textContent = formatMs(stats.avg_duration_ms);
    cardValues.p95.textContent = formatMs(stats.p95_duration_ms);
    for (const [key, , status] of STAT_CARDS) {
      if (status) cards.querySelector(`[data-stat="${key}"]`).classList.toggle('active', state.status === status);
    }
  }

  function renderRows(traces) {
    const fragment = document.createDocumentFragment();
    if (traces.length === 0) {
      const hint = state.range === 'all' ? '' : ' Try a wider time range.';
      fragment.appendChild(h('tr', { class: 'empty' },
        h('td', { colspan: 6 }, `No traces match.${hint}`)));
    }
    for (const t of traces) fragment.appendChild(traceRow(t));
    tbody.replaceChildren(fragment);
  }

  function traceRow(t, extra = '') {
    const running = t.status === 'running';
    const duration = running
      ? h('span', { class: 'live', title: 'still running' }, `${formatMs(Date.now() - t.start_ns / 1e6)}…`)
      : formatNs(t.duration_ns);
    return h('tr', { class: `trace-row status-${t.status} ${extra}`.trim(), dataset: { traceId: t.trace_id, status: t.status } },
      h('td', { class: 'name' },
        h('a', { href: `#/trace/${encodeURIComponent(t.trace_id)}`, class: 'trace-name' }, t.name),
        h('div', { class: 'trace-id mono' }, t.trace_id)),
      h('td', null, statusBadge(t.status)),
      h('td', { class: 'time', title: isoTime(t.start_ns) },
        formatTime(t.start_ns), h('div', { class: 'muted small' }, formatAgo(t.start_ns))),
      h('td', { class: 'num' }, duration),
      h('td', { class: 'num' }, formatCount(t.span_count)),
      h('td', { class: `num ${t.error_count > 0 ? 'has-errors' : 'muted'}` }, formatCount(t.error_count)));
  }

  load();

  return {
    dispose() {
      disposed = true;
      stopTail();
      clearTimeout(refreshTimer);
      controller.abort();
    },
  };
}
