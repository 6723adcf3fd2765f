// The trace page's waterfall. The API sends the top of the span tree (at most MAX_SPANS spans,
// whole sibling groups); deeper subtrees load when expanded, and a search inside the trace
// brings its matches with their ancestors, so any span of a 500,000-span trace can be shown
// without loading the rest. Only the first OPEN_LEVELS levels start expanded. Rows are built
// into a DocumentFragment; expanding or collapsing a subtree inserts or removes just its rows.
// Zooming moves the bars of the rows on the page and nothing else.

import { api, formatCount, formatNs, h, withQuery } from './util.js';
import { spanDetails } from './panels.js';
import { barColour, createMinimap, createToolbar, createZoom } from './wf_tools.js';
import { INDENT_PX, buildRow, firstOfInterest, noteRow } from './wf_rows.js';

const CHILDREN_PAGE = 2000;
const OPEN_LEVELS = 2; // depths 0 and 1 start expanded: three levels visible
const TICKS = [0, 0.25, 0.5, 0.75, 1];
const SEARCH_LIMIT = 200;

const byStart = (a, b) => a.span.start_ns - b.span.start_ns;

function makeNode(span) {
  return { id: span.span_id, span, children: [], parent: null, depth: 0, expanded: false, loading: false, loadError: null, truncated: null, row: null, bar: null, details: null };
}

