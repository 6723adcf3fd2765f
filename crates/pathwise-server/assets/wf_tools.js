// The waterfall's tools for big traces: the time window it shows (zoom and pan), the minimap
// of the whole trace (drawn from the server's overview, so it covers every span even when
// the page has loaded a few thousand of 500,000), colours by component, and the toolbar
// (search inside the trace, zoom, colour, depth).

import { formatCount, h } from './util.js';

/** The narrowest window, as a share of the trace (1 µs of a 100 s trace). */
const MIN_SPAN = 1e-8;
const ZOOM_STEP = 2;
const MINIMAP_HEIGHT = 44;
/**
 * Distinct hues that read on the white panel; a component keeps its colour across pages. No
 * reds or oranges: red marks failures, orange the critical path and search matches.
 */
const PALETTE = ['#3b5bdb', '#0c8599', '#7048e8', '#2f9e44', '#ae3ec9', '#1c7ed6',
  '#5c940d', '#087f5b', '#845ef7', '#495057', '#0b7285', '#364fc7'];

/**
 * The shown window of the trace as shares of its time scale: `from`..`to` within 0..1.
 * `onChange` runs after every change.
 */
export function createZoom(onChange) {
  const zoom = {
    from: 0,
    to: 1,
    set(from, to) {
      let a = Math.min(from, to);
      let b = Math.max(from, to);
      if (b - a < MIN_SPAN) {
        const mid = (a + b) / 2;
        a = mid - MIN_SPAN / 2;
        b = mid + MIN_SPAN / 2;
      }
      const width = Math.min(1, b - a);
      a = Math.max(0, Math.min(a, 1 - width));
      zoom.from = a;
      zoom.to = a + width;
      onChange();
    },
    /** Zooms in (`factor` > 1) or out around `centre` (a share of the trace). */
    by(factor, centre = (zoom.from + zoom.to) / 2) {
      const width = (zoom.to - zoom.from) / factor;
      const at = (centre - zoom.from) / (zoom.to - zoom.from);
      zoom.set(centre - at * width, centre - at * width + width);
    },
    pan(delta) {
      zoom.set(zoom.from + delta, zoom.to + delta);
    },
    reset() {
      zoom.set(0, 1);
    },
    zoomed() {
      return zoom.from > 0 || zoom.to < 1;
    },
    /** Left and width (percent of the track) of the stretch `a`..`b` (shares of the trace). */
    place(a, b) {
      const span = zoom.to - zoom.from;
      return [((a - zoom.from) / span) * 100, ((b - a) / span) * 100];
    },
  };
  return zoom;
}

/** The colour of a component (span group), the same on every page and every load. */
export function componentColour(group) {
  if (!group) return 'var(--bar)';
  let hash = 2166136261;
  for (let i = 0; i < group.length; i += 1) hash = Math.imul(hash ^ group.charCodeAt(i), 16777619);
  return PALETTE[(hash >>> 0) % PALETTE.length];
}

/** A bar's colour under colour mode `mode`; '' leaves the stylesheet's (by kind and status). */
export function barColour(mode, span) {
  if (mode === 'component') return span.status === 'error' || !span.group ? '' : componentColour(span.group);
  if (mode === 'status') return span.status === 'error' ? 'var(--bad)' : 'var(--ok)';
  return '';
}

/**
 * The whole trace in one strip: spans running per column (grey), failures (red), the shown
 * window outlined. Drag to choose a window, drag the window to move it, click to centre it
 * there, double-click to see everything. `scale()` gives the page's `[t0, total]` in ns.
 */
