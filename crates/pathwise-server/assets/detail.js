// One trace: a header, then tabs: Waterfall (waterfall.js: zoom, minimap, search, colour
// by component, for traces of any size) | Flame graph (inferno's SVG of this trace, embedded
// so its zoom and search work) | Critical path (critical.js: the chain of spans that set the
// trace's duration, also outlined in the waterfall).

import {
  ApiError, api, errorBox, formatAgo, formatCount, formatNs, formatTime,
  h, isoTime, markReady, statusBadge, withQuery,
} from './util.js';
import { jsonViewer } from './json.js';
import { criticalTab } from './critical.js';
import { createWaterfall } from './waterfall.js';

const MAX_SPANS = 2000;
const POLL_MS = 2000;
const TABS = [['waterfall', 'Waterfall'], ['flame', 'Flame graph'], ['critical', 'Critical path']];

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function detailView(root, traceId, params) {
  let disposed = false;
  let pollTimer = 0;
  let first = true;
  const controller = new AbortController();
  const signal = controller.signal;
  let trace = null;

  const header = h('header', { class: 'trace-head' });
  const message = h('div', { class: 'detail-message' });
  const waterfall = createWaterfall({ traceId, signal, isDisposed: () => disposed });

  // --- tabs ---
  const wanted = params && params.get('tab');
  let tab = TABS.some(([value]) => value === wanted) ? wanted : 'waterfall';
  const tabButtons = TABS.map(([value, label]) => h('button', {
    type: 'button', role: 'tab', class: 'tab', id: `tab-${value}`, dataset: { tab: value },
    'aria-controls': `tabpanel-${value}`,
  }, label));
  const tabStrip = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Trace views', hidden: true }, tabButtons);
  const waterfallPanel = h('div', { id: 'tabpanel-waterfall', role: 'tabpanel', 'aria-labelledby': 'tab-waterfall' },
    waterfall.element);
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
  const critical = criticalTab({
    traceId, signal, panel: criticalPanel,
    isDisposed: () => disposed,
    isShown: () => tab === 'critical',
    onPath: (ids) => waterfall.markCritical(ids),
    onReveal: (chain) => {
      selectTab('waterfall');
      waterfall.reveal(chain);
    },
  });
  const onKey = (event) => waterfall.onPageKey(event);
  document.addEventListener('keydown', onKey);

  root.append(h('section', { class: 'detail-view' },
    h('a', { class: 'back-link', href: '#/traces' }, '← All traces'), message, header, tabStrip,
    waterfallPanel, flamePanel, criticalPanel));

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
  }


  // --- tabs: flame graph and critical path ---
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
    if (value === 'critical') critical.render();
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


  // --- loading ---
  async function load() {
    clearTimeout(pollTimer);
    try {
      const data = await api(withQuery(`/api/traces/${traceId}`, { max_spans: MAX_SPANS }), { signal });
      if (disposed) return;
      trace = data.trace;
      message.replaceChildren();
      renderHeader(data);
      const scroll = root.scrollTop;
      waterfall.update(trace, data, first);
      if (!first) root.scrollTop = scroll;
      if (first) {
        tabStrip.hidden = false;
        selectTab(tab);
        critical.load();
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
      document.removeEventListener('keydown', onKey);
      document.title = 'Pathwise';
    },
  };
}
