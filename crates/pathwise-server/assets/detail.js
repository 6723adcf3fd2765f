// One trace: a header and a waterfall of its spans. The API sends the top of the span tree
// (at most MAX_SPANS spans, whole sibling groups); deeper subtrees load when expanded. Only the
// first OPEN_LEVELS levels start expanded, so even a 100,000-span trace renders about MAX_SPANS
// rows. Rows are built into a DocumentFragment; expanding or collapsing a subtree inserts or
// removes just that subtree's rows.
//
// Tabs: Waterfall | Flame graph (inferno's SVG of this trace, embedded so its zoom and search
// work) | Critical path (the chain of spans that set the trace's duration, also highlighted in
// the waterfall).

import {
  ApiError, api, errorBox, formatAgo, formatCount, formatMs, formatNs, formatPercent, formatTime,
  h, isoTime, markReady, statusBadge, withQuery,
} from './util.js';
import { spanDetails } from './panels.js';
import { jsonViewer } from './json.js';

const MAX_SPANS = 2000;
const CHILDREN_PAGE = 2000;
const OPEN_LEVELS = 2; // depths 0 and 1 start expanded: three levels visible
const POLL_MS = 2000;
const INDENT_PX = 16;
const TICKS = [0, 0.25, 0.5, 0.75, 1];
const TABS = [['waterfall', 'Waterfall'], ['flame', 'Flame graph'], ['critical', 'Critical path']];

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const byStart = (a, b) => a.span.start_ns - b.span.start_ns;

function makeNode(span) {
  return { id: span.span_id, span, children: [], parent: null, depth: 0, expanded: false, loading: false, loadError: null, truncated: null, row: null, details: null };
}