export function createMinimap(zoom, scale) {
  const canvas = h('canvas', { class: 'wf-minimap-canvas', id: 'wf-minimap', height: MINIMAP_HEIGHT,
    role: 'img', 'aria-label': 'The whole trace: spans running over time; drag to zoom' });
  const element = h('div', { class: 'wf-minimap' },
    h('div', { class: 'wf-minimap-label muted small' }, 'Whole trace: drag to zoom, double-click to reset'), canvas);
  let overview = null;
  let drag = null; // {mode: 'select'|'move', x0, from0, to0, x}

  const share = (clientX) => {
    const rect = canvas.getBoundingClientRect();
    return Math.max(0, Math.min(1, (clientX - rect.left) / Math.max(1, rect.width)));
  };

  function draw() {
    const width = Math.max(1, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
    const height = Math.round(MINIMAP_HEIGHT * (window.devicePixelRatio || 1));
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== height) canvas.height = height;
    const ctx = canvas.getContext('2d');
    const css = getComputedStyle(canvas);
    const colour = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    ctx.clearRect(0, 0, width, height);
    if (overview && overview.busy.length) {
      const [t0, total] = scale();
      const columns = overview.busy.length;
      const column = (overview.end_ns - overview.start_ns) / columns;
      const most = Math.max(1, ...overview.busy);
      const x = (ns) => ((ns - t0) / total) * width;
      ctx.fillStyle = colour('--bar', '#7c8aa5');
      for (let i = 0; i < columns; i += 1) {
        if (!overview.busy[i]) continue;
        const left = x(overview.start_ns + i * column);
        const barHeight = Math.max(1, (overview.busy[i] / most) * (height - 6));
        ctx.fillRect(left, height - barHeight, Math.max(1, x(overview.start_ns + (i + 1) * column) - left), barHeight);
      }
      ctx.fillStyle = colour('--bad', '#c92a2a');
      for (let i = 0; i < columns; i += 1) {
        if (overview.failed[i]) ctx.fillRect(x(overview.start_ns + (i + 0.5) * column) - 1, 0, 3, 6);
      }
    }
    // The shown window: the rest dimmed, the window outlined.
    let [a, b] = [zoom.from, zoom.to];
    if (drag && drag.mode === 'select') [a, b] = [Math.min(drag.x0, drag.x), Math.max(drag.x0, drag.x)];
    ctx.fillStyle = 'rgba(29, 33, 39, 0.12)';
    ctx.fillRect(0, 0, a * width, height);
    ctx.fillRect(b * width, 0, width - b * width, height);
    ctx.strokeStyle = colour('--accent', '#3b5bdb');
    ctx.lineWidth = 2;
    ctx.strokeRect(a * width + 1, 1, Math.max(2, (b - a) * width - 2), height - 2);
    canvas.dataset.from = zoom.from.toFixed(6);
    canvas.dataset.to = zoom.to.toFixed(6);
  }

  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return; // the primary button only
    const x = share(event.clientX);
    const inside = zoom.zoomed() && x >= zoom.from && x <= zoom.to;
    drag = { mode: inside ? 'move' : 'select', x0: x, x, from0: zoom.from, to0: zoom.to };
    if (canvas.setPointerCapture && event.pointerId !== undefined) {
      try { canvas.setPointerCapture(event.pointerId); } catch { /* synthetic pointers have none */ }
    }
    event.preventDefault();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!drag) return;
    drag.x = share(event.clientX);
    if (drag.mode === 'move') zoom.set(drag.from0 + drag.x - drag.x0, drag.to0 + drag.x - drag.x0);
    else draw();
  });
  const finish = (event) => {
    if (!drag) return;
    const done = drag;
    drag = null;
    const x = event.clientX === undefined ? done.x : share(event.clientX);
    const pixels = Math.abs(x - done.x0) * canvas.clientWidth;
    if (done.mode === 'select' && pixels >= 3) zoom.set(done.x0, x);
    else if (pixels < 3) {
      const half = (zoom.to - zoom.from) / 2;
      zoom.set(x - half, x + half); // a click centres the window there
    } else draw();
  };
  canvas.addEventListener('pointerup', finish);
  const cancel = () => {
    drag = null;
    draw();
  };
  canvas.addEventListener('pointercancel', cancel);
  canvas.addEventListener('lostpointercapture', () => { if (drag) cancel(); });
  canvas.addEventListener('dblclick', () => zoom.reset());
  if (typeof ResizeObserver === 'function') new ResizeObserver(() => draw()).observe(canvas);

  return {
    element,
    draw,
    setOverview(value) {
      overview = value;
      element.hidden = !value;
      draw();
    },
  };
}

/**
 * The toolbar above the waterfall. `on`: `search(text)`, `step(delta)` (next/previous
 * match), `clear()`, `colour(mode)`, `depth(levels)` (0 for every loaded level), and the
 * zoom to drive.
 */
