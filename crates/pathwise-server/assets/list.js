// The trace list: stat cards, filters, keyset pagination, auto-refresh while traces run.

import {
  ApiError, api, debounce, errorBox, formatAgo, formatCount, formatMs, formatNs, formatTime, h,
  isoTime, markReady, statusBadge, withQuery,
} from './util.js';

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
const state = { q: '', status: '', range: '24h', limit: DEFAULT_PAGE_SIZE, cursors: [null] };

function applyParams(params) {
  let changed = false;
  for (const key of ['q', 'status', 'range']) {
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
  if (changed) state.cursors = [null];
}

function rememberFilters() {
  const query = withQuery('', {
    q: state.q, status: state.status, range: state.range,
    limit: state.limit === DEFAULT_PAGE_SIZE ? '' : state.limit,
  });
  history.replaceState(null, '', `#/traces${query}`);
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
    type: 'search', class: 'search', id: 'trace-search', placeholder: 'Search trace names…',
    'aria-label': 'Search trace names', autocomplete: 'off', spellcheck: 'false',
  });
  search.value = state.q;
  search.addEventListener('input', debounce(() => setFilter('q', search.value.trim()), SEARCH_DEBOUNCE_MS));

  const statusSelect = h('select', { id: 'status-filter', 'aria-label': 'Status' },
    options(STATUSES, state.status));
  statusSelect.addEventListener('change', () => setFilter('status', statusSelect.value));

  const rangeSelect = h('select', { id: 'range-filter', 'aria-label': 'Time range' },
    options(RANGES, state.range));
  rangeSelect.addEventListener('change', () => setFilter('range', rangeSelect.value));

  const live = h('span', { class: 'live-indicator', hidden: true, title: 'Refreshing every 5 s while traces run' },
    '● live');
  const toolbar = h('div', { class: 'toolbar' }, search, statusSelect, rangeSelect, h('span', { class: 'spacer' }), live);

  const tbody = h('tbody', { id: 'trace-rows' });
  const table = h('table', { class: 'traces', id: 'trace-table' },
    h('thead', null, h('tr', null,
      h('th', null, 'Name'), h('th', null, 'Status'), h('th', null, 'Started'),
      h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Spans'),
      h('th', { class: 'num' }, 'Errors'))),
    tbody);
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
      load();
    }
  });
  let nextCursor = null;
  next.addEventListener('click', () => {
    if (nextCursor) {
      state.cursors.push(nextCursor);
      load();
    }
  });
  const pager = h('div', { class: 'pager' }, prev, pageLabel, next);
  const message = h('div', { class: 'list-message' });

  root.append(h('section', { class: 'list-view' },
    h('h1', { class: 'page-title' }, 'Traces'), cards, toolbar, message, h('div', { class: 'table-wrap' }, table), pager));

  function setFilter(key, value) {
    if (state[key] === value) return;
    state[key] = value;
    state.cursors = [null];
    if (key === 'status') statusSelect.value = value;
    rememberFilters();
    load();
  }

  // --- data ---
  function sinceParam() {
    return state.range === 'all' ? undefined : state.range;
  }

  async function load() {
    const mine = ++seq;
    clearTimeout(refreshTimer);
    table.classList.add('loading');
    const cursor = state.cursors[state.cursors.length - 1];
    const since = sinceParam();
    try {
      const [page, stats] = await Promise.all([
        api(withQuery('/api/traces', { q: state.q, status: state.status, since, limit: state.limit, cursor }),
          { signal: controller.signal }),
        api(withQuery('/api/stats', { since: since ?? '0' }), { signal: controller.signal }),
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
    for (const t of traces) {
      const running = t.status === 'running';
      const duration = running
        ? h('span', { class: 'live', title: 'still running' }, `${formatMs(Date.now() - t.start_ns / 1e6)}…`)
        : formatNs(t.duration_ns);
      fragment.appendChild(h('tr', { class: `trace-row status-${t.status}`, dataset: { traceId: t.trace_id, status: t.status } },
        h('td', { class: 'name' },
          h('a', { href: `#/trace/${encodeURIComponent(t.trace_id)}`, class: 'trace-name' }, t.name),
          h('div', { class: 'trace-id mono' }, t.trace_id)),
        h('td', null, statusBadge(t.status)),
        h('td', { class: 'time', title: isoTime(t.start_ns) },
          formatTime(t.start_ns), h('div', { class: 'muted small' }, formatAgo(t.start_ns))),
        h('td', { class: 'num' }, duration),
        h('td', { class: 'num' }, formatCount(t.span_count)),
        h('td', { class: `num ${t.error_count > 0 ? 'has-errors' : 'muted'}` }, formatCount(t.error_count))));
    }
    tbody.replaceChildren(fragment);
  }

  load();

  return {
    dispose() {
      disposed = true;
      clearTimeout(refreshTimer);
      controller.abort();
    },
  };
}
