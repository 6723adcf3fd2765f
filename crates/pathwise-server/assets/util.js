// Shared helpers: DOM building (text only, never HTML), API calls, formatting.

/**
 * Creates an element. `props`: `class`, `dataset`, `on<event>` handlers, DOM properties or
 * attributes. Children are nodes or values turned into text nodes, so data is never parsed as
 * HTML.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const key of Object.keys(props)) {
      const value = props[key];
      if (value == null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'text') el.textContent = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  appendAll(el, children);
  return el;
}

function appendAll(el, children) {
  for (const child of children) {
    if (child == null || child === false) continue;
    if (Array.isArray(child)) appendAll(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** A failed API call. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Shows the "sign in again" banner (the API answered 401). */
export function showAuthNotice() {
  const notice = document.getElementById('auth-notice');
  if (notice) notice.hidden = false;
  document.body.dataset.auth = 'required';
}

/** The project the page shows (`?project=` of the page's address); '' for the default. */
export function currentProject() {
  return new URLSearchParams(location.search).get('project') || '';
}

/** `path` with the page's project added, when it is an API path that names none. */
export function scoped(path) {
  const project = currentProject();
  if (!project || !path.startsWith('/api/')) return path;
  const url = new URL(path, location.origin);
  if (url.searchParams.has('project')) return path;
  url.searchParams.set('project', project);
  return url.pathname + url.search;
}

/** GET a same-origin API path (in the page's project); the auth cookie travels with it. */
export async function api(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(scoped(path), {
      signal,
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
    });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'the server cannot be reached');
  }
  if (response.status === 401) {
    showAuthNotice();
    throw new ApiError(401, 'sign in required');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error && body.error.message;
    throw new ApiError(response.status, message || `HTTP ${response.status}`);
  }
  return body;
}

/** Builds `path?k=v&…`, leaving out empty values. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return scoped(text ? `${path}?${text}` : path);
}

/** A duration given in milliseconds, human-sized. */
export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms <= 0) return '0 ms';
  if (ms < 0.001) return `${Math.round(ms * 1e6)} ns`;
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return `${minutes}m ${seconds}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** A duration given in nanoseconds. */
export function formatNs(ns) {
  return ns == null ? '—' : formatMs(ns / 1e6);
}

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** Local date and time of a Unix-nanosecond instant: `2026-01-31 14:05:09.123`. */
export function formatTime(ns) {
  if (ns == null) return '—';
  const d = new Date(ns / 1e6);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** ISO form for tooltips. */
export function isoTime(ns) {
  return ns == null ? '' : new Date(ns / 1e6).toISOString();
}

/** `12s ago`, `3m ago`, … */
export function formatAgo(ns) {
  if (ns == null) return '';
  const seconds = Math.max(0, (Date.now() - ns / 1e6) / 1000);
  if (seconds < 60) return `${Math.round(seconds)}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

// One formatter for every count: `toLocaleString` builds a new one per call, which costs a
// page of 2,000 rows a few hundred milliseconds.
const COUNTS = new Intl.NumberFormat('en-US');

/** Thousands separators. */
export function formatCount(n) {
  return n == null ? '—' : COUNTS.format(Number(n));
}

/** A ratio (0.0123) as a percentage (`1.23%`). */
export function formatPercent(ratio) {
  if (ratio == null || !Number.isFinite(ratio)) return '—';
  const pct = ratio * 100;
  if (pct === 0) return '0%';
  if (pct < 0.01) return '<0.01%';
  return `${pct < 10 ? pct.toFixed(2) : pct.toFixed(1)}%`;
}

/** Bytes, decimal units: `312 MB`. */
export function formatBytes(bytes) {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  const sign = bytes < 0 ? '−' : '';
  let value = Math.abs(bytes);
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${sign}${value.toFixed(digits)} ${units[unit]}`;
}

/** A status badge: running, completed, failed, ok, error. */
export function statusBadge(status) {
  const known = ['running', 'completed', 'failed', 'ok', 'error'];
  const cls = known.includes(status) ? status : 'unknown';
  return h('span', { class: `badge badge-${cls}` }, status || 'unknown');
}

/** Copies text: the async clipboard API where available, else a hidden textarea. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the legacy path (permissions, insecure context)
  }
  const area = h('textarea', { class: 'offscreen', readonly: true });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

/** Calls `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** An error message box. */
export function errorBox(err) {
  const message = err instanceof ApiError && err.status === 401
    ? 'Sign in required: the server did not accept this session.'
    : `Could not load: ${err && err.message ? err.message : err}`;
  const box = h('div', { class: 'error-box', role: 'alert' }, message);
  if (err instanceof ApiError && err.status === 401) {
    box.append(' ', h('a', { href: '/' }, 'Sign in'));
  }
  return box;
}

/** Marks the view rendered (used by tests and the render-time benchmark), after a paint. */
export function markReady(view) {
  requestAnimationFrame(() => {
    setTimeout(() => {
      document.body.dataset.view = view;
      document.body.dataset.ready = '1';
      window.__pathwiseReadyAt = performance.now();
    }, 0);
  });
}

/** The time ranges the views over many traces offer: [value, label]. */
export const RANGES = [['15m', '15 min'], ['1h', '1 hour'], ['24h', '24 hours'], ['7d', '7 days']];

/** `wanted` if it is one of [`RANGES`], else `fallback`. */
export function knownRange(wanted, fallback = '24h') {
  return RANGES.some(([value]) => value === wanted) ? wanted : fallback;
}

/** A segmented control of [`RANGES`] with `current` pressed; `onChange(value)` on a new choice. */
export function rangePicker(current, onChange) {
  const buttons = RANGES.map(([value, label]) => h('button', {
    type: 'button', class: 'seg-btn', dataset: { range: value }, 'aria-pressed': String(value === current), title: `The last ${label}`,
  }, value));
  const group = h('div', { class: 'seg', role: 'group', 'aria-label': 'Time range' }, buttons);
  group.addEventListener('click', (event) => {
    const button = event.target.closest('[data-range]');
    if (!button) return;
    for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
    onChange(button.dataset.range);
  });
  return group;
}
