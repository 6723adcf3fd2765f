// A JSON viewer: syntax-highlighted, objects and arrays collapsible (children are built on
// first expansion, so large payloads cost nothing until opened), with a Copy button.

import { copyText, h } from './util.js';

const OPEN_DEPTH = 3; // levels open by default
const OPEN_MAX_ENTRIES = 50; // larger containers start collapsed
const PAGE = 200; // entries rendered per "show more"

function isContainer(value) {
  return value !== null && typeof value === 'object';
}

function entriesOf(value) {
  return Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
}

function primitive(value) {
  if (value === null) return h('span', { class: 'j-null' }, 'null');
  switch (typeof value) {
    case 'string': return h('span', { class: 'j-str' }, JSON.stringify(value));
    case 'number': return h('span', { class: 'j-num' }, String(value));
    case 'boolean': return h('span', { class: 'j-bool' }, String(value));
    default: return h('span', { class: 'j-str' }, String(value));
  }
}

function summary(value) {
  const n = Array.isArray(value) ? value.length : Object.keys(value).length;
  if (Array.isArray(value)) return `${n} item${n === 1 ? '' : 's'}`;
  return `${n} key${n === 1 ? '' : 's'}`;
}

/** One value; containers get a toggle. */
function node(value, depth) {
  if (!isContainer(value)) return primitive(value);
  const array = Array.isArray(value);
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  const entries = entriesOf(value);
  if (entries.length === 0) return h('span', { class: 'j-punct' }, open + close);

  const toggle = h('button', { type: 'button', class: 'j-toggle', 'aria-label': 'Collapse' }, '▾');
  const children = h('div', { class: 'j-children' });
  const wrapper = h('span', { class: 'j-node' },
    toggle, h('span', { class: 'j-punct' }, open),
    h('span', { class: 'j-summary' }, ` ${summary(value)} `),
    children, h('span', { class: 'j-punct j-close' }, close));
  let built = 0;

  function buildMore() {
    const fragment = document.createDocumentFragment();
    const end = Math.min(entries.length, built + PAGE);
    for (let i = built; i < end; i += 1) {
      const [key, child] = entries[i];
      const line = h('div', { class: 'j-entry' });
      if (!array) line.append(h('span', { class: 'j-key' }, JSON.stringify(key)), h('span', { class: 'j-punct' }, ': '));
      line.append(node(child, depth + 1));
      if (i < entries.length - 1) line.append(h('span', { class: 'j-punct' }, ','));
      fragment.append(line);
    }
    built = end;
    const old = children.querySelector(':scope > .j-more');
    if (old) old.remove();
    children.append(fragment);
    if (built < entries.length) {
      const more = h('button', { type: 'button', class: 'j-more link-button' },
        `show ${Math.min(PAGE, entries.length - built)} more of ${entries.length - built}…`);
      more.addEventListener('click', (event) => {
        event.stopPropagation();
        buildMore();
      });
      children.append(more);
    }
  }

  function setOpen(isOpen) {
    if (isOpen && built === 0) buildMore();
    wrapper.classList.toggle('collapsed', !isOpen);
    toggle.textContent = isOpen ? '▾' : '▸';
    toggle.setAttribute('aria-expanded', String(isOpen));
    toggle.setAttribute('aria-label', isOpen ? 'Collapse' : 'Expand');
  }
  wrapper.setOpen = setOpen;
  toggle.addEventListener('click', (event) => {
    event.stopPropagation();
    setOpen(wrapper.classList.contains('collapsed'));
  });
  setOpen(depth < OPEN_DEPTH && entries.length <= OPEN_MAX_ENTRIES);
  return wrapper;
}

/** Opens or closes every container inside `tree` (building what was never opened). */
function setAll(tree, isOpen) {
  if (isOpen) {
    // Opening builds children, which may contain more closed containers: repeat until stable.
    for (let pass = 0; pass < 64; pass += 1) {
      const closed = tree.querySelectorAll('.j-node.collapsed');
      if (closed.length === 0) break;
      closed.forEach((n) => n.setOpen(true));
    }
  } else {
    tree.querySelectorAll('.j-node').forEach((n) => n.setOpen(false));
  }
}

/** A viewer for `value`; `label` names it for the Copy button's tooltip. */
export function jsonViewer(value, label = 'JSON') {
  const tree = h('div', { class: 'j-tree mono' }, node(value, 0));
  const copy = h('button', { type: 'button', class: 'btn btn-small j-copy', title: `Copy ${label} as JSON` }, 'Copy');
  copy.addEventListener('click', async (event) => {
    event.stopPropagation();
    const ok = await copyText(JSON.stringify(value, null, 2));
    copy.textContent = ok ? 'Copied ✓' : 'Copy failed';
    copy.dataset.copied = ok ? '1' : '0';
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  });
  const tools = h('div', { class: 'j-tools' }, copy);
  if (isContainer(value) && entriesOf(value).some(([, v]) => isContainer(v))) {
    const expand = h('button', { type: 'button', class: 'btn btn-small j-expand-all' }, 'Expand all');
    const collapse = h('button', { type: 'button', class: 'btn btn-small j-collapse-all' }, 'Collapse all');
    expand.addEventListener('click', (event) => { event.stopPropagation(); setAll(tree, true); });
    collapse.addEventListener('click', (event) => { event.stopPropagation(); setAll(tree, false); });
    tools.prepend(expand, collapse);
  }
  return h('div', { class: 'json-viewer' }, tools, tree);
}
