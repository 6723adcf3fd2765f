// The details of one span, shown in place below its waterfall row: error, reasoning, input,
// output, decision metadata by shape (evaluations, llm, ranking) and attributes. Every value
// is inserted as text.

import { formatCount, formatNs, formatTime, h, statusBadge } from './util.js';
import { jsonViewer } from './json.js';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function section(title, kind, ...body) {
  return h('section', { class: `panel panel-${kind}`, dataset: { section: kind } },
    h('h3', { class: 'panel-title' }, title), ...body);
}

function compact(value, max = 120) {
  if (value === undefined) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function mark(passed) {
  return passed
    ? h('span', { class: 'mark mark-pass', title: 'passed', 'aria-label': 'passed' }, '✓')
    : h('span', { class: 'mark mark-fail', title: 'failed', 'aria-label': 'failed' }, '✗');
}

// --- metadata.evaluations: items × filters ----------------------------------------------

function isEvaluations(v) {
  return Array.isArray(v) && v.length > 0 && v.every((e) => isObject(e) && Array.isArray(e.filters));
}

export function evaluationsTable(evaluations) {
  const filterNames = [];
  for (const e of evaluations) {
    for (const f of e.filters) {
      const name = String(f && f.name);
      if (!filterNames.includes(name)) filterNames.push(name);
    }
  }
  const qualifiedCount = evaluations.filter((e) => e.qualified).length;
  const head = h('tr', null, h('th', null, 'Item'),
    filterNames.map((name) => h('th', { class: 'center filter-col' }, name)),
    h('th', { class: 'center' }, 'Qualified'), h('th', null, 'Reasoning'));
  const rows = evaluations.map((e) => {
    const byName = new Map(e.filters.map((f) => [String(f && f.name), f]));
    return h('tr', { class: e.qualified ? 'qualified' : 'rejected', dataset: { item: String(e.item_id) } },
      h('td', { class: 'item' },
        h('div', { class: 'mono' }, String(e.item_id ?? '')),
        e.item_data === undefined ? null : h('div', { class: 'muted small mono', title: compact(e.item_data, 2000) }, compact(e.item_data, 60))),
      filterNames.map((name) => {
        const f = byName.get(name);
        if (!f) return h('td', { class: 'center muted' }, '—');
        return h('td', { class: `center cell ${f.passed ? 'pass' : 'fail'}`, title: f.detail == null ? '' : String(f.detail) },
          mark(Boolean(f.passed)),
          f.detail == null || f.detail === '' ? null : h('div', { class: 'cell-detail' }, String(f.detail)));
      }),
      h('td', { class: `center qualified-cell ${e.qualified ? 'pass' : 'fail'}` }, mark(Boolean(e.qualified))),
      h('td', { class: 'reason' }, e.reasoning == null ? '' : String(e.reasoning)));
  });
  return section(`Evaluations · ${qualifiedCount} of ${evaluations.length} qualified`, 'evaluations',
    h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table evaluations' }, h('thead', null, head), h('tbody', null, rows))));
}

// --- metadata.llm: a card -----------------------------------------------------------------

/** USD with three significant digits: $0.00267, $1.25, $1,234. */
function formatUsd(usd) {
  if (typeof usd !== 'number' || !Number.isFinite(usd)) return null;
  if (usd === 0) return '$0';
  if (usd >= 1000) return `$${Math.round(usd).toLocaleString('en-US')}`;
  return `$${Number(usd.toPrecision(3))}`;
}

/** The model call a step records; `span` gives its latency and cost (at the model's price). */
export function llmCard(llm, span = {}) {
  const total = llm.total_tokens ?? (
    llm.input_tokens != null || llm.output_tokens != null
      ? (Number(llm.input_tokens) || 0) + (Number(llm.output_tokens) || 0) : null);
  const fact = (label, value, cls = '') => h('div', { class: `fact ${cls}` },
    h('div', { class: 'fact-label' }, label),
    h('div', { class: 'fact-value' }, value == null || value === '' ? '—' : value));
  const number = (v) => (typeof v === 'number' ? formatCount(v) : v);
  const facts = [
    fact('Model', llm.model == null ? null : String(llm.model), 'llm-model mono'),
    fact('Provider', llm.provider == null ? null : String(llm.provider), 'llm-provider'),
    fact('Input tokens', number(llm.input_tokens), 'llm-input'),
    fact('Output tokens', number(llm.output_tokens), 'llm-output'),
    fact('Total tokens', number(total), 'llm-total'),
    fact('Temperature', llm.temperature == null ? null : String(llm.temperature), 'llm-temperature'),
    fact('Latency', span.duration_ns == null ? null : formatNs(span.duration_ns), 'llm-latency'),
    fact('Cost', formatUsd(span.llm_cost_usd), 'llm-cost'),
  ];
  const params = isObject(llm.params) ? Object.entries(llm.params) : [];
  const known = new Set(['model', 'provider', 'input_tokens', 'output_tokens', 'total_tokens', 'temperature', 'params', 'prompt', 'completion']);
  const extra = isObject(llm) ? Object.entries(llm).filter(([k]) => !known.has(k)) : [];
  const kv = [...params, ...extra];
  return section('LLM call', 'llm',
    h('div', { class: 'llm-card' },
      h('div', { class: 'facts' }, facts),
      kv.length === 0 ? null : h('div', { class: 'llm-params' },
        h('div', { class: 'fact-label' }, 'Parameters'),
        h('dl', { class: 'kv mono' }, kv.map(([k, v]) => [h('dt', null, k), h('dd', null, compact(v, 400))])))),
    llmText('Prompt', 'llm-prompt', llm.prompt),
    llmText('Completion', 'llm-completion', llm.completion));
}

// A prompt or completion: chat messages as one block per message (role, then content), any
// other value as text.
function llmText(label, cls, value) {
  if (value == null || value === '') return null;
  const text = (v) => (typeof v === 'string' ? v : JSON.stringify(v, null, 2));
  const messages = Array.isArray(value) && value.every((m) => isObject(m) && 'content' in m)
    ? value.map((m) => h('div', { class: 'llm-message', dataset: { role: String(m.role ?? '') } },
      h('div', { class: 'llm-role' }, String(m.role ?? '')),
      h('pre', { class: 'llm-content' }, text(m.content))))
    : [h('pre', { class: 'llm-content' }, text(value))];
  return h('div', { class: `llm-text ${cls}` }, h('div', { class: 'fact-label' }, label), messages);
}

// --- metadata.ranking: a table ------------------------------------------------------------

function isRanking(v) {
  return Array.isArray(v) && v.length > 0 && v.every((r) => isObject(r) && ('rank' in r || 'score' in r));
}

export function rankingTable(ranking) {
  const scores = ranking.map((r) => Number(r.score)).filter(Number.isFinite);
  const maxScore = Math.max(1, ...scores);
  const rows = ranking.map((r) => {
    const score = Number(r.score);
    const bar = h('span', { class: 'score-bar' });
    if (Number.isFinite(score)) bar.style.width = `${Math.max(0, Math.min(1, score / maxScore)) * 100}%`;
    return h('tr', { dataset: { item: String(r.item_id ?? '') } },
      h('td', { class: 'num rank' }, r.rank == null ? '' : String(r.rank)),
      h('td', { class: 'mono' }, r.item_id == null ? '' : String(r.item_id)),
      h('td', { class: 'num score' },
        h('span', { class: 'score-text' }, Number.isFinite(score) ? String(+score.toFixed(4)) : compact(r.score)),
        h('span', { class: 'score-track' }, bar)),
      h('td', { class: 'reason' }, r.reason == null ? '' : String(r.reason)));
  });
  return section(`Ranking · ${ranking.length} candidates`, 'ranking',
    h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table ranking' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Rank'), h('th', null, 'Item'),
          h('th', { class: 'num' }, 'Score'), h('th', null, 'Reason'))),
        h('tbody', null, rows))));
}

