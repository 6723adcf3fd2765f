// The waterfall's rows: one span's row as the page shows it (the state it shows comes in
// `look`, so building a row reads nothing else), a "showing N of M" note, and which span to
// open first.

import { formatCount, formatNs, h } from './util.js';

/** Indent per tree level, in pixels. */
export const INDENT_PX = 16;

/**
 * The row of tree node `node` (its `span`, `depth`, `expanded`, `children`). `look`:
 * `selected`, `critical`, `match`, `current` (the search's current match), `expandable`,
 * `lazy` (the text of the "load children" button, or null), `loadFailed`, `offsetNs` (from the
 * trace's start). The bar is left unplaced: the caller knows the zoom.
 */
export function buildRow(node, look) {
  const s = node.span;
  const failed = s.status === 'error';
  const row = document.createElement('div');
  row.className = `wf-row kind-${s.kind}${failed ? ' wf-error' : ''}${s.synthetic ? ' wf-synthetic' : ''}`
    + `${look.selected ? ' selected' : ''}${look.critical ? ' wf-critical' : ''}`
    + `${look.match ? ' wf-match' : ''}${look.current ? ' wf-current' : ''}`;
  row.dataset.spanId = node.id;
  row.dataset.depth = String(node.depth);
  row.dataset.name = s.name;
  row.tabIndex = 0;
  row.setAttribute('role', 'treeitem');
  row.setAttribute('aria-level', String(node.depth + 1));
  row.setAttribute('aria-selected', String(look.selected));

  const label = document.createElement('div');
  label.className = 'wf-label';
  label.style.paddingLeft = `${node.depth * INDENT_PX + 4}px`;
  if (look.expandable) {
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'wf-toggle';
    toggle.tabIndex = -1;
    toggle.textContent = node.expanded ? '▾' : '▸';
    toggle.setAttribute('aria-label', node.expanded ? 'Collapse' : 'Expand');
    row.setAttribute('aria-expanded', String(node.expanded));
    label.appendChild(toggle);
  } else {
    const spacer = document.createElement('span');
    spacer.className = 'wf-toggle-spacer';
    label.appendChild(spacer);
  }
  if (failed) {
    const icon = document.createElement('span');
    icon.className = 'wf-err-icon';
    icon.textContent = '⚠';
    icon.title = s.error_type ? `error: ${s.error_type}` : 'error';
    label.appendChild(icon);
  }
  const name = document.createElement('span');
  name.className = 'wf-name';
  name.textContent = s.name;
  name.title = `${s.path || s.name}${s.group ? ` · ${s.group}` : ''}`;
  label.appendChild(name);
  if (s.kind === 'step' || s.kind === 'trace') {
    const kind = document.createElement('span');
    kind.className = `wf-kind kind-${s.kind}`;
    kind.textContent = s.synthetic ? 'running' : s.kind;
    label.appendChild(kind);
  }
  if (look.lazy) {
    const lazy = document.createElement('button');
    lazy.type = 'button';
    lazy.className = `wf-lazy${look.loadFailed ? ' failed' : ''}`;
    lazy.textContent = look.lazy;
    lazy.title = 'Load the children of this span';
    label.appendChild(lazy);
  } else if (!node.expanded && node.children.length > 0) {
    const count = document.createElement('span');
    count.className = 'wf-count';
    count.textContent = formatCount(node.children.length);
    count.title = `${node.children.length} children`;
    label.appendChild(count);
  }

  const track = document.createElement('div');
  track.className = 'wf-track';
  const bar = document.createElement('div');
  bar.className = 'wf-bar';
  bar.title = `${s.name}: ${formatNs(s.duration_ns)} at +${formatNs(look.offsetNs)}`;
  track.appendChild(bar);

  const dur = document.createElement('div');
  dur.className = 'wf-dur';
  dur.textContent = formatNs(s.duration_ns);

  row.append(label, track, dur);
  return row;
}

/** The note under a span whose children were sent in part. */
export function noteRow(node) {
  return h('div', { class: 'wf-note', dataset: { depth: String(node.depth + 1) } },
    `Showing ${formatCount(node.truncated.shown)} of ${formatCount(node.truncated.total)} children of ${node.span.name}.`);
}

/** The first step of a decision trace, else the first failed span, in tree order; or null. */
export function firstOfInterest(roots) {
  const ordered = [];
  const stack = roots.slice().reverse();
  while (stack.length) {
    const node = stack.pop();
    ordered.push(node);
    for (let i = node.children.length - 1; i >= 0; i -= 1) stack.push(node.children[i]);
  }
  return ordered.find((n) => n.span.kind === 'step') ?? ordered.find((n) => n.span.status === 'error') ?? null;
}
