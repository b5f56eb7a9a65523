// DOM helpers. Everything logged by a run (names, tags, paths, values,
// string series) reaches the page only through text nodes and properties:
// this module never parses markup, and nothing else in the page does.

/**
 * Creates an element. `props`:
 *   class     string, or array of strings (falsy entries skipped)
 *   text      text content (a text node, never markup)
 *   dataset   {name: value} -> data-* attributes (testid -> data-testid)
 *   attrs     {name: value} -> setAttribute (false/null skips)
 *   style     {prop: value} -> element.style (CSSOM, allowed by the CSP)
 *   on        {event: handler} -> addEventListener
 *   anything else is assigned as a property (href, type, value, checked…)
 * Children: nodes, strings (as text), numbers, arrays; null/false skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined) continue;
      switch (key) {
        case 'class':
          if (Array.isArray(value)) {
            for (const c of value) if (c) el.classList.add(c);
          } else if (value) {
            el.className = value;
          }
          break;
        case 'text':
          el.textContent = value == null ? '' : String(value);
          break;
        case 'dataset':
          for (const [k, v] of Object.entries(value)) {
            if (v !== undefined && v !== null) el.dataset[k] = String(v);
          }
          break;
        case 'attrs':
          for (const [k, v] of Object.entries(value)) {
            if (v === false || v === null || v === undefined) continue;
            el.setAttribute(k, v === true ? '' : String(v));
          }
          break;
        case 'style':
          for (const [k, v] of Object.entries(value)) el.style[k] = v;
          break;
        case 'on':
          for (const [k, v] of Object.entries(value)) el.addEventListener(k, v);
          break;
        default:
          el[key] = value;
      }
    }
  }
  append(el, children);
  return el;
}

/** Appends children (see `h`) to a node. */
export function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

const SVG = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (presentation attributes, not styles). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of children) if (c) el.appendChild(c);
  return el;
}

/** A short sample of a chart line: its colour and dash, as the charts draw it. */
export function lineSwatch(color, dash, width = 28) {
  return svg('svg', { class: 'swatch', width, height: 10, viewBox: `0 0 ${width} 10`, 'aria-hidden': 'true' },
    svg('line', {
      x1: 1, y1: 5, x2: width - 1, y2: 5, stroke: color, 'stroke-width': 2.5,
      'stroke-dasharray': dash && dash.length ? dash.join(' ') : null,
      'stroke-linecap': 'butt',
    }));
}

/** Calls `fn` at most once per `ms`, the last call winning (trailing). */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  let args = null;
  const run = () => {
    timer = null;
    last = performance.now();
    fn(...args);
  };
  const wrapped = (...a) => {
    args = a;
    if (timer) return;
    const wait = last + ms - performance.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  wrapped.cancel = () => { if (timer) clearTimeout(timer); timer = null; };
  return wrapped;
}