// --- the whole panel ----------------------------------------------------------------------

function errorSection(span) {
  const chain = Array.isArray(span.error_chain) ? span.error_chain : [];
  return section('Error', 'error',
    h('div', { class: 'error-detail' },
      span.error_type == null ? null : h('div', { class: 'error-type mono' }, String(span.error_type)),
      span.error_message == null ? null : h('div', { class: 'error-message' }, String(span.error_message)),
      chain.length === 0 ? null : h('div', { class: 'error-chain' },
        h('div', { class: 'fact-label' }, 'Caused by'),
        h('ol', null, chain.map((cause) => h('li', null, typeof cause === 'string' ? cause : JSON.stringify(cause)))))));
}

function attributesSection(attrs) {
  const entries = Object.entries(attrs);
  return section('Attributes', 'attributes',
    h('table', { class: 'data-table attrs' }, h('tbody', null,
      entries.map(([k, v]) => h('tr', null, h('td', { class: 'mono attr-key' }, k),
        h('td', { class: 'mono attr-value' }, typeof v === 'string' ? v : JSON.stringify(v)))))));
}

function metadataSections(metadata, span) {
  if (!isObject(metadata)) return [section('Metadata', 'metadata', jsonViewer(metadata, 'metadata'))];
  // The shapes the SDK writes first, in a fixed order; any other key after them, as JSON.
  const known = [];
  if (isObject(metadata.llm)) known.push(['llm', llmCard(metadata.llm, span)]);
  if (isEvaluations(metadata.evaluations)) known.push(['evaluations', evaluationsTable(metadata.evaluations)]);
  if (isRanking(metadata.ranking)) known.push(['ranking', rankingTable(metadata.ranking)]);
  const shown = new Set(known.map(([key]) => key));
  const rest = Object.entries(metadata).filter(([key]) => !shown.has(key))
    .map(([key, value]) => section(key, 'metadata', jsonViewer(value, key)));
  return [...known.map(([, el]) => el), ...rest];
}