export function detailView(root, traceId, params) {
  let disposed = false;
  let pollTimer = 0;
  let first = true;
  const controller = new AbortController();
  const signal = controller.signal;

  // State that survives refreshes of a running trace.
  const expandedState = new Map(); // span id → expanded, once the user chose
  const openDetails = new Set(); // span ids whose details are shown
  const panels = new Map(); // span id → built details panel (keeps JSON viewers' state)
  const lazyGroups = new Map(); // parent span id → spans loaded on demand

  let trace = null;
  let nodes = new Map();
  let roots = [];
  let t0 = 0;
  let total = 1;

  // --- skeleton ---
  const header = h('header', { class: 'trace-head' });
  const notice = h('div', { class: 'wf-notice', hidden: true });
  const axis = h('div', { class: 'wf-axis' });
  const body = h('div', { class: 'wf-body', id: 'waterfall-rows', role: 'tree', 'aria-label': 'Spans' });
  const waterfall = h('section', { class: 'waterfall', id: 'waterfall' },
    h('div', { class: 'wf-head' },
      h('div', { class: 'wf-label' }, 'Span'), axis, h('div', { class: 'wf-dur' }, 'Duration')),
    body);
  const message = h('div', { class: 'detail-message' });

  // --- tabs ---
  const wanted = params && params.get('tab');
  let tab = TABS.some(([value]) => value === wanted) ? wanted : 'waterfall';
  const tabButtons = TABS.map(([value, label]) => h('button', {
    type: 'button', role: 'tab', class: 'tab', id: `tab-${value}`, dataset: { tab: value },
    'aria-controls': `tabpanel-${value}`,
  }, label));
  const tabStrip = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Trace views', hidden: true }, tabButtons);
  const waterfallPanel = h('div', { id: 'tabpanel-waterfall', role: 'tabpanel', 'aria-labelledby': 'tab-waterfall' },
    notice, waterfall);
  const flamePanel = h('section', { class: 'trace-flame', id: 'tabpanel-flame', role: 'tabpanel', 'aria-labelledby': 'tab-flame', hidden: true });
  const criticalPanel = h('section', { class: 'critical-path', id: 'tabpanel-critical', role: 'tabpanel', 'aria-labelledby': 'tab-critical', hidden: true });
  const tabPanels = { waterfall: waterfallPanel, flame: flamePanel, critical: criticalPanel };
  tabStrip.addEventListener('click', (event) => {
    const button = event.target.closest('[data-tab]');
    if (button) selectTab(button.dataset.tab);
  });
  tabStrip.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const at = TABS.findIndex(([value]) => value === tab);
    const next = TABS[(at + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length][0];
    selectTab(next);
    tabStrip.querySelector(`[data-tab="${next}"]`).focus();
    event.preventDefault();
  });

  root.append(h('section', { class: 'detail-view' },
    h('a', { class: 'back-link', href: '#/traces' }, '← All traces'), message, header, tabStrip,
    waterfallPanel, flamePanel, criticalPanel));
  waterfall.hidden = true;

  body.addEventListener('click', (event) => {
    const row = event.target.closest('.wf-row');
    if (!row) return;
    const node = nodes.get(row.dataset.spanId);
    if (!node) return;
    if (event.target.closest('.wf-toggle, .wf-lazy')) toggleExpanded(node);
    else toggleDetails(node);
  });
  body.addEventListener('keydown', (event) => {
    const row = event.target.closest('.wf-row');
    const node = row && nodes.get(row.dataset.spanId);
    if (!node || event.target !== row) return;
    if (event.key === 'Enter' || event.key === ' ') toggleDetails(node);
    else if (event.key === 'ArrowRight' && !node.expanded && hasChildren(node)) toggleExpanded(node);
    else if (event.key === 'ArrowLeft' && node.expanded) toggleExpanded(node);
    else return;
    event.preventDefault();
  });

  // --- tree ---
  function hasChildren(node) {
    return node.children.length > 0 || (node.span.child_count || 0) > 0;
  }
  function unloaded(node) {
    return (node.span.child_count || 0) > node.children.length && !node.truncated;
  }

  function buildTree(data) {
    nodes = new Map();
    const spans = data.spans.slice();
    for (const group of lazyGroups.values()) spans.push(...group.spans);
    for (const span of spans) if (!nodes.has(span.span_id)) nodes.set(span.span_id, makeNode(span));
    roots = [];
    for (const node of nodes.values()) {
      const parentId = node.span.parent_id;
      const parent = parentId !== '0' && parentId !== node.id ? nodes.get(parentId) : undefined;
      if (parent) {
        node.parent = parent;
        parent.children.push(node);
      } else {
        roots.push(node);
      }
    }
    for (const [parentId, group] of lazyGroups) {
      const parent = nodes.get(parentId);
      if (parent && group.truncated) parent.truncated = { shown: group.spans.length, total: group.total };
    }
    // A running trace has no root span yet (it is written when the trace ends): stand one in.
    if (trace.status === 'running' && !roots.some((r) => r.span.parent_id === '0')) {
      const now = Date.now() * 1e6;
      const stand = makeNode({
        span_id: `trace-${trace.trace_id}`, parent_id: '', name: trace.name, path: trace.name, kind: 'trace',
        status: 'running', start_ns: trace.start_ns, duration_ns: Math.max(0, now - trace.start_ns),
        metadata: trace.metadata ?? null, child_count: roots.length, synthetic: true,
      });
      for (const r of roots) r.parent = stand;
      stand.children = roots;
      nodes.set(stand.id, stand);
      roots = [stand];
    }
    roots.sort(byStart);
    // Depths, child order and default expansion, iteratively (trees can be deep).
    const stack = roots.map((r) => [r, 0]);
    while (stack.length) {
      const [node, depth] = stack.pop();
      node.depth = depth;
      node.children.sort(byStart);
      node.expanded = expandedState.has(node.id)
        ? expandedState.get(node.id) && node.children.length > 0
        : depth < OPEN_LEVELS && node.children.length > 0;
      for (const child of node.children) stack.push([child, depth + 1]);
    }
    // The time scale.
    t0 = trace.start_ns;
    let end = trace.end_ns ?? trace.start_ns;
    for (const node of nodes.values()) {
      t0 = Math.min(t0, node.span.start_ns);
      end = Math.max(end, node.span.start_ns + (node.span.duration_ns || 0));
    }
    if (trace.status === 'running') end = Math.max(end, Date.now() * 1e6);
    total = Math.max(1, end - t0);
  }

  // --- rows ---
  function rowFor(node) {
    const s = node.span;
    const failed = s.status === 'error';
    const row = document.createElement('div');
    row.className = `wf-row kind-${s.kind}${failed ? ' wf-error' : ''}${s.synthetic ? ' wf-synthetic' : ''}${openDetails.has(node.id) ? ' selected' : ''}${critical.has(node.id) ? ' wf-critical' : ''}`;
    row.dataset.spanId = node.id;
    row.dataset.depth = String(node.depth);
    row.dataset.name = s.name;
    row.tabIndex = 0;
    row.setAttribute('role', 'treeitem');
    row.setAttribute('aria-level', String(node.depth + 1));
    row.setAttribute('aria-selected', String(openDetails.has(node.id)));

    const label = document.createElement('div');
    label.className = 'wf-label';
    label.style.paddingLeft = `${node.depth * INDENT_PX + 4}px`;
    if (hasChildren(node)) {
      const toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.className = 'wf-toggle';
      toggle.textContent = node.expanded ? '▾' : '▸';
      toggle.setAttribute('aria-label', node.expanded ? 'Collapse' : 'Expand');
      row.setAttribute('aria-expanded', String(node.expanded));
      label.appendChild(toggle);
    } else {
      const spacer = document.createElement('span');
      spacer.className = 'wf-toggle-spacer';
      label.appendChild(spacer);
    }
    if (failed) {
      const icon = document.createElement('span');
      icon.className = 'wf-err-icon';
      icon.textContent = '⚠';
      icon.title = s.error_type ? `error: ${s.error_type}` : 'error';
      label.appendChild(icon);
    }
    const name = document.createElement('span');
    name.className = 'wf-name';
    name.textContent = s.name;
    name.title = s.path || s.name;
    label.appendChild(name);
    if (s.kind === 'step' || s.kind === 'trace') {
      const kind = document.createElement('span');
      kind.className = `wf-kind kind-${s.kind}`;
      kind.textContent = s.synthetic ? 'running' : s.kind;
      label.appendChild(kind);
    }
    if (node.loading || node.loadError || unloaded(node)) {
      const lazy = document.createElement('button');
      lazy.type = 'button';
      lazy.className = `wf-lazy${node.loadError ? ' failed' : ''}`;
      const missing = (s.child_count || 0) - node.children.length;
      lazy.textContent = node.loading ? 'loading…'
        : node.loadError ? `retry: ${node.loadError}` : `+${formatCount(missing)} not loaded`;
      lazy.title = 'Load the children of this span';
      label.appendChild(lazy);
    } else if (!node.expanded && node.children.length > 0) {
      const count = document.createElement('span');
      count.className = 'wf-count';
      count.textContent = formatCount(node.children.length);
      count.title = `${node.children.length} children`;
      label.appendChild(count);
    }

    const track = document.createElement('div');
    track.className = 'wf-track';
    const bar = document.createElement('div');
    bar.className = 'wf-bar';
    bar.style.left = `${((s.start_ns - t0) / total) * 100}%`;
    bar.style.width = `${((s.duration_ns || 0) / total) * 100}%`;
    bar.title = `${s.name}: ${formatNs(s.duration_ns)} at +${formatNs(s.start_ns - t0)}`;
    track.appendChild(bar);

    const dur = document.createElement('div');
    dur.className = 'wf-dur';
    dur.textContent = formatNs(s.duration_ns);

    row.append(label, track, dur);
    return row;
  }

  function noteFor(node) {
    return h('div', { class: 'wf-note', dataset: { depth: String(node.depth + 1) } },
      `Showing ${formatCount(node.truncated.shown)} of ${formatCount(node.truncated.total)} children of ${node.span.name}.`);
  }

  function detailsFor(node) {
    let panel = panels.get(node.id);
    if (!panel) {
      panel = h('div', { class: 'wf-details', dataset: { for: node.id }, role: 'region', 'aria-label': `Details of ${node.span.name}` });
      panel.append(...spanDetails(node.span, t0));
      if (!node.span.synthetic) panels.set(node.id, panel);
    }
    panel.dataset.depth = String(node.depth);
    panel.style.marginLeft = `${node.depth * INDENT_PX + 24}px`;
    return panel;
  }

  /** Appends the visible rows under `start` (and `start` itself if `withSelf`) to `out`. */
  function appendRows(out, start, withSelf) {
    const stack = [];
    const pushChildren = (node) => {
      if (node.truncated) stack.push({ note: node });
      for (let i = node.children.length - 1; i >= 0; i -= 1) stack.push(node.children[i]);
    };
    if (withSelf) stack.push(start);
    else pushChildren(start);
    let count = 0;
    while (stack.length) {
      const item = stack.pop();
      if (item.note) {
        out.appendChild(noteFor(item.note));
        continue;
      }
      item.row = rowFor(item);
      out.appendChild(item.row);
      count += 1;
      if (openDetails.has(item.id)) {
        item.details = detailsFor(item);
        out.appendChild(item.details);
      }
      if (item.expanded) pushChildren(item);
    }
    return count;
  }

  function renderRows() {
    const fragment = document.createDocumentFragment();
    let count = 0;
    for (let i = 0; i < roots.length; i += 1) count += appendRows(fragment, roots[i], true);
    body.replaceChildren(fragment);
    body.dataset.rows = String(count);
  }

  function lastOwnElement(node) {
    return node.details && node.details.isConnected ? node.details : node.row;
  }

  function removeDescendantRows(node) {
    const from = lastOwnElement(node).nextElementSibling;
    let to = null;
    for (let el = from; el && Number(el.dataset.depth) > node.depth; el = el.nextElementSibling) to = el;
    if (!to) return;
    const range = document.createRange();
    range.setStartBefore(from);
    range.setEndAfter(to);
    range.deleteContents();
  }

  function insertDescendantRows(node) {
    const fragment = document.createDocumentFragment();
    appendRows(fragment, node, false);
    lastOwnElement(node).after(fragment);
  }

  function replaceRow(node) {
    const fresh = rowFor(node);
    node.row.replaceWith(fresh);
    node.row = fresh;
  }

  function countRows() {
    body.dataset.rows = String(body.querySelectorAll(':scope > .wf-row').length);
  }

  async function toggleExpanded(node) {
    if (node.loading) return;
    if (node.expanded) {
      removeDescendantRows(node);
      node.expanded = false;
      expandedState.set(node.id, false);
      replaceRow(node);
    } else if (unloaded(node) || node.loadError) {
      await loadChildren(node);
    } else if (node.children.length > 0) {
      node.expanded = true;
      expandedState.set(node.id, true);
      replaceRow(node);
      insertDescendantRows(node);
    }
    countRows();
  }

  async function loadChildren(node) {
    node.loading = true;
    node.loadError = null;
    replaceRow(node);
    try {
      const url = withQuery(`/api/traces/${traceId}/spans`, { parent: node.id, limit: CHILDREN_PAGE });
      const data = await api(url, { signal });
      if (disposed) return;
      lazyGroups.set(node.id, data);
      for (const span of data.spans) {
        if (nodes.has(span.span_id)) continue;
        const child = makeNode(span);
        child.parent = node;
        child.depth = node.depth + 1;
        child.expanded = false;
        nodes.set(child.id, child);
        node.children.push(child);
      }
      node.children.sort(byStart);
      node.truncated = data.truncated ? { shown: data.spans.length, total: data.total } : null;
      node.loading = false;
      node.expanded = node.children.length > 0;
      expandedState.set(node.id, node.expanded);
      replaceRow(node);
      if (node.expanded) insertDescendantRows(node);
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      node.loading = false;
      node.loadError = err.message;
      replaceRow(node);
    }
  }

  function toggleDetails(node) {
    if (openDetails.has(node.id)) {
      openDetails.delete(node.id);
      if (node.details) node.details.remove();
      node.details = null;
      node.row.classList.remove('selected');
      node.row.setAttribute('aria-selected', 'false');
    } else {
      openDetails.add(node.id);
      node.details = detailsFor(node);
      node.row.after(node.details);
      node.row.classList.add('selected');
      node.row.setAttribute('aria-selected', 'true');
    }
  }

  // --- header ---
  function fact(label, ...value) {
    return h('div', { class: 'fact' }, h('div', { class: 'fact-label' }, label), h('div', { class: 'fact-value' }, ...value));
  }

  function renderHeader(data) {
    const running = trace.status === 'running';
    const duration = running ? `${formatNs(Date.now() * 1e6 - trace.start_ns)} so far` : formatNs(trace.duration_ns);
    const metadata = trace.metadata;
    let meta = null;
    if (isObject(metadata) && Object.values(metadata).every((v) => v === null || typeof v !== 'object')) {
      meta = h('dl', { class: 'meta-chips' }, Object.entries(metadata).map(([k, v]) =>
        h('div', { class: 'chip' }, h('dt', null, k), h('dd', { class: 'mono' }, String(v)))));
    } else if (metadata != null) {
      meta = jsonViewer(metadata, 'trace metadata');
    }
    header.replaceChildren(
      h('div', { class: 'trace-title' },
        h('h1', { class: 'trace-name-heading' }, trace.name), statusBadge(trace.status),
        running ? h('span', { class: 'live-indicator' }, '● live') : null,
        h('a', { class: 'compare-link', id: 'compare-typical-link', href: `#/compare?a=${trace.trace_id}&b=typical`,
          title: 'Side by side with a typical successful trace of this name' }, 'Compare with typical'),
        data.spans.some((sp) => sp.kind === 'step')
          ? h('a', { class: 'compare-link', id: 'funnel-link', href: `#/funnel${withQuery('', { name: trace.name })}`,
            title: 'Steps, candidates and filters over the decision traces of this name' }, 'Decision funnel')
          : null),
      h('div', { class: 'facts' },
        fact('Duration', duration),
        fact('Started', h('span', { title: isoTime(trace.start_ns) }, formatTime(trace.start_ns)),
          h('span', { class: 'muted small' }, ` ${formatAgo(trace.start_ns)}`)),
        fact('Spans', formatCount(data.total_spans ?? trace.span_count)),
        fact('Errors', h('span', { class: trace.error_count > 0 ? 'has-errors' : '' }, formatCount(trace.error_count))),
        fact('Trace id', h('span', { class: 'mono small' }, trace.trace_id))),
      ...(meta ? [h('div', { class: 'trace-meta' }, h('div', { class: 'fact-label' }, 'Metadata'), meta)] : []));
    notice.hidden = !data.truncated;
    notice.textContent = data.truncated
      ? `Showing the top ${formatCount(data.spans.length)} of ${formatCount(data.total_spans)} spans. ` +
        'Subtrees marked “not loaded” load when expanded.'
      : '';
    axis.replaceChildren(...TICKS.map((f) => {
      const tick = h('span', { class: `wf-tick${f === 1 ? ' last' : ''}` }, formatNs(total * f));
      tick.style.left = `${f * 100}%`;
      return tick;
    }));
  }

  function defaultDetails() {
    // The first step of a decision trace; else the first failed span, if any.
    const ordered = [];
    const stack = roots.slice().reverse();
    while (stack.length) {
      const node = stack.pop();
      ordered.push(node);
      for (let i = node.children.length - 1; i >= 0; i -= 1) stack.push(node.children[i]);
    }
    const step = ordered.find((n) => n.span.kind === 'step') ?? ordered.find((n) => n.span.status === 'error');
    if (!step) return;
    openDetails.add(step.id);
    for (let p = step.parent; p; p = p.parent) {
      if (!p.expanded) {
        p.expanded = true;
        expandedState.set(p.id, true);
      }
    }
  }

  // --- tabs: flame graph and critical path ---
  let criticalPath = null; // [{span_id, name, duration_ms, self_ms, share, segments}] once loaded
  let criticalLoading = null;
  const critical = new Set(); // span ids on the critical path
  let flameShown = false;

  function selectTab(value) {
    tab = value;
    for (const button of tabButtons) {
      const on = button.dataset.tab === value;
      button.setAttribute('aria-selected', String(on));
      button.tabIndex = on ? 0 : -1;
      button.classList.toggle('active', on);
    }
    for (const [key, el] of Object.entries(tabPanels)) el.hidden = key !== value;
    history.replaceState(null, '', `#/trace/${traceId}${value === 'waterfall' ? '' : `?tab=${value}`}`);
    if (value === 'flame' && !flameShown) showFlame();
    if (value === 'critical') renderCritical();
  }

  function showFlame() {
    flameShown = true;
    const url = withQuery('/api/flamegraph.svg', { trace: traceId });
    const object = h('object', {
      type: 'image/svg+xml', data: url, class: 'flame-object', id: 'trace-flame-object',
      'aria-label': 'Flame graph of this trace', dataset: { state: 'loading' },
    });
    let failed = false;
    const fail = async () => {
      if (failed || disposed) return;
      failed = true;
      object.dataset.state = 'failed';
      try {
        await api(url, { signal });
        flamePanel.replaceChildren(h('p', { class: 'empty-state' }, 'The flame graph could not be shown.'));
      } catch (err) {
        if (disposed || err.name === 'AbortError') return;
        flamePanel.replaceChildren(err instanceof ApiError && err.status === 404
          ? h('p', { class: 'empty-state' }, 'Nothing recorded to draw for this trace yet.')
          : errorBox(err));
      }
    };
    object.addEventListener('load', () => {
      const svg = object.contentDocument && object.contentDocument.documentElement;
      if (!svg || svg.localName !== 'svg') {
        fail();
        return;
      }
      const height = Number.parseFloat(svg.getAttribute('height'));
      if (Number.isFinite(height) && height > 0) object.style.height = `${height}px`;
      object.dataset.state = 'loaded';
    });
    object.addEventListener('error', fail);
    flamePanel.replaceChildren(
      h('p', { class: 'muted small tab-hint' },
        'Self time by call stack (µs). Click a frame to zoom, “Reset Zoom” to go back; Search (top right) highlights frames by name.'),
      object);
  }

  function loadCritical() {
    if (!criticalLoading) {
      criticalLoading = api(`/api/traces/${traceId}/critical-path`, { signal })
        .then((data) => {
          if (disposed) return;
          criticalPath = data.critical_path;
          critical.clear();
          for (const c of criticalPath) critical.add(c.span_id);
          for (const id of critical) {
            const node = nodes.get(id);
            if (node && node.row) node.row.classList.add('wf-critical');
          }
        })
        .catch((err) => {
          if (disposed || err.name === 'AbortError') return;
          criticalPath = err;
          criticalLoading = null; // try again on the next visit
        })
        .finally(() => {
          if (!disposed && tab === 'critical') renderCritical();
        });
    }
    return criticalLoading;
  }

  function renderCritical() {
    if (criticalPath == null || criticalPath instanceof Error) {
      if (criticalPath instanceof Error) {
        const err = criticalPath;
        criticalPath = null;
        criticalPanel.replaceChildren(err instanceof ApiError && err.status === 404
          ? h('p', { class: 'empty-state' }, 'No spans recorded for this trace yet.')
          : errorBox(err));
        return;
      }
      criticalPanel.replaceChildren(h('p', { class: 'muted small' }, 'Loading…'));
      loadCritical();
      return;
    }
    // Each span's own stretches of the path (the time the trace waited on it, not on a
    // critical child); off-path parallel branches are not listed.
    const rows = criticalPath.map((c, i) => {
      const share = c.share;
      const fill = h('span', { class: 'bar-fill' });
      fill.style.width = `${Math.min(1, share) * 100}%`;
      const name = h('button', { type: 'button', class: 'link-button cp-name', title: 'Show in the waterfall' }, c.name);
      const segments = (c.segments || []).map(([a, b]) => `${formatMs(a)}–${formatMs(b)}`).join(', ');
      return h('tr', { class: 'cp-row', dataset: { spanId: c.span_id, index: String(i) } },
        h('td', { class: 'num muted' }, String(i + 1)),
        h('td', { class: 'cp-name-cell' }, name),
        h('td', { class: 'num' }, formatMs(c.duration_ms)),
        h('td', { class: 'num' }, formatMs(c.self_ms)),
        h('td', { class: 'num share-cell' }, formatPercent(share), h('span', { class: 'mini-track' }, fill)),
        h('td', { class: 'muted small cp-segments' }, segments));
    });
    const table = h('table', { class: 'data-table cp-table', id: 'critical-path-table' },
      h('thead', null, h('tr', null, h('th', { class: 'num' }, '#'), h('th', null, 'Span'),
        h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'On the path'), h('th', { class: 'num' }, 'Share of the trace'),
        h('th', null, 'Own segments (from the trace start)'))),
      h('tbody', null, rows));
    table.addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-index]');
      if (row && event.target.closest('.cp-name')) reveal(Number(row.dataset.index));
    });
    criticalPanel.replaceChildren(
      h('p', { class: 'muted small tab-hint' },
        `The chain of spans that determined the trace's duration: from the root, each time the child that finished last. ` +
        `${formatCount(criticalPath.length)} spans; they are outlined in the waterfall. Click a name to show it there.`),
      h('div', { class: 'table-scroll' }, table));
  }

  /** Switches to the waterfall and shows critical span `index`, expanding (and loading) its ancestors. */
  async function reveal(index) {
    selectTab('waterfall');
    const chain = criticalPath.slice(0, index + 1);
    for (let i = 0; i < chain.length - 1; i += 1) {
      const node = nodes.get(chain[i].span_id);
      if (!node || !node.row || !node.row.isConnected) break;
      if (!node.expanded) await toggleExpanded(node);
      if (disposed) return;
    }
    const target = nodes.get(chain[chain.length - 1].span_id);
    if (!target || !target.row || !target.row.isConnected) return;
    target.row.scrollIntoView({ block: 'center' });
    target.row.focus({ preventScroll: true });
    target.row.classList.add('wf-flash');
    setTimeout(() => target.row && target.row.classList.remove('wf-flash'), 1600);
  }

  // --- loading ---
  async function load() {
    clearTimeout(pollTimer);
    try {
      const data = await api(withQuery(`/api/traces/${traceId}`, { max_spans: MAX_SPANS }), { signal });
      if (disposed) return;
      trace = data.trace;
      message.replaceChildren();
      buildTree(data);
      if (first) defaultDetails();
      renderHeader(data);
      const scroll = root.scrollTop;
      renderRows();
      if (!first) root.scrollTop = scroll;
      waterfall.hidden = false;
      if (first) {
        tabStrip.hidden = false;
        selectTab(tab);
        loadCritical();
      }
      document.title = `${trace.name} · Pathwise`;
      if (trace.status === 'running') pollTimer = setTimeout(load, POLL_MS);
    } catch (err) {
      if (disposed || err.name === 'AbortError') return;
      message.replaceChildren(errorBox(err));
      if (err.status !== 404 && err.status !== 401 && err.status !== 400) pollTimer = setTimeout(load, POLL_MS * 2);
    }
    if (first) {
      first = false;
      markReady('detail');
    }
  }

  load();

  return {
    dispose() {
      disposed = true;
      clearTimeout(pollTimer);
      controller.abort();
      document.title = 'Pathwise';
    },
  };
}
