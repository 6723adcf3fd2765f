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
 * The query behind one bar of a path chart: `hot` its calls, `slow` the calls at or above
 * its p95, `errors` its failed calls.
 */
export function pathQuery(kind, metrics) {
  const path = `path == ${literal(metrics.key)}`;
  if (kind === 'slow' && Number.isFinite(metrics.p95_ms)) {
    // Rounded down to whole microseconds: the bound must not exclude the p95 call itself.
    return `${path} AND duration_ms >= ${Math.floor(metrics.p95_ms * 1000) / 1000}`;
  }
  if (kind === 'errors') return `${path} AND status == failed`;
  return path;
}
