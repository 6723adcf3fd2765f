// The Alerts page (#/alerts): what the alert engine is saying right now.
//
// Panels: active alerts (severity colour, state — "silenced" when a silence covers one —,
// value, summary, since, acknowledged by) with "Acknowledge" and "Silence…" actions; every
// rule with its state (alert_rules.js) and a "Silence…" action; rule errors; silences, each
// with "End"; the history of transitions (newest first), filterable by rule. Values are shown
// in their rules' units. Data: GET /api/alerts, reloaded every 10 s (paused while a silence
// form is open); actions: POST /api/alerts/{fp}/ack?by=, POST /api/silences and
// POST /api/silences/{id}/end. The address may carry `rule` (the history filter). Every value
// from the data is inserted as text.

import {
  SEVERITIES, formatValue, lower, rulesTable, sevBadge, sevClass, stateBadge, tracesLink, unitsByRule,
} from './alert_rules.js';
import {
  ApiError, api, errorBox, formatAgo, formatTime, h, isoTime, markReady,
  scoped, showAuthNotice, withQuery,
} from './util.js';

const REFRESH_MS = 10_000;
const HISTORY_LIMIT = 200;
const SILENCE_LENGTHS = [['1h', '1 hour'], ['4h', '4 hours'], ['24h', '24 hours']];
const NAME_KEY = 'pathwise.alerts.ackName';
const DEFAULT_ACTOR = 'dashboard';

const empty = (text, id) => h('p', { class: 'empty-state', id }, text);

/** A silence matcher: `{Rule: "x"}`, `{Fingerprint: "…"}` (any casing) or a plain string. */
function matcherText(matcher) {
  if (matcher == null) return '—';
  if (typeof matcher !== 'object') return String(matcher);
  const [kind, value] = Object.entries(matcher)[0] || ['', ''];
  return `${lower(kind)} = ${value}`;
}

/** `in 2h`, `in 5m`, … for an instant ahead; `expired` once passed. */
function formatIn(ns) {
  if (ns == null) return '';
  const seconds = (ns / 1e6 - Date.now()) / 1000;
  if (seconds <= 0) return 'expired';
  if (seconds < 60) return `in ${Math.round(seconds)}s`;
  if (seconds < 3600) return `in ${Math.round(seconds / 60)}m`;
  if (seconds < 86_400) return `in ${Math.round(seconds / 3600)}h`;
  return `in ${Math.round(seconds / 86_400)}d`;
}

function labelList(labels) {
  const entries = Object.entries(labels || {});
  if (!entries.length) return null;
  return h('span', { class: 'alert-labels' },
    entries.map(([k, v]) => h('span', { class: 'label-chip' }, `${k}=${v}`)));
}

/**
 * POST a same-origin API path (the session cookie goes along); 401 shows the sign-in banner.
 * The X-Pathwise-Request header is what the server asks of state-changing calls: a page on
 * another site cannot send it without CORS permission.
 */
async function post(path) {
  let response;
  try {
    response = await fetch(scoped(path), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-pathwise-request': '1' },
    });
  } catch {
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

function panel(id, title, ...head) {
  const body = h('div', { class: 'al-body' });
  const el = h('div', { class: 'ana-panel al-panel', id, dataset: { state: 'loading' } },
    h('div', { class: 'ana-panel-head' }, h('h2', null, title), head),
    body);
  body.append(h('p', { class: 'muted' }, 'Loading…'));
  return { el, body };
}

function readName() {
  try {
    return localStorage.getItem(NAME_KEY) || '';
  } catch {
    return '';
  }
}

function saveName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // private mode: the name lasts for this page only
  }
}

