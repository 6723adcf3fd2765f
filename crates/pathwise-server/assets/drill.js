// Drill-down: from a figure to the traces behind it. Each link opens the trace list with a
// query (docs/query.md) that selects exactly the traces the figure counts — a path's or node's
// calls, its slow calls (at or above its p95), its failed calls, exemplars of a percentile, an
// attribute value's spans — in the same time range.

/** `text` as a query-language string literal. */
export function literal(text) {
  return `"${String(text).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** The trace list's address for `query` over `range` (15m, 1h, 24h, 7d). */
export function tracesHref(query, range) {
  const params = new URLSearchParams({ q: query });
  if (range) params.set('range', range);
  return `#/traces?${params.toString()}`;
}

/**
 * A lower bound (ms) for the calls at or above a percentile read from a rollup sketch: the
 * sketch may place it up to 1 % above the call it stands for, so the bound is 1 % lower,
 * rounded down to whole microseconds, and never excludes that call.
 */
export function atOrAbove(percentileMs) {
  return Math.floor(percentileMs * 0.99 * 1000) / 1000;
}

/**
 * The query behind one bar of a path chart: `hot` its calls, `slow` the calls at or above
 * its p95, `errors` its failed calls.
 */
export function pathQuery(kind, metrics) {
  const path = `path == ${literal(metrics.key)}`;
  if (kind === 'slow' && Number.isFinite(metrics.p95_ms)) {
    return `${path} AND duration_ms >= ${atOrAbove(metrics.p95_ms)}`;
  }
  if (kind === 'errors') return `${path} AND status == failed`;
  return path;
}

/** Percentile columns and how near their exemplars are: a band of ±2 % around the figure
 * (the sketch's 1 % twice), so the call the percentile stands for is inside it. */
const PERCENTILES = ['p50_ms', 'p95_ms', 'p99_ms'];
const BAND = 0.02;

/**
 * The query behind one cell of a node table: the node's calls (its name), its failed calls
 * (errors), or exemplars of a percentile (calls within ±2 % of it); null for other columns.
 */
export function nodeQuery(column, node) {
  const name = `name == ${literal(node.key)}`;
  if (column === 'key' || column === 'calls') return name;
  if ((column === 'errors' || column === 'error_rate') && node.errors > 0) return `${name} AND status == failed`;
  const ms = node[column];
  if (PERCENTILES.includes(column) && Number.isFinite(ms) && ms > 0) {
    const lo = Math.floor(ms * (1 - BAND) * 1000) / 1000;
    const hi = Math.ceil(ms * (1 + BAND) * 1000) / 1000;
    return `${name} AND duration_ms >= ${lo} AND duration_ms <= ${hi}`;
  }
  return null;
}

/** The spans carrying attribute `key` = `value` (failed ones with `failed`). */
export function attributeQuery(key, value, failed) {
  const field = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) ? `attr.${key}` : `attr.${literal(key)}`;
  const number = /^-?\d+(\.\d+)?$/.test(String(value));
  const query = `${field} == ${number ? value : literal(value)}`;
  return failed ? `${query} AND status == failed` : query;
}

/**
 * The recent window of a Health snapshot taken at `generatedNs` (`recentS` seconds long) as a
 * query term and the list range that holds it; a snapshot of the past (`at`) is bounded on
 * both sides and searched in every range.
 */
export function recentWindow(generatedNs, recentS, past) {
  const iso = (ns) => literal(new Date(ns / 1e6).toISOString());
  const since = generatedNs - recentS * 1e9;
  const term = past ? `start >= ${iso(since)} AND start <= ${iso(generatedNs)}` : `start >= ${iso(since)}`;
  const range = past ? 'all' : recentS <= 900 ? '15m' : recentS <= 3600 ? '1h' : '24h';
  return { term, range };
}

/** The list address of an operation's calls in a window from `recentWindow`, with `extra`. */
export function operationHref(op, window, extra) {
  const parts = [`name == ${literal(op)}`, window.term];
  if (extra) parts.push(extra);
  return tracesHref(parts.join(' AND '), window.range);
}

/** The traces behind a rule's value, or null for a rule no trace explains (SQL, resources,
 * the pipeline): a threshold rule's failed calls (error rate), calls past its threshold (p95,
 * p99) or calls (call rate); a baseline rule's calls; in its scope (a node or a component:
 * `name` or `group`) over its window (a baseline rule: the last hour). */
export function ruleTracesHref(rule) {
  if (!rule || !['threshold', 'baseline'].includes(rule.kind)) return null;
  const parts = [];
  if (rule.scope && rule.scope !== 'overall') {
    parts.push(`(name == ${literal(rule.scope)} OR group == ${literal(rule.scope)})`);
  }
  if (rule.kind === 'threshold') {
    if (rule.signal === 'error_rate') parts.push('status == failed');
    else if (rule.signal === 'p95_ms' || rule.signal === 'p99_ms') {
      parts.push(`duration_ms ${rule.op.startsWith('<') ? '<' : '>'} ${rule.threshold}`);
    } else if (rule.signal !== 'call_rate') return null;
  }
  const seconds = Math.max(1, Math.ceil(rule.window_s ?? 3600));
  parts.push(`start >= now - ${seconds}s`);
  const range = seconds <= 900 ? '15m' : seconds <= 3600 ? '1h' : seconds <= 86_400 ? '24h' : '7d';
  return tracesHref(parts.join(' AND '), range);
}
