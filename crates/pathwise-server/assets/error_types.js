// The Analysis page's error types: every error type of the window with its failed calls and
// the nodes that raised it, each opening the traces behind it (drill.js). Read from the node
// metrics the page already has (their errors by type, from the rollups).

import { formatCount, h } from './util.js';
import { literal, tracesHref } from './drill.js';

/** Nodes named per error type before the rest are summed up. */
const NODES_SHOWN = 3;

/** An error type without its module path, keeping an enum variant (`OpenAlexError::RateLimit`). */
export function shortType(name) {
  const text = String(name);
  const parts = text.split('::');
  const first = parts.findIndex((p) => /^[A-Z]/.test(p));
  if (first < 0) return parts[parts.length - 1];
  if (first === parts.length - 1 && parts[first] === 'Error' && first > 0) return parts.slice(first - 1).join('::');
  return parts.slice(first).join('::');
}

/**
 * Error types over `nodes` (each with `key` and `errors_by_type`: [[type, count]]): the most
 * frequent first, each with its nodes, most failures first.
 */
export function errorTypes(nodes) {
  const byType = new Map();
  for (const node of nodes) {
    for (const [type, count] of node.errors_by_type || []) {
      if (!byType.has(type)) byType.set(type, { type, errors: 0, nodes: [] });
      const entry = byType.get(type);
      entry.errors += count;
      entry.nodes.push({ name: node.key, errors: count });
    }
  }
  const types = [...byType.values()];
  for (const t of types) t.nodes.sort((a, b) => b.errors - a.errors || a.name.localeCompare(b.name));
  return types.sort((a, b) => b.errors - a.errors || a.type.localeCompare(b.type));
}

/** The table of `errorTypes(nodes)`, every count a link to its traces over `range`. */
export function errorTypesTable(nodes, range) {
  const types = errorTypes(nodes);
  if (!types.length) return h('p', { class: 'empty-state' }, 'No errors in this window.');
  const ofType = (type) => `error.type == ${literal(type)}`;
  const rows = types.map((t) => {
    const shown = t.nodes.slice(0, NODES_SHOWN).map((n, i) => [
      i > 0 ? ', ' : null,
      h('a', { class: 'drill', href: tracesHref(`name == ${literal(n.name)} AND ${ofType(t.type)}`, range),
        dataset: { node: n.name }, title: `The traces where ${n.name} failed with ${t.type}` },
      `${n.name} ×${formatCount(n.errors)}`),
    ]);
    const rest = t.nodes.length - NODES_SHOWN;
    return h('tr', { dataset: { type: t.type } },
      h('td', { class: 'mono', title: t.type }, shortType(t.type)),
      h('td', { class: 'num' }, h('a', { class: 'drill', href: tracesHref(ofType(t.type), range),
        dataset: { drill: 'type' }, title: `The traces with a ${t.type} failure` }, formatCount(t.errors))),
      h('td', null, shown, rest > 0 ? h('span', { class: 'muted' }, ` and ${formatCount(rest)} more`) : null));
  });
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data-table', id: 'error-type-table' },
    h('thead', null, h('tr', null, h('th', null, 'Error type'), h('th', { class: 'num' }, 'Failed calls'), h('th', null, 'Raised by'))),
    h('tbody', null, rows)));
}