/** Details of `span`; `t0` is the trace's start (ns) for the relative offset. */
export function spanDetails(span, t0) {
  const facts = h('div', { class: 'span-facts' },
    statusBadge(span.status),
    h('span', { class: `kind kind-${span.kind}` }, span.kind),
    h('span', null, h('span', { class: 'muted' }, 'duration '), formatNs(span.duration_ns)),
    h('span', { title: formatTime(span.start_ns) }, h('span', { class: 'muted' }, 'at +'), formatNs(span.start_ns - t0)),
    span.group == null ? null : h('span', null, h('span', { class: 'muted' }, 'group '), span.group),
    h('span', { class: 'mono muted' }, `span ${span.span_id}`));
  const parts = [facts];
  if (span.path && span.path !== span.name) parts.push(h('div', { class: 'span-path mono muted' }, span.path));
  const header = parts.length;
  if (span.error_type != null || span.error_message != null) parts.push(errorSection(span));
  if (span.reasoning != null && span.reasoning !== '') {
    parts.push(section('Reasoning', 'reasoning', h('p', { class: 'reasoning' }, String(span.reasoning))));
  }
  if (span.input != null) parts.push(section('Input', 'input', jsonViewer(span.input, 'input')));
  if (span.output != null) parts.push(section('Output', 'output', jsonViewer(span.output, 'output')));
  if (span.metadata != null) parts.push(...metadataSections(span.metadata, span));
  if (isObject(span.attrs) && Object.keys(span.attrs).length > 0) parts.push(attributesSection(span.attrs));
  if (parts.length === header) {
    parts.push(h('p', { class: 'muted small' }, 'No input, output, reasoning or metadata recorded for this span.'));
  }
  return parts;
}