export function createToolbar(zoom, on) {
  const input = h('input', { type: 'search', class: 'search wf-search', id: 'wf-search',
    placeholder: 'Find spans: name, component, error type or id', 'aria-label': 'Find spans in this trace',
    autocomplete: 'off', spellcheck: 'false' });
  const count = h('span', { class: 'muted small wf-search-count', id: 'wf-search-count', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'btn wf-prev', title: 'Previous match (Shift+Enter, N)', disabled: true }, '↑');
  const next = h('button', { type: 'button', class: 'btn wf-next', title: 'Next match (Enter, n)', disabled: true }, '↓');
  const zoomOut = h('button', { type: 'button', class: 'btn', id: 'wf-zoom-out', title: 'Zoom out (−)' }, '−');
  const zoomIn = h('button', { type: 'button', class: 'btn', id: 'wf-zoom-in', title: 'Zoom in (+)' }, '+');
  const zoomReset = h('button', { type: 'button', class: 'btn', id: 'wf-zoom-reset', title: 'Show the whole trace (0)' }, 'Whole trace');
  const colour = h('select', { id: 'wf-colour', 'aria-label': 'Colour bars by' },
    h('option', { value: 'component' }, 'Colour: component'),
    h('option', { value: 'kind' }, 'Colour: kind'),
    h('option', { value: 'status' }, 'Colour: status'));
  const depth = h('select', { id: 'wf-depth', 'aria-label': 'Expand to level' },
    h('option', { value: '' }, 'Expand…'),
    [1, 2, 3, 4, 6].map((n) => h('option', { value: String(n) }, `${n} level${n > 1 ? 's' : ''}`)),
    h('option', { value: '0' }, 'All loaded'));
  const legend = h('div', { class: 'wf-legend', id: 'wf-legend' });

  let last = '';
  const run = () => {
    const text = input.value.trim();
    if (text === last) return false;
    last = text;
    if (text) on.search(text);
    else on.clear();
    return true;
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      if (!run()) on.step(event.shiftKey ? -1 : 1);
      event.preventDefault();
    } else if (event.key === 'Escape') {
      input.value = '';
      run();
    }
  });
  input.addEventListener('search', () => { if (!input.value) run(); });
  prev.addEventListener('click', () => on.step(-1));
  next.addEventListener('click', () => on.step(1));
  zoomOut.addEventListener('click', () => zoom.by(1 / ZOOM_STEP));
  zoomIn.addEventListener('click', () => zoom.by(ZOOM_STEP));
  zoomReset.addEventListener('click', () => zoom.reset());
  colour.addEventListener('change', () => on.colour(colour.value));
  depth.addEventListener('change', () => {
    if (depth.value !== '') on.depth(Number(depth.value));
    depth.value = '';
  });
  legend.addEventListener('click', (event) => {
    const item = event.target.closest('[data-group]');
    if (!item) return;
    input.value = item.dataset.group;
    run();
  });

  const element = h('div', { class: 'wf-toolbar', role: 'toolbar', 'aria-label': 'Waterfall tools' },
    h('div', { class: 'wf-find' }, input, prev, next, count),
    h('div', { class: 'wf-zoom' }, zoomOut, zoomIn, zoomReset),
    colour, depth,
    h('span', { class: 'muted small wf-keys' },
      'Keys: ↑↓ move · ←→ fold · Enter details · z zoom to span · + − 0 zoom · / find · n N next match'));

  return {
    element,
    legend,
    colourMode: () => colour.value,
    /** Forgets the last search, so Enter runs it again (after a failure). */
    forget() {
      last = '';
    },
    focusSearch() {
      input.focus();
      input.select();
    },
    /** Shows the search's state: `total` matches, `at` (0-based) the current, `shown` sent. */
    setResult(total, at, shown, error) {
      prev.disabled = next.disabled = !(shown > 0);
      if (error) count.textContent = error;
      else if (total == null) count.textContent = '';
      else if (total === 0) count.textContent = 'no match';
      else count.textContent = `${formatCount(at + 1)} of ${formatCount(total)}${shown < total ? ` (first ${formatCount(shown)})` : ''}`;
    },
    /** Lists the components of the loaded spans with their colours and span counts. */
    setLegend(groups) {
      legend.hidden = colour.value !== 'component' || groups.size === 0;
      legend.replaceChildren(...[...groups].sort((a, b) => b[1] - a[1]).map(([group, n]) => {
        const swatch = h('span', { class: 'wf-swatch' });
        swatch.style.background = componentColour(group);
        return h('button', { type: 'button', class: 'wf-legend-item', dataset: { group }, title: `Find the spans of ${group}` },
          swatch, group, h('span', { class: 'muted' }, ` ${formatCount(n)}`));
      }));
    },
  };
}
