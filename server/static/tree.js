// A run's fields drawn as a tree of `|-->` lines, as `hippocamp show` prints it,
//   |--> params
//        |--> learning_rate: 0.005
//   |--> train
//        |--> acc: FloatSeries
// with namespaces folding (their fold state survives live refreshes).

import { h } from './dom.js';
import { api } from './api.js';
import { fmtValue, exactValue, fmtNum, fmtCount, fmtBytes, clip, isRaster } from './format.js';

const LONG = 160;

/** Nests [{path,…}] into {children: Map(name → node)}, node.field for leaves. */
export function nest(fields) {
  const root = { name: '', path: '', children: new Map(), field: null };
  for (const f of fields) {
    if (typeof f.path !== 'string') continue;
    const parts = f.path.split('/').filter((p) => p !== '');
    let node = root;
    let path = '';
    for (const part of parts) {
      path = path ? `${path}/${part}` : part;
      let child = node.children.get(part);
      if (!child) {
        child = { name: part, path, children: new Map(), field: null };
        node.children.set(part, child);
      }
      node = child;
    }
    node.field = f;
  }
  return root;
}

export class Tree {
  /**
   * `onSeries(path, type)` is called when a series is clicked (to show
   * its chart, text or gallery).
   */
  constructor({ run, onSeries }) {
    this.run = run;
    this.onSeries = onSeries;
    this.closed = new Set();
    this.expanded = new Set(); // long strings shown whole
    this.el = h('div', { class: 'tree mono', dataset: { testid: 'run-tree' } });
    this.initialised = false;
  }

  render(fields) {
    const root = nest(fields);
    if (!this.initialised) {
      this.initialised = true;
      // big trees start with their deeper namespaces folded
      if (fields.length > 150) {
        const walk = (node, depth) => {
          for (const c of node.children.values()) {
            if (c.children.size && depth >= 1) this.closed.add(c.path);
            walk(c, depth + 1);
          }
        };
        walk(root, 0);
      }
    }
    // sys last, as its own block
    const top = [...root.children.values()];
    const ordered = [...top.filter((c) => c.name !== 'sys'), ...top.filter((c) => c.name === 'sys')];
    this.el.replaceChildren(h('ul', { class: 'tree-level' }, ordered.map((c) => this.node(c))));
    if (!top.length) this.el.replaceChildren(h('p', { class: 'muted', text: 'no fields' }));
  }

  node(n) {
    if (n.children.size && !n.field) {
      const details = h('details', {
        open: !this.closed.has(n.path),
        dataset: { path: n.path },
        on: {
          toggle: () => {
            if (details.open) this.closed.delete(n.path);
            else this.closed.add(n.path);
          },
        },
      },
      h('summary', { class: 'tree-ns', dataset: { testid: 'tree-namespace' } },
        h('span', { class: 'conn', text: '|--> ' }),
        h('span', { class: 'ns-name', text: n.name }),
        h('span', { class: 'fold', attrs: { 'aria-hidden': 'true' } })),
      h('ul', { class: 'tree-level' }, [...n.children.values()].map((c) => this.node(c))));
      return h('li', { class: 'tree-item ns' }, details);
    }
    const f = n.field;
    return h('li', { class: 'tree-item leaf', dataset: { path: n.path, type: f ? f.type : '' }, title: n.path },
      h('span', { class: 'conn', text: '|--> ' }),
      h('span', { class: 'key', text: n.name }),
      h('span', { class: 'colon', text: ': ' }),
      f ? this.value(f) : h('span', { class: 'muted', text: '(namespace)' }));
  }

  value(f) {
    const type = f.type;
    const typeTag = h('span', { class: 'type', text: type });
    switch (type) {
      case 'Float':
      case 'Int':
        return [h('span', { class: 'v v-num', title: exactValue(f.value), text: fmtValue(f.value, type) }), typeTag];
      case 'Bool':
        return [h('span', { class: 'v v-bool', text: fmtValue(f.value, type) }), typeTag];
      case 'Datetime':
        return [h('span', { class: 'v v-time', title: String(f.value ?? ''), text: fmtValue(f.value, type) }), typeTag];
      case 'String':
        return [this.longString(f), typeTag];
      case 'StringSet': {
        const items = Array.isArray(f.value) ? f.value : [];
        return [h('span', { class: 'v v-set' },
          items.length ? items.map((t) => h('span', { class: 'tag', text: clip(String(t), 60), title: String(t) }))
            : h('span', { class: 'muted', text: '(empty)' })), typeTag];
      }
      case 'File': {
        const name = typeof f.value === 'string' ? f.value : (f.value && f.value.name) || f.path;
        const url = api.fileUrl(this.run, f.path);
        return [h('a', {
          href: url, class: 'v file-link', download: name, text: name,
          title: isRaster(name) ? 'an image: opens inline; download with the link' : 'download',
          dataset: { testid: 'file-link', path: f.path },
        }), typeof f.size === 'number' ? h('span', { class: 'muted', text: ` ${fmtBytes(f.size)}` }) : null, typeTag];
      }
      case 'FloatSeries':
      case 'StringSeries':
      case 'FileSeries':
        return this.series(f);
      default:
        return [h('span', { class: 'v', text: fmtValue(f.value, type), title: exactValue(f.value) }), typeTag];
    }
  }

  longString(f) {
    const s = typeof f.value === 'string' ? f.value : fmtValue(f.value);
    if (s === '') return h('span', { class: 'v v-str muted', text: '""' });
    if (s.length <= LONG || this.expanded.has(f.path)) {
      return h('span', { class: 'v v-str', text: s });
    }
    const span = h('span', { class: 'v v-str' }, s.slice(0, LONG) + '… ');
    span.appendChild(h('button', {
      type: 'button', class: 'link-button', text: `show all ${fmtCount(s.length)} characters`,
      on: {
        click: () => {
          this.expanded.add(f.path);
          span.replaceChildren(document.createTextNode(s));
        },
      },
    }));
    return span;
  }

  series(f) {
    const bits = [];
    if (typeof f.count === 'number') bits.push(`${fmtCount(f.count)} point${f.count === 1 ? '' : 's'}`);
    if (Array.isArray(f.last) && f.last.length >= 2) {
      const [step, v] = f.last;
      let shown;
      if (f.type === 'FloatSeries') shown = fmtValue(v);
      else if (f.type === 'FileSeries') shown = v && typeof v === 'object' ? String(v.name ?? '') : String(v);
      else shown = JSON.stringify(clip(String(v), 60));
      bits.push(`last ${shown} @ ${fmtNum(step)}`);
    }
    if (f.type === 'FloatSeries' && f.min !== undefined && f.max !== undefined) {
      bits.push(`${fmtValue(f.min)} … ${fmtValue(f.max)}`);
    }
    return [
      h('button', {
        type: 'button', class: 'link-button series-link', text: f.type,
        title: f.type === 'FloatSeries' ? 'show its chart' : f.type === 'StringSeries' ? 'show its text' : 'show its gallery',
        on: { click: () => this.onSeries && this.onSeries(f.path, f.type) },
      }),
      bits.length ? h('span', { class: 'series-meta', text: ` · ${bits.join(' · ')}` }) : null,
    ];
  }
}
