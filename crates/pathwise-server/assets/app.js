// Pathwise dashboard entry point: hash routing and the pipeline status bar.
//
// Views:  #/ or #/traces   trace list      (list.js)
//         #/trace/<id>     trace detail    (detail.js; ?tab=flame|critical opens a tab)
//         #/compare        two traces side by side (compare.js; ?a=<id>&b=<id|typical>)
//         #/funnel         decision funnel (funnel.js; ?name=<trace name>&range=)
//         #/analysis       analysis        (analysis.js)
//         #/heatmap        latency heatmap of a node or path (heatmap.js; ?node=|path=&range=)
//         #/queries        database queries (queries.js; ?range=&sort=&dir=&threshold_ms=)
//         #/health         health          (health.js; ?at=<Unix ms>&recent_s=&baseline_h=)
//         #/alerts         alerts          (alerts.js; ?rule= filters the history)
// Every view is a function (container, params) → { dispose() }.
//
// The project is in the page's address (`/?project=billing#/traces`), not in the hash, so
// every view and every link within the page stays in it; `util.api` adds it to API calls.

import { api, currentProject, formatCount, formatMs, formatPercent, formatTime } from './util.js';
import { listView } from './list.js';
import { detailView } from './detail.js';
import { compareView } from './compare.js';
import { analysisView } from './analysis.js';
import { funnelView } from './funnel.js';
import { heatmapView } from './heatmap.js';
import { healthView } from './health.js';
import { alertsView } from './alerts.js';
import { queriesView } from './queries.js';

const STATUS_EVERY_MS = 5000;

let current = null;

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const at = hash.indexOf('?');
  const path = at < 0 ? hash : hash.slice(0, at);
  return { path, params: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)) };
}

function route() {
  if (current && current.dispose) current.dispose();
  current = null;
  document.body.dataset.ready = '0';
  const view = document.getElementById('view');
  view.replaceChildren();
  view.scrollTop = 0;
  const { path, params } = parseHash();
  const trace = path.match(/^\/trace\/([0-9a-fA-F]{32})\/?$/);
  let section;
  if (trace) {
    section = 'traces';
    document.body.dataset.view = 'detail';
    current = detailView(view, trace[1].toLowerCase(), params);
  } else if (/^\/compare\/?$/.test(path)) {
    section = 'traces';
    document.body.dataset.view = 'compare';
    current = compareView(view, params);
  } else if (/^\/funnel\/?$/.test(path)) {
    section = 'funnel';
    document.body.dataset.view = 'funnel';
    current = funnelView(view, params);
  } else if (/^\/heatmap\/?$/.test(path)) {
    section = 'analysis';
    document.body.dataset.view = 'heatmap';
    current = heatmapView(view, params);
  } else if (/^\/analysis\/?$/.test(path)) {
    section = 'analysis';
    document.body.dataset.view = 'analysis';
    current = analysisView(view, params);
  } else if (/^\/queries\/?$/.test(path)) {
    section = 'queries';
    document.body.dataset.view = 'queries';
    current = queriesView(view, params);
  } else if (/^\/health\/?$/.test(path)) {
    section = 'health';
    document.body.dataset.view = 'health';
    current = healthView(view, params);
  } else if (/^\/alerts\/?$/.test(path)) {
    section = 'alerts';
    document.body.dataset.view = 'alerts';
    current = alertsView(view, params);
  } else {
    section = 'traces';
    document.body.dataset.view = 'list';
    current = listView(view, params);
  }
  for (const link of document.querySelectorAll('.topnav a[data-nav]')) {
    if (link.dataset.nav === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

// --- status bar -------------------------------------------------------------------------

function setText(id, text, title) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  if (title !== undefined) el.title = title;
}

/** The alert badge: `N firing` (red when any), `alerting off`, or hidden (an older server). */
function showAlerts(p) {
  const badge = document.getElementById('sb-alerts');
  if (!badge) return;
  const count = Number(p.firing_alerts) || 0;
  badge.hidden = p.alerting == null;
  badge.classList.toggle('sb-alerts-firing', p.alerting === true && count > 0);
  badge.classList.toggle('sb-alerts-off', p.alerting === false);
  badge.dataset.count = p.alerting ? String(count) : '';
  setText('sb-alerts-text', p.alerting ? `${formatCount(count)} firing` : 'alerting off',
    p.alerting
      ? `${formatCount(count)} alert${count === 1 ? '' : 's'} firing: open the Alerts page`
      : 'Alerting is off: start the server with --alerts alerts.toml');
}

async function refreshStatus() {
  const bar = document.getElementById('statusbar');
  try {
    const p = await api('/api/pipeline');
    setText('sb-queue', p.queue_depth == null ? '—' : formatCount(p.queue_depth));
    const rate = p.last_5m ? p.last_5m.error_rate : null;
    setText(
      'sb-errors',
      formatPercent(rate ?? (p.last_5m && p.last_5m.spans === 0 ? 0 : null)),
      p.last_5m ? `${formatCount(p.last_5m.errors)} failed of ${formatCount(p.last_5m.spans)} spans` : '',
    );
    setText('sb-lag', p.write_lag_ms == null ? '—' : formatMs(p.write_lag_ms));
    const extra = [];
    if (p.written != null) extra.push(`${formatCount(p.written)} written`);
    if (p.spilled) extra.push(`${formatCount(p.spilled)} spilled`);
    if (p.dropped) extra.push(`${formatCount(p.dropped)} dropped`);
    setText('sb-extra', extra.join(' · '));
    showAlerts(p);
    setText(
      'sb-updated',
      p.updated_ns == null ? 'no pipeline statistics yet' : `pipeline stats of ${formatTime(p.updated_ns)}`,
    );
    bar.dataset.state = p.dropped ? 'warn' : 'ok';
    bar.classList.toggle('sb-warn', Boolean(p.dropped) || (rate ?? 0) > 0.05);
  } catch (err) {
    bar.dataset.state = 'error';
    setText('sb-updated', `status unavailable: ${err.message}`);
  }
}

/** The project picker: shown when the credential reaches more than one project. */
async function startProjectPicker() {
  const picker = document.getElementById('project-picker');
  const select = document.getElementById('project');
  if (!picker || !select) return;
  let list;
  try {
    list = await api('/api/projects');
  } catch {
    return; // an older server, or no access: the default project alone
  }
  const projects = list.projects || [];
  const current = currentProject() || list.current;
  document.body.dataset.project = current;
  if (projects.length < 2) return;
  select.replaceChildren(...projects.map((p) => {
    const option = document.createElement('option');
    option.value = p.name;
    option.textContent = p.default ? `${p.name} (default)` : p.name;
    option.selected = p.name === current;
    return option;
  }));
  picker.hidden = false;
  select.addEventListener('change', () => {
    const url = new URL(location.href);
    url.searchParams.set('project', select.value);
    location.assign(url.pathname + url.search + location.hash);
  });
}

function startStatusBar() {
  refreshStatus();
  setInterval(refreshStatus, STATUS_EVERY_MS);
}

window.addEventListener('hashchange', route);
// The Alerts page acknowledged or silenced something.
window.addEventListener('pathwise:alerts-changed', refreshStatus);
route();
startStatusBar();
startProjectPicker();