export function alertsView(root, params) {
  let disposed = false;
  let first = true;
  let timer = 0;
  let seq = 0;
  let controller = new AbortController();
  let formOpenFor = null;
  let ruleFilter = params.get('rule') || '';
  const knownRules = new Set(ruleFilter ? [ruleFilter] : []);

  const message = h('div', { class: 'al-message' });
  const updated = h('span', { class: 'muted small', id: 'alerts-updated' });
  const live = h('span', { class: 'live-indicator', title: `reloads every ${REFRESH_MS / 1000} s` }, '● live');
  const refresh = h('button', { class: 'btn', id: 'alerts-refresh', type: 'button', onclick: () => load() }, 'Refresh');
  const nameInput = h('input', {
    class: 'al-name', id: 'alerts-actor', type: 'text', maxlength: 100,
    placeholder: DEFAULT_ACTOR, 'aria-label': 'Acknowledge as', autocomplete: 'off',
  });
  nameInput.value = readName();
  nameInput.addEventListener('change', () => saveName(nameInput.value.trim()));
  const actor = () => nameInput.value.trim() || DEFAULT_ACTOR;

  const summary = h('span', { class: 'muted small', id: 'alerts-summary' });
  const active = panel('alerts-active', 'Active alerts', summary, h('span', { class: 'spacer' }),
    h('label', { class: 'al-name-label small muted' }, 'Acknowledge as ', nameInput));
  const rulesPanel = panel('alerts-rules', 'Rules', h('span', { class: 'muted small', id: 'rules-summary' }));
  const errors = panel('alerts-rule-errors', 'Rule errors');
  const silences = panel('alerts-silences', 'Silences');
  const ruleSelect = h('select', { id: 'history-rule', 'aria-label': 'Filter the history by rule' });
  ruleSelect.addEventListener('change', () => {
    ruleFilter = ruleSelect.value;
    const hash = ruleFilter ? `#/alerts?${new URLSearchParams({ rule: ruleFilter })}` : '#/alerts';
    window.history.replaceState(null, '', hash);
    load();
  });
  const historyPanel = panel('alerts-history', 'History', h('span', { class: 'muted small' }, 'newest first'),
    h('span', { class: 'spacer' }), h('label', { class: 'small muted' }, 'Rule ', ruleSelect));
  const sections = h('div', { class: 'al-sections' },
    active.el, rulesPanel.el, errors.el, silences.el, historyPanel.el);

  root.append(h('section', { class: 'alerts-view' },
    h('div', { class: 'ana-top' },
      h('h1', { class: 'page-title' }, 'Alerts'), h('span', { class: 'spacer' }), updated, live, refresh),
    message, sections));

  // --- actions -------------------------------------------------------------------------

  async function act(button, path, note) {
    button.disabled = true;
    message.replaceChildren();
    try {
      await post(path);
      message.replaceChildren(h('div', { class: 'al-note', role: 'status' }, note));
      window.dispatchEvent(new CustomEvent('pathwise:alerts-changed'));
    } catch (err) {
      message.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
    }
    formOpenFor = null;
    load();
  }

  function acknowledge(alert, button) {
    const by = actor();
    act(button, withQuery(`/api/alerts/${encodeURIComponent(alert.fingerprint)}/ack`, { by }),
      `Acknowledged ${alert.rule} as ${by}.`);
  }

  function endSilence(silence, button) {
    act(button, `/api/silences/${encodeURIComponent(silence.id)}/end`,
      `Ended the silence of ${matcherText(silence.matcher)}.`);
  }

  /** The silence form of an alert (`{rule, fingerprint}`) or of a rule (`{rule}` only). */
  function silenceForm(alert) {
    const length = h('select', { name: 'for', 'aria-label': 'Silence for' },
      SILENCE_LENGTHS.map(([value, label]) => h('option', { value }, label)));
    const scope = h('select', { name: 'scope', 'aria-label': 'Silence what' },
      h('option', { value: 'rule' }, 'every alert of this rule'),
      alert.fingerprint ? h('option', { value: 'fingerprint' }, 'only this alert') : null);
    const comment = h('input', {
      name: 'comment', type: 'text', maxlength: 500, placeholder: 'why (e.g. deploy in progress)',
      'aria-label': 'Comment', autocomplete: 'off',
    });
    const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Silence');
    const cancel = h('button', {
      class: 'btn', type: 'button',
      onclick: () => {
        formOpenFor = null;
        load();
      },
    }, 'Cancel');
    const form = h('form', {
      class: 'silence-form', id: 'silence-form', dataset: { fingerprint: alert.fingerprint || '', rule: alert.rule },
    },
      h('label', null, 'Silence ', scope), h('label', null, 'for ', length),
      comment, submit, cancel);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const target = scope.value === 'rule' ? { rule: alert.rule } : { fingerprint: alert.fingerprint };
      act(submit, withQuery('/api/silences', { ...target, for: length.value, comment: comment.value.trim() }),
        `Silenced ${alert.rule} for ${length.selectedOptions[0].textContent}.`);
    });
    requestAnimationFrame(() => comment.focus());
    return form;
  }

  // --- rendering -----------------------------------------------------------------------

  function alertCard(alert) {
    const fact = (label, value, cls) => h('div', { class: 'al-fact' },
      h('dt', null, label), h('dd', { class: cls || null }, value));
    const sinceNs = alert.fired_ns ?? alert.since_ns;
    const ack = h('button', { class: 'btn btn-small alert-ack', type: 'button' }, 'Acknowledge');
    ack.addEventListener('click', () => acknowledge(alert, ack));
    const silence = h('button', {
      class: 'btn btn-small alert-silence', type: 'button',
      'aria-expanded': formOpenFor === alert.fingerprint ? 'true' : 'false',
    }, 'Silence…');
    silence.addEventListener('click', () => {
      formOpenFor = formOpenFor === alert.fingerprint ? null : alert.fingerprint;
      renderForms();
    });
    const annotations = alert.annotations || {};
    const state = lower(alert.state) === 'firing' ? 'firing' : 'pending';
    // A silenced alert still fires or waits, but nobody is told: it reads "silenced".
    const shown = alert.silenced ? 'silenced' : state;
    return h('article', {
      class: `alert-card ${sevClass(alert.severity)} state-${shown}`,
      dataset: { fingerprint: alert.fingerprint, rule: alert.rule, severity: lower(alert.severity), state: shown, alertState: state },
    },
    h('div', { class: 'alert-head' },
      sevBadge(alert.severity), stateBadge(shown),
      alert.silenced ? h('span', { class: 'alert-underlying muted small' }, `(${state})`) : null,
      h('span', { class: 'alert-rule' }, alert.rule),
      tracesLink(rulesByName.get(alert.rule)),
      labelList(alert.labels),
      h('span', { class: 'spacer' }),
      alert.acked_by ? h('span', { class: 'alert-acked' }, `acknowledged by ${alert.acked_by}`) : null,
      ack, silence),
    annotations.summary ? h('p', { class: 'alert-summary' }, annotations.summary) : null,
    annotations.description ? h('p', { class: 'alert-description muted' }, annotations.description) : null,
    h('dl', { class: 'al-facts' },
      fact('Value', formatValue(alert.value, units.get(alert.rule)), 'alert-value'),
      h('div', { class: 'al-fact', title: isoTime(sinceNs) },
        h('dt', null, state === 'firing' ? 'Firing since' : 'Pending since'),
        h('dd', { class: 'alert-since' }, `${formatAgo(sinceNs)} (${formatTime(sinceNs).slice(0, 19)})`)),
      fact('Acknowledged by', alert.acked_by || '—', `alert-acked-by${alert.acked_by ? '' : ' muted'}`),
      alert.clear_since_ns != null ? fact('Clear since', formatAgo(alert.clear_since_ns)) : null,
      alert.last_notified_ns != null ? fact('Last notified', formatAgo(alert.last_notified_ns)) : null),
    formOpenFor === alert.fingerprint ? silenceForm(alert) : null);
  }

  let lastData = null;
  let units = new Map();
  let rulesByName = new Map();

  /** Redraws the panels that can hold the silence form (one form is open at a time). */
  function renderForms() {
    renderActive(lastData);
    renderRules(lastData.rules || []);
  }

  function renderActive(data) {
    const list = data.active || [];
    const silenced = list.filter((a) => a.silenced).length;
    const firing = list.filter((a) => !a.silenced && lower(a.state) === 'firing').length;
    const pending = list.length - silenced - firing;
    summary.textContent = list.length
      ? `${firing} firing · ${pending} pending${silenced ? ` · ${silenced} silenced` : ''}` : '';
    active.el.dataset.state = list.length ? 'loaded' : 'empty';
    if (!list.length) {
      active.body.replaceChildren(empty('Nothing is firing: no rule’s condition holds right now.', 'alerts-none'));
      return;
    }
    const sorted = [...list].sort((a, b) => SEVERITIES.indexOf(lower(b.severity)) - SEVERITIES.indexOf(lower(a.severity))
      || (lower(a.state) === 'firing' ? -1 : 0) - (lower(b.state) === 'firing' ? -1 : 0)
      || a.since_ns - b.since_ns);
    active.body.replaceChildren(h('div', { class: 'alert-list', id: 'alert-list' }, sorted.map(alertCard)));
  }

  function renderRules(rules) {
    const counts = {};
    for (const r of rules) counts[lower(r.state)] = (counts[lower(r.state)] || 0) + 1;
    rulesPanel.el.querySelector('#rules-summary').textContent = ['firing', 'pending', 'silenced', 'ok']
      .filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(' · ');
    rulesPanel.el.dataset.state = rules.length ? 'loaded' : 'empty';
    if (!rules.length) {
      rulesPanel.body.replaceChildren(empty(lastData.evaluated_here === false
        ? 'The rules are evaluated by another server on this store; its rules file is not read here.'
        : 'The rules file has no rules.', 'rules-none'));
      return;
    }
    const key = (rule) => `rule:${rule.name}`;
    rulesPanel.body.replaceChildren(rulesTable(rules, {
      silenceAction: (rule) => {
        const button = h('button', {
          class: 'btn btn-small rule-silence', type: 'button',
          'aria-expanded': formOpenFor === key(rule) ? 'true' : 'false',
        }, 'Silence…');
        button.addEventListener('click', () => {
          formOpenFor = formOpenFor === key(rule) ? null : key(rule);
          renderForms();
        });
        return button;
      },
      formFor: (rule) => (formOpenFor === key(rule) ? silenceForm({ rule: rule.name }) : null),
    }));
  }

  function renderErrors(ruleErrors) {
    const entries = Object.entries(ruleErrors || {});
    errors.el.hidden = !entries.length;
    errors.el.dataset.state = entries.length ? 'loaded' : 'empty';
    errors.body.replaceChildren(h('ul', { class: 'rule-errors', id: 'rule-error-list' },
      entries.map(([rule, text]) => h('li', { dataset: { rule } },
        h('span', { class: 'rule-error-name' }, rule), h('span', { class: 'rule-error-text' }, String(text))))));
  }

  function renderSilences(list) {
    silences.el.dataset.state = list.length ? 'loaded' : 'empty';
    if (!list.length) {
      silences.body.replaceChildren(empty('No silences: every alert notifies.'));
      return;
    }
    silences.body.replaceChildren(h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table silence-table', id: 'silence-table' },
        h('thead', null, h('tr', null, h('th', null, 'Matcher'), h('th', null, 'Until'),
          h('th', null, 'Comment'), h('th', null, 'Created'), h('th', null, ''))),
        h('tbody', null, list.map((s) => {
          const end = h('button', { class: 'btn btn-small silence-end', type: 'button' }, 'End');
          end.addEventListener('click', () => endSilence(s, end));
          return h('tr', { dataset: { id: String(s.id ?? '') } },
            h('td', { class: 'mono silence-matcher' }, matcherText(s.matcher)),
            h('td', { class: 'silence-until', title: isoTime(s.until_ns) },
              `${formatTime(s.until_ns).slice(0, 16)} (${formatIn(s.until_ns)})`),
            h('td', { class: `silence-comment${s.comment ? '' : ' muted'}` }, s.comment || '—'),
            h('td', { class: 'muted', title: isoTime(s.created_ns) }, formatAgo(s.created_ns)),
            h('td', null, end));
        })))));
  }

  function renderHistory(rows) {
    const options = [h('option', { value: '' }, 'All rules'),
      ...[...knownRules].sort().map((r) => h('option', { value: r }, r))];
    ruleSelect.replaceChildren(...options);
    ruleSelect.value = ruleFilter;
    historyPanel.el.dataset.state = rows.length ? 'loaded' : 'empty';
    if (!rows.length) {
      historyPanel.body.replaceChildren(empty(ruleFilter ? `No history for ${ruleFilter}.` : 'No history yet.'));
      return;
    }
    const sorted = [...rows].sort((a, b) => b.ts_ns - a.ts_ns);
    historyPanel.body.replaceChildren(h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table history-table', id: 'alert-history' },
        h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Rule'), h('th', null, 'Transition'),
          h('th', null, 'Severity'), h('th', { class: 'num' }, 'Value'), h('th', null, 'Actor'))),
        h('tbody', null, sorted.map((r) => h('tr', { dataset: { state: lower(r.state), rule: r.rule } },
          h('td', { class: 'mono nowrap', title: isoTime(r.ts_ns) }, formatTime(r.ts_ns)),
          h('td', null, r.rule),
          h('td', null, stateBadge(r.state)),
          h('td', null, sevBadge(r.severity)),
          h('td', { class: 'num' }, formatValue(r.value, units.get(r.rule))),
          h('td', { class: 'history-actor' }, r.actor || '—')))))));
  }

  function render(data) {
    lastData = data;
    if (!data.enabled) {
      sections.hidden = true;
      message.replaceChildren(h('div', { class: 'al-off', id: 'alerts-off' },
        h('h2', null, 'Alerting is off'),
        h('p', null, 'Alerting is off: start the server with ', h('code', null, '--alerts alerts.toml'),
          ' to evaluate alert rules, list what fires here and acknowledge or silence it.')));
      return;
    }
    sections.hidden = false;
    units = unitsByRule(data.rules);
    rulesByName = new Map((data.rules || []).map((r) => [r.name, r]));
    for (const r of data.rules || []) knownRules.add(r.name);
    for (const a of data.active || []) knownRules.add(a.rule);
    for (const r of data.history || []) knownRules.add(r.rule);
    for (const r of Object.keys(data.rule_errors || {})) knownRules.add(r);
    renderActive(data);
    renderRules(data.rules || []);
    renderErrors(data.rule_errors);
    renderSilences(data.silences || []);
    renderHistory(data.history || []);
  }

  async function load() {
    const mine = ++seq;
    clearTimeout(timer);
    controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    const view = root.querySelector('.alerts-view');
    view.classList.add('loading');
    let data;
    let failure = null;
    try {
      data = await api(withQuery('/api/alerts', { rule: ruleFilter, limit: HISTORY_LIMIT }), { signal });
    } catch (err) {
      failure = err;
    }
    if (disposed || mine !== seq) return;
    if (failure && failure.name === 'AbortError') return;
    view.classList.remove('loading');
    view.classList.toggle('stale', Boolean(failure));
    const signedOut = failure instanceof ApiError && failure.status === 401;
    if (failure) {
      message.replaceChildren(errorBox(failure));
      for (const p of [active, rulesPanel, silences, historyPanel]) {
        if (p.el.dataset.state === 'loading') {
          p.el.dataset.state = 'failed';
          p.body.replaceChildren(empty('—'));
        }
      }
    } else {
      if (message.querySelector('.error-box')) message.replaceChildren();
      render(data);
      updated.textContent = `updated ${formatTime(Date.now() * 1e6).slice(11, 19)}`;
    }
    live.hidden = signedOut;
    if (!signedOut) schedule();
    if (first) {
      first = false;
      markReady('alerts');
    }
  }

  /** The next reload; postponed while a silence form is open (a reload would close it). */
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (formOpenFor) schedule();
      else load();
    }, REFRESH_MS);
  }

  load();

  return {
    dispose() {
      disposed = true;
      clearTimeout(timer);
      controller.abort();
    },
  };
}
