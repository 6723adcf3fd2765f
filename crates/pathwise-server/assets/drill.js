// Drill-down: from a figure to the traces behind it. Each link opens the trace list with a
// query (docs/query.md) that selects exactly the traces the figure counts — a path's calls,
// its slow calls (at or above its p95) or its failed calls — in the same time range.

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