/** The waterfall of trace `traceId`; `update(trace, data)` (re)draws it from `/api/traces/{id}`. */
export function createWaterfall({ traceId, signal, isDisposed }) {
  // State that survives refreshes of a running trace.
  const expandedState = new Map(); // span id → expanded, once the user chose
  const openDetails = new Set(); // span ids whose details are shown
  const panels = new Map(); // span id → built details panel (keeps JSON viewers' state)
  const lazyGroups = new Map(); // parent span id → spans loaded on demand
  const found = new Map(); // span id → span a search brought (a match or its ancestor)
  const critical = new Set(); // span ids on the critical path

  let trace = null;
  let data = null;
  let nodes = new Map();
  let roots = [];
  let t0 = 0;
  let total = 1;
  let search = { seq: 0, matches: [], set: new Set(), total: 0, at: -1 };
  let generation = 0; // bumped by every rebuild of the tree: nodes from before are stale

  const zoom = createZoom(() => {
    refreshBars();
    drawAxis();
    minimap.draw();
  });
  const minimap = createMinimap(zoom, () => [t0, total]);
  const toolbar = createToolbar(zoom, {
    search: find,
    step: (delta) => showMatch(search.at + delta),
    clear: clearSearch,
    colour: () => {
      refreshBars();
      updateLegend(); // shown for colour by component only
    },
    depth: expandTo,
  });
  const notice = h('div', { class: 'wf-notice', hidden: true });
  const axis = h('div', { class: 'wf-axis' });
  const body = h('div', { class: 'wf-body', id: 'waterfall-rows', role: 'tree', 'aria-label': 'Spans' });
  const section = h('section', { class: 'waterfall', id: 'waterfall' },
    h('div', { class: 'wf-head' },
      h('div', { class: 'wf-label' }, 'Span'), axis, h('div', { class: 'wf-dur' }, 'Duration')),
    body);
  const element = h('div', { class: 'wf-view', hidden: true }, notice, toolbar.element, toolbar.legend, minimap.element, section);

  body.addEventListener('click', (event) => {
    const row = event.target.closest('.wf-row');
    const node = row && nodes.get(row.dataset.spanId);
    if (!node) return;
    if (event.target.closest('.wf-lazy')) loadChildren(node).then(countRows);
    else if (event.target.closest('.wf-toggle')) toggleExpanded(node);
    else toggleDetails(node);
  });
  body.addEventListener('keydown', onRowKey);
  // Ctrl+wheel zooms around the pointer; Shift+wheel pans.
  body.addEventListener('wheel', (event) => {
    const track = event.target.closest('.wf-track');
    if (!track || !(event.ctrlKey || event.metaKey || event.shiftKey)) return;
    event.preventDefault();
    const rect = track.getBoundingClientRect();
    const at = zoom.from + ((event.clientX - rect.left) / Math.max(1, rect.width)) * (zoom.to - zoom.from);
    const delta = event.deltaY || event.deltaX;
    if (event.shiftKey) zoom.pan((Math.sign(delta) * (zoom.to - zoom.from)) / 10);
    else zoom.by(delta < 0 ? 1.25 : 0.8, at);
  }, { passive: false });

  // --- tree ---
  const hasChildren = (node) => node.children.length > 0 || (node.span.child_count || 0) > 0;
  const unloaded = (node) => (node.span.child_count || 0) > node.children.length && !node.truncated;

  function buildTree() {
    generation += 1;
    nodes = new Map();
    const spans = data.spans.slice();
    for (const group of lazyGroups.values()) spans.push(...group.spans);
    spans.push(...found.values());
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
    // The time scale: every span, loaded or not (the overview covers them all).
    const overview = data.overview;
    t0 = Math.min(trace.start_ns, overview ? overview.start_ns : Infinity);
    let end = Math.max(trace.end_ns ?? trace.start_ns, overview ? overview.end_ns : -Infinity);
    for (const node of nodes.values()) {
      t0 = Math.min(t0, node.span.start_ns);
      end = Math.max(end, node.span.start_ns + (node.span.duration_ns || 0));
    }
    if (trace.status === 'running') end = Math.max(end, Date.now() * 1e6);
    total = Math.max(1, end - t0);
    updateLegend();
  }

  function updateLegend() {
    const groups = new Map();
    for (const node of nodes.values()) {
      if (node.span.group) groups.set(node.span.group, (groups.get(node.span.group) || 0) + 1);
    }
    toolbar.setLegend(groups);
  }

  // --- rows ---
  function placeBar(node) {
    const s = node.span;
    const a = (s.start_ns - t0) / total;
    const [left, width] = zoom.place(a, a + (s.duration_ns || 0) / total);
    node.bar.style.left = `${left}%`;
    node.bar.style.width = `${width}%`;
    node.bar.style.background = barColour(toolbar.colourMode(), s);
  }

  function refreshBars() {
    for (const node of nodes.values()) if (node.bar && node.bar.isConnected) placeBar(node);
  }

  function rowFor(node) {
    const s = node.span;
    const missing = (s.child_count || 0) - node.children.length;
    const row = buildRow(node, {
      selected: openDetails.has(node.id),
      critical: critical.has(node.id),
      match: search.set.has(node.id),
      current: search.matches[search.at] === node.id,
      expandable: hasChildren(node),
      lazy: node.loading ? 'loading…'
        : node.loadError ? `retry: ${node.loadError}`
          : unloaded(node) ? `+${formatCount(missing)} not loaded` : null,
      loadFailed: Boolean(node.loadError),
      offsetNs: s.start_ns - t0,
    });
    node.bar = row.querySelector('.wf-bar');
    placeBar(node);
    return row;
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
        out.appendChild(noteRow(item.note));
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

  const lastOwnElement = (node) => (node.details && node.details.isConnected ? node.details : node.row);

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
    const focused = document.activeElement === node.row;
    const fresh = rowFor(node);
    node.row.replaceWith(fresh);
    node.row = fresh;
    if (focused) fresh.focus({ preventScroll: true });
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
    if (node.loading) return;
    node.loading = true;
    node.loadError = null;
    replaceRow(node);
    const built = generation;
    try {
      const url = withQuery(`/api/traces/${traceId}/spans`, { parent: node.id, limit: CHILDREN_PAGE });
      const page = await api(url, { signal });
      if (isDisposed()) return;
      lazyGroups.set(node.id, page);
      expandedState.set(node.id, true);
      if (built !== generation) {
        // The tree was rebuilt while this page was on its way (a search, a refresh): `node`
        // is gone; build again with the page in.
        buildTree();
        renderRows();
        return;
      }
      if (node.expanded) removeDescendantRows(node); // the children a search brought
      for (const span of page.spans) {
        if (nodes.has(span.span_id)) continue;
        const child = makeNode(span);
        child.parent = node;
        child.depth = node.depth + 1;
        nodes.set(child.id, child);
        node.children.push(child);
      }
      node.children.sort(byStart);
      node.truncated = page.truncated ? { shown: page.spans.length, total: page.total } : null;
      node.loading = false;
      node.expanded = node.children.length > 0;
      expandedState.set(node.id, node.expanded);
      replaceRow(node);
      if (node.expanded) insertDescendantRows(node);
      updateLegend();
    } catch (err) {
      if (isDisposed() || err.name === 'AbortError') return;
      const live = nodes.get(node.id) || node;
      live.loading = false;
      live.loadError = err.message;
      if (live.row && live.row.isConnected) replaceRow(live);
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

  /** Expands every loaded span above `depth` levels and collapses the rest (0: all). */
  function expandTo(levels) {
    for (const node of nodes.values()) {
      node.expanded = node.children.length > 0 && (levels === 0 || node.depth < levels - 1);
      expandedState.set(node.id, node.expanded);
    }
    renderRows();
  }

  /** Opens the ancestors of `node` (re-rendering only if one was closed) and shows its row. */
  function showNode(node, flash) {
    let opened = false;
    for (let p = node.parent; p; p = p.parent) {
      if (!p.expanded) {
        p.expanded = true;
        expandedState.set(p.id, true);
        opened = true;
      }
    }
    if (opened || !node.row || !node.row.isConnected) renderRows();
    if (!node.row || !node.row.isConnected) return;
    const [left, width] = zoom.place((node.span.start_ns - t0) / total, (node.span.start_ns - t0 + (node.span.duration_ns || 0)) / total);
    if (left > 100 || left + width < 0) zoom.reset(); // off the shown window: show everything
    node.row.scrollIntoView({ block: 'center' });
    node.row.focus({ preventScroll: true });
    if (flash) {
      node.row.classList.add('wf-flash');
      const row = node.row;
      setTimeout(() => row.classList.remove('wf-flash'), 1600);
    }
  }

  function zoomToSpan(node) {
    const a = (node.span.start_ns - t0) / total;
    const b = a + Math.max(1, node.span.duration_ns || 0) / total;
    const pad = (b - a) * 0.02;
    zoom.set(a - pad, b + pad);
  }

  // --- search inside the trace ---
  async function find(text) {
    const seq = search.seq + 1;
    search = { seq, matches: [], set: new Set(), total: 0, at: -1 };
    for (const row of body.querySelectorAll('.wf-match')) row.classList.remove('wf-match', 'wf-current');
    toolbar.setResult(null, 0, 0, 'searching…');
    try {
      const result = await api(withQuery(`/api/traces/${traceId}/search`, { text, limit: SEARCH_LIMIT }), { signal });
      if (isDisposed() || seq !== search.seq) return;
      for (const span of result.spans) found.set(span.span_id, span);
      search = { seq, matches: result.matches, set: new Set(result.matches), total: result.total, at: -1 };
      buildTree();
      renderRows();
      if (search.matches.length) showMatch(0);
      else toolbar.setResult(0, 0, 0);
      body.dataset.searched = text;
    } catch (err) {
      if (isDisposed() || err.name === 'AbortError' || seq !== search.seq) return;
      toolbar.setResult(null, 0, 0, err.message);
      toolbar.forget(); // Enter tries again
    }
  }

  function showMatch(index) {
    const { matches } = search;
    if (!matches.length) return;
    const at = ((index % matches.length) + matches.length) % matches.length;
    const before = nodes.get(matches[search.at]);
    if (before && before.row) before.row.classList.remove('wf-current');
    search.at = at;
    const node = nodes.get(matches[at]);
    toolbar.setResult(search.total, at, matches.length);
    if (!node) return;
    showNode(node, false);
    if (node.row) node.row.classList.add('wf-current');
  }

  function clearSearch() {
    search = { seq: search.seq + 1, matches: [], set: new Set(), total: 0, at: -1 };
    for (const row of body.querySelectorAll('.wf-match')) row.classList.remove('wf-match', 'wf-current');
    toolbar.setResult(null, 0, 0);
    delete body.dataset.searched;
  }

  // --- keyboard ---
  function onRowKey(event) {
    const row = event.target.closest('.wf-row');
    const node = row && nodes.get(row.dataset.spanId);
    if (!node || event.target !== row) return;
    const rows = () => [...body.querySelectorAll(':scope > .wf-row')];
    const focus = (el) => el && el.focus();
    const sibling = (el, step) => {
      let at = step > 0 ? el.nextElementSibling : el.previousElementSibling;
      while (at && !at.classList.contains('wf-row')) at = step > 0 ? at.nextElementSibling : at.previousElementSibling;
      return at;
    };
    switch (event.key) {
      case 'Enter': case ' ': toggleDetails(node); break;
      case 'ArrowDown': focus(sibling(row, 1)); break;
      case 'ArrowUp': focus(sibling(row, -1)); break;
      case 'Home': focus(rows()[0]); break;
      case 'End': focus(rows().at(-1)); break;
      case 'ArrowRight':
        if (!node.expanded && hasChildren(node)) toggleExpanded(node);
        else if (node.expanded) focus(sibling(node.row, 1));
        break;
      case 'ArrowLeft':
        if (node.expanded) toggleExpanded(node);
        else if (node.parent && node.parent.row && node.parent.row.isConnected) focus(node.parent.row);
        break;
      case 'z': zoomToSpan(node); break;
      default: return;
    }
    event.preventDefault();
  }

  /** Keys anywhere on the page while the waterfall shows; true when one was handled. */
  function onPageKey(event) {
    if (element.hidden || !element.offsetParent || event.ctrlKey || event.metaKey || event.altKey) return false;
    if (event.target.closest && event.target.closest('input, select, textarea, [contenteditable]')) return false;
    switch (event.key) {
      case '/': toolbar.focusSearch(); break;
      case '+': case '=': zoom.by(2); break;
      case '-': zoom.by(0.5); break;
      case '0': zoom.reset(); break;
      case 'n': showMatch(search.at + 1); break;
      case 'N': showMatch(search.at - 1); break;
      default: return false;
    }
    event.preventDefault();
    return true;
  }

  // --- axis and notice ---
  function drawAxis() {
    axis.replaceChildren(...TICKS.map((f) => {
      const tick = h('span', { class: `wf-tick${f === 1 ? ' last' : ''}` }, formatNs(total * (zoom.from + f * (zoom.to - zoom.from))));
      tick.style.left = `${f * 100}%`;
      return tick;
    }));
  }

  function defaultDetails() {
    const step = firstOfInterest(roots);
    if (!step) return;
    openDetails.add(step.id);
    for (let p = step.parent; p; p = p.parent) {
      if (!p.expanded) {
        p.expanded = true;
        expandedState.set(p.id, true);
      }
    }
  }

  return {
    element,
    onPageKey,
    /** Draws the trace from a `/api/traces/{id}` answer; `first` on the page's first load. */
    update(nextTrace, nextData, first) {
      trace = nextTrace;
      data = nextData;
      // The window is kept as shares of the trace; a running trace grows with every refresh,
      // so a zoomed window is carried over in nanoseconds.
      const shown = zoom.zoomed() ? [t0 + zoom.from * total, t0 + zoom.to * total] : null;
      buildTree();
      if (shown) zoom.set((shown[0] - t0) / total, (shown[1] - t0) / total);
      if (first) defaultDetails();
      notice.hidden = !data.truncated;
      notice.textContent = data.truncated
        ? `Showing the top ${formatCount(data.spans.length)} of ${formatCount(data.total_spans)} spans. ` +
          'Subtrees marked “not loaded” load when expanded; Find searches all of them.'
        : '';
      drawAxis();
      // A running trace is redrawn every 2 s: keep the keyboard on the span it was on.
      const focused = document.activeElement && body.contains(document.activeElement)
        ? document.activeElement.dataset.spanId : null;
      renderRows();
      if (focused) nodes.get(focused)?.row?.focus({ preventScroll: true });
      element.hidden = false;
      minimap.setOverview(data.overview && data.total_spans > 1 ? data.overview : null);
    },
    /** Outlines the critical path's spans. */
    markCritical(ids) {
      critical.clear();
      for (const id of ids) critical.add(id);
      for (const id of critical) {
        const node = nodes.get(id);
        if (node && node.row) node.row.classList.add('wf-critical');
      }
    },
    /** Shows the last span of `chain` (span ids from the root down), loading what it must. */
    async reveal(chain) {
      for (let i = 0; i < chain.length - 1; i += 1) {
        const node = nodes.get(chain[i]);
        if (!node || !node.row || !node.row.isConnected) break;
        if (!node.expanded) await toggleExpanded(node);
        if (isDisposed()) return;
      }
      const target = nodes.get(chain[chain.length - 1]);
      if (target) showNode(target, true);
    },
  };
}
