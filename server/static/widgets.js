// Small pieces the pages share.

import { h } from './dom.js';

/** A run's state as a coloured badge (plus "failed" when sys/failed). */
export function stateBadge(state, failed, props = {}) {
  const s = typeof state === 'string' ? state : 'unknown';
  const badge = h('span', { class: ['state', `state-${s.replace(/[^a-z]/g, '')}`], text: s, ...props });
  if (!failed) return badge;
  return h('span', { class: 'state-group' }, badge, h('span', { class: 'state state-failed', text: 'failed' }));
}

/**
 * An error of the `where` language, with the place it names ("at byte N")
 * marked in the expression. Other errors are shown as they come.
 */
export function errorWithOffset(message, expr) {
  const out = [h('span', { class: 'error-text', text: message })];
  const m = /\bat byte (\d+)\b/.exec(message);
  if (m && expr) {
    const offset = Number(m[1]);
    const bytes = new TextEncoder().encode(expr);
    if (offset <= bytes.length) {
      const dec = new TextDecoder();
      const before = dec.decode(bytes.slice(0, offset));
      const rest = dec.decode(bytes.slice(offset));
      const chars = Array.from(rest);
      const at = chars.length ? chars[0] : '';
      const after = chars.slice(1).join('');
      out.push(h('code', { class: 'error-expr mono', dataset: { testid: 'filter-error-expr' } },
        h('span', { text: before }),
        h('mark', { class: at ? 'error-at' : 'error-at end', text: at || ' ', title: `byte ${offset}` }),
        h('span', { text: after })));
    }
  }
  return out;
}

export function loadingView(text = 'Loading…') {
  return h('div', { class: 'loading', dataset: { testid: 'loading' } }, h('span', { class: 'spinner' }), h('span', { text }));
}

export function errorView(title, message) {
  return h('div', { class: 'error-view', dataset: { testid: 'page-error' }, attrs: { role: 'alert' } },
    h('h2', { text: title }),
    h('p', { class: 'error-text', text: message }),
    h('p', {}, h('a', { href: '/', dataset: { nav: '' }, text: '← all runs' })));
}

/** A folding section with a title. */
export function section(title, props, ...children) {
  return h('details', { class: 'section', open: true, ...props },
    h('summary', {}, h('h2', { text: title })),
    h('div', { class: 'section-body' }, children));
}
