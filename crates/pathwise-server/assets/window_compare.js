// The Analysis page's "Against the previous window" panel: every path of the range compared
// with the window just before it (GET /api/compare/windows): new and gone paths, error rates
// that rose, p95s that grew, rates that doubled or halved, most telling first. A path opens
// its traces in the current range.

import { ApiError, api, errorBox, formatCount, formatMs, formatPercent, h, withQuery } from './util.js';
import { literal, tracesHref } from './drill.js';

const LABELS = {
  new: 'new', gone: 'gone', errors_up: 'errors ↑', slower: 'slower', busier: 'busier',
  quieter: 'quieter', faster: 'faster', errors_down: 'errors ↓', same: 'same',
};
const BAD = new Set(['errors_up', 'slower', 'gone']);
const SHOWN = 50;

const pair = (base, current, format) => `${base == null ? '—' : format(base)} → ${current == null ? '—' : format(current)}`;
const perMinute = (v) => `${v >= 10 ? formatCount(Math.round(v)) : v.toFixed(2)}/min`;

function row(p, range) {
  const b = p.base || {};
  const c = p.current || {};
  const query = p.change === 'errors_up' ? `path == ${literal(p.path)} AND status == failed` : `path == ${literal(p.path)}`;
  return h('tr', { dataset: { path: p.path, change: p.change } },
    h('td', null, h('span', { class: `wc-change wc-${BAD.has(p.change) ? 'bad' : p.change === 'same' ? 'same' : 'info'}` }, LABELS[p.change] || p.change)),
    h('td', { class: 'mono wc-path' }, p.change === 'gone' ? p.path : h('a', { class: 'drill', href: tracesHref(query, range) }, p.path)),
    h('td', { class: 'num' }, pair(p.base && b.per_minute, p.current && c.per_minute, perMinute)),
    h('td', { class: 'num' }, pair(p.base && b.error_rate, p.current && c.error_rate, formatPercent)),
    h('td', { class: 'num' }, pair(p.base && b.p95_ms, p.current && c.p95_ms, formatMs),
      p.p95_ratio == null ? null : h('span', { class: 'muted small' }, ` ×${p.p95_ratio.toFixed(2)}`)));
}

/** The panel; `load(since, range, signal)` fills it for the range starting at `since` (ms). */
export function windowComparePanel() {
  const summary = h('span', { class: 'muted small', id: 'window-compare-summary' });
  const body = h('div', { class: 'panel-body' }, h('p', { class: 'muted small' }, 'Loading…'));
  const el = h('section', { class: 'ana-panel', id: 'window-compare' },
    h('header', { class: 'ana-panel-head' }, h('h2', null, 'Against the previous window'), summary), body);

  async function load(since, range, signal) {
    try {
      const data = await api(withQuery('/api/compare/windows', { since }), { signal });
      const moved = data.paths.filter((p) => p.change !== 'same');
      summary.textContent = Object.entries(data.counts).filter(([k]) => k !== 'same')
        .map(([k, n]) => `${formatCount(n)} ${LABELS[k] || k}`).join(' · ')
        + `${moved.length ? ' · ' : ''}${formatCount(data.counts.same || 0)} the same`;
      if (!moved.length) {
        body.replaceChildren(h('p', { class: 'empty-state' }, 'No path moved: rates, error rates and p95s match the window before.'));
        return;
      }
      body.replaceChildren(h('div', { class: 'table-scroll' }, h('table', { class: 'data-table wc-table', id: 'window-compare-table' },
        h('thead', null, h('tr', null, h('th', null, 'Change'), h('th', null, 'Path'), h('th', { class: 'num' }, 'Rate'),
          h('th', { class: 'num' }, 'Error rate'), h('th', { class: 'num' }, 'p95'))),
        h('tbody', null, moved.slice(0, SHOWN).map((p) => row(p, range))))),
      moved.length > SHOWN ? h('p', { class: 'muted small' }, `The ${SHOWN} most telling of ${formatCount(moved.length)}.`) : null);
    } catch (err) {
      if (err.name === 'AbortError') return;
      // Signed out: the page says so once, above its panels.
      body.replaceChildren(err instanceof ApiError && err.status === 401 ? h('p', { class: 'muted small' }, '—') : errorBox(err));
    }
  }
  return { el, load };
}
