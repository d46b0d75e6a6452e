// Building DOM nodes from data. Text always goes in as text nodes, never as HTML, because area
// names and notes come from the publication.

// h('p', {class: 'x', onclick: f}, 'text', child, [more]) -> element.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false)
      continue;
    if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), v);
    else if (k === 'dataset')
      Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object')
      Object.assign(el.style, v);
    else
      el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false)
      continue;
    if (Array.isArray(c))
      append(el, c);
    else
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replace an element's children.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}
