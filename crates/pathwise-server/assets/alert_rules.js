// The Alerts page's rule parts (alerts.js builds the page): severity and state badges, values
// in the units of their rules, and the Rules table, which lists every rule in force with its
// state (ok, pending, firing, silenced), severity, condition and current value.
//
// Units are the ones GET /api/alerts names per rule: ms, ratio (0..1, shown as a
// percentage), percent, count, per_second, bytes, score (0..100) or number (SQL rules: none).
// Every value from the data is inserted as text.

import { formatBytes, formatCount, formatMs, formatPercent, h } from './util.js';
import { ruleTracesHref } from './drill.js';

export const SEVERITIES = ['info', 'warning', 'error', 'critical', 'emergency'];

export const lower = (v) => String(v ?? '').toLowerCase();

/** `critical` → `sev-critical`; anything unknown → `sev-unknown`. */
export function sevClass(severity) {
  const s = lower(severity);
  return `sev-${SEVERITIES.includes(s) ? s : 'unknown'}`;
}

export function sevBadge(severity) {
  return h('span', { class: `sev-badge ${sevClass(severity)}` }, lower(severity) || 'unknown');
}

export function stateBadge(state) {
  const s = lower(state);
  return h('span', { class: `alert-state state-${/^[a-z_]+$/.test(s) ? s : 'unknown'}` }, s || 'unknown');
}

/** A bare number: whole numbers with separators, others to four significant digits. */
function plainNumber(value) {
  if (Number.isInteger(value)) return formatCount(value);
  return String(Number(value.toPrecision(4)));
}

/** A rule's value (or threshold) in its unit: `250 ms`, `5.00%`, `1.20 GB`, `12/s`, `3`. */
export function formatValue(value, unit) {
  if (value == null || !Number.isFinite(value)) return '—';
  switch (unit) {
    case 'ms': return formatMs(value);
    case 'ratio': return formatPercent(value);
    case 'percent': return formatPercent(value / 100);
    case 'per_second': return `${plainNumber(value)}/s`;
    case 'bytes': return formatBytes(value);
    case 'score': return `${plainNumber(value)}/100`;
    default: return plainNumber(value);
  }
}

/** `30s`, `2m`, `1h 30m`: a rule's `for`. */
function formatSeconds(seconds) {
  if (seconds < 60) return `${Number(seconds.toPrecision(3))}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  return minutes % 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : `${minutes / 60}h`;
}

/**
 * What a rule checks, with its threshold in its unit: `p95_ms > 100 ms`, then the scope
 * unless it is everything, and the recovery line when the file sets one apart.
 */
export function conditionText(rule) {
  const subject = rule.signal || rule.trigger || 'SQL value';
  let text = `${subject} ${rule.op} ${formatValue(rule.threshold, rule.unit)}`;
  if (rule.scope && rule.scope !== 'overall') text += ` (${rule.scope})`;
  if (rule.recovery != null && rule.recovery !== rule.threshold) {
    text += `, clears past ${formatValue(rule.recovery, rule.unit)}`;
  }
  return text;
}

/** A link to the traces behind `rule`'s value, when traces can explain it. */
export function tracesLink(rule) {
  const href = ruleTracesHref(rule);
  return href ? h('a', { class: 'rule-traces', href, title: 'The traces behind this rule\'s value' }, 'traces') : null;
}

/** Rule name → unit, for values that name only their rule (alerts, history rows). */
export function unitsByRule(rules) {
  return new Map((rules || []).map((r) => [r.name, r.unit]));
}

/**
 * The Rules table. `silenceAction(rule)` gives the row's "Silence…" button (or null), and
 * `formFor(rule)` the silence form to show under the row when one is open for it (or null).
 */
export function rulesTable(rules, { silenceAction, formFor }) {
  const head = h('tr', null, h('th', null, 'Rule'), h('th', null, 'State'), h('th', null, 'Severity'),
    h('th', null, 'Condition'), h('th', { class: 'num' }, 'Value'), h('th', null, ''));
  const rows = [];
  for (const rule of rules) {
    const state = lower(rule.state);
    const underlying = state === 'silenced' && rule.alert_state
      ? h('span', { class: 'rule-alert-state muted small' }, ` (${lower(rule.alert_state)})`)
      : null;
    const wait = rule.for_s > 0 ? h('span', { class: 'muted small' }, ` for ${formatSeconds(rule.for_s)}`) : null;
    rows.push(h('tr', { dataset: { rule: rule.name, state } },
      h('td', { class: 'rule-name' }, rule.name),
      h('td', { class: 'rule-state' }, stateBadge(state), underlying),
      h('td', null, sevBadge(rule.severity)),
      h('td', { class: 'rule-condition', title: rule.condition || '' },
        h('span', { class: 'mono' }, conditionText(rule)), wait),
      h('td', { class: 'num rule-value' }, formatValue(rule.value, rule.unit)),
      h('td', { class: 'rule-actions' }, tracesLink(rule), silenceAction(rule))));
    const form = formFor(rule);
    if (form) rows.push(h('tr', { class: 'rule-form-row' }, h('td', { colspan: 6 }, form)));
  }
  return h('div', { class: 'table-scroll' },
    h('table', { class: 'data-table rule-table', id: 'rule-table' },
      h('thead', null, head), h('tbody', null, rows)));
}
