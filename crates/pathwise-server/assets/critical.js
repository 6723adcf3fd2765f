// The trace page's Critical path tab: the chain of spans that set the trace's duration, with
// each span's own stretches of it. Loaded once per page; the waterfall outlines the chain.

import { ApiError, api, errorBox, formatCount, formatMs, formatPercent, h } from './util.js';

/**
 * The tab over `panel`. `onPath(ids)` receives the chain's span ids once loaded;
 * `onReveal(chain)` shows the chain's last span in the waterfall (the chain from the root).
 */
export function criticalTab({ traceId, signal, panel, isDisposed, isShown, onPath, onReveal }) {
  let path = null; // [{span_id, name, duration_ms, self_ms, share, segments}] once loaded
  let loading = null;

  function load() {
    if (!loading) {
      loading = api(`/api/traces/${traceId}/critical-path`, { signal })
        .then((data) => {
          if (isDisposed()) return;
          path = data.critical_path;
          onPath(new Set(path.map((c) => c.span_id)));
        })
        .catch((err) => {
          if (isDisposed() || err.name === 'AbortError') return;
          path = err;
          loading = null; // try again on the next visit
        })
        .finally(() => {
          if (!isDisposed() && isShown()) render();
        });
    }
    return loading;
  }

  function render() {
    if (path == null || path instanceof Error) {
      if (path instanceof Error) {
        const err = path;
        path = null;
        panel.replaceChildren(err instanceof ApiError && err.status === 404
          ? h('p', { class: 'empty-state' }, 'No spans recorded for this trace yet.')
          : errorBox(err));
        return;
      }
      panel.replaceChildren(h('p', { class: 'muted small' }, 'Loading…'));
      load();
      return;
    }
    // Each span's own stretches of the path (the time the trace waited on it, not on a
    // critical child); off-path parallel branches are not listed.
    const rows = path.map((c, i) => {
      const fill = h('span', { class: 'bar-fill' });
      fill.style.width = `${Math.min(1, c.share) * 100}%`;
      const name = h('button', { type: 'button', class: 'link-button cp-name', title: 'Show in the waterfall' }, c.name);
      const segments = (c.segments || []).map(([a, b]) => `${formatMs(a)}–${formatMs(b)}`).join(', ');
      return h('tr', { class: 'cp-row', dataset: { spanId: c.span_id, index: String(i) } },
        h('td', { class: 'num muted' }, String(i + 1)),
        h('td', { class: 'cp-name-cell' }, name),
        h('td', { class: 'num' }, formatMs(c.duration_ms)),
        h('td', { class: 'num' }, formatMs(c.self_ms)),
        h('td', { class: 'num share-cell' }, formatPercent(c.share), h('span', { class: 'mini-track' }, fill)),
        h('td', { class: 'muted small cp-segments' }, segments));
    });
    const table = h('table', { class: 'data-table cp-table', id: 'critical-path-table' },
      h('thead', null, h('tr', null, h('th', { class: 'num' }, '#'), h('th', null, 'Span'),
        h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'On the path'), h('th', { class: 'num' }, 'Share of the trace'),
        h('th', null, 'Own segments (from the trace start)'))),
      h('tbody', null, rows));
    table.addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-index]');
      if (row && event.target.closest('.cp-name')) {
        onReveal(path.slice(0, Number(row.dataset.index) + 1).map((c) => c.span_id));
      }
    });
    panel.replaceChildren(
      h('p', { class: 'muted small tab-hint' },
        `The chain of spans that determined the trace's duration: from the root, each time the child that finished last. ` +
        `${formatCount(path.length)} spans; they are outlined in the waterfall. Click a name to show it there.`),
      h('div', { class: 'table-scroll' }, table));
  }

  return { load, render };
}
