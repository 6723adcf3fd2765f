// The live tail: new traces from `GET /api/traces/live` (server-sent events), for the list.
// EventSource reconnects by itself after a dropped connection and sends `Last-Event-ID`, so
// the server resumes after the last trace this page saw.

import { withQuery } from './util.js';

/**
 * Follows new traces under `filters` (the list's API filters) and calls `onTrace(summary)`
 * for each, oldest first. Returns `{ stop() }`. `onState('live' | 'reconnecting')` reports
 * the connection.
 */
export function followTraces(filters, onTrace, onState = () => {}) {
  const { since, ...rest } = filters; // the stream starts now, whatever the list's range
  const source = new EventSource(withQuery('/api/traces/live', rest), { withCredentials: true });
  source.addEventListener('open', () => onState('live'));
  source.addEventListener('error', () => onState('reconnecting'));
  source.addEventListener('trace', (event) => {
    let trace;
    try {
      trace = JSON.parse(event.data);
    } catch {
      return; // a malformed event is skipped, not fatal
    }
    onTrace(trace);
  });
  return { stop: () => source.close() };
}
