// A StringSeries as text with its steps, paged by step range: at most
// PAGE lines at a time, the latest first shown (and followed while the run
// logs), older / newer pages, or the page from a given step.
//
// The series route answers points only when a range holds at most
// 2 × buckets of them; for a page the range is narrowed with the buckets'
// own step bounds (they partition the points), so every page is exact.

import { h } from './dom.js';
import { api, isAbort } from './api.js';
import { fmtNum, fmtCount, fmtTime, parseTime, finite } from './format.js';

const PAGE = 200;

/** Points of [from, to] (inclusive, either open), at most `max`, from its start or its end. */
export async function windowOf(run, path, { from = null, to = null, fromEnd = false, max = PAGE }, signal) {
  const half = Math.max(1, Math.floor(max / 2));
  const limit = 2 * half;
  for (let iter = 0; iter < 64; iter++) {
    const r = await api.series(run, { path, from, to, buckets: half }, { signal });
    if (Array.isArray(r.points)) return { points: r.points, count: r.count };
    const bs = (r.buckets || []).filter((b) => b && b.count > 0);
    if (!bs.length) return { points: [], count: 0 };
    let sum = 0;
    if (fromEnd) {
      let k = bs.length;
      while (k > 0 && sum + bs[k - 1].count <= limit) sum += bs[--k].count;
      if (k === bs.length) {
        from = bs[k - 1].from;
        to = bs[k - 1].to;
      } else {
        from = bs[k].from;
        to = bs[bs.length - 1].to;
      }
    } else {
      let k = 0;
      while (k < bs.length && sum + bs[k].count <= limit) sum += bs[k++].count;
      to = k === 0 ? bs[0].to : bs[k - 1].to;
      from = bs[0].from;
    }
  }
  throw new Error('this series could not be paged');
}

/** The first and last steps of a series and its count. */
export async function boundsOf(run, path, signal) {
  const r = await api.series(run, { path, buckets: 1 }, { signal });
  if (Array.isArray(r.points)) {
    const p = r.points;
    return p.length ? { first: p[0][0], last: p[p.length - 1][0], count: r.count ?? p.length } : { first: null, last: null, count: 0 };
  }
  const bs = (r.buckets || []).filter((b) => b && b.count > 0);
  if (!bs.length) return { first: null, last: null, count: 0 };
  return { first: bs[0].from, last: bs[bs.length - 1].to, count: r.count };
}

export class TextSeries {
  constructor({ run, path }) {
    this.run = run;
    this.path = path;
    this.points = [];
    this.bounds = null;
    this.following = true;
    this.ctrl = null;
    this.timer = null;
    this.lastFetch = -Infinity;

    const btn = (text, testid, fn) => h('button', { type: 'button', text, dataset: { testid }, on: { click: fn } });
    this.firstBtn = btn('⇤ first', 'text-first', () => this.show({ fromEnd: false }));
    this.olderBtn = btn('‹ older', 'text-older', () => this.older());
    this.newerBtn = btn('newer ›', 'text-newer', () => this.newer());
    this.latestBtn = btn('latest ⇥', 'text-latest', () => this.show({ fromEnd: true }));
    this.stepInput = h('input', {
      type: 'number', class: 'step-input', placeholder: 'step', attrs: { 'aria-label': 'from step' },
      dataset: { testid: 'text-step' },
    });
    const goForm = h('form', {
      class: 'inline-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          const s = Number(this.stepInput.value);
          if (this.stepInput.value !== '' && Number.isFinite(s)) this.show({ from: s, fromEnd: false });
        },
      },
    }, this.stepInput, h('button', { type: 'submit', text: 'go' }));
    this.rangeEl = h('span', { class: 'muted range-label' });
    this.countEl = h('span', { class: 'muted' });
    this.body = h('tbody');
    this.msg = h('div', { class: 'muted panel-msg', hidden: true });
    this.logWrap = h('div', { class: 'log-wrap' },
      h('table', { class: 'log' },
        h('thead', {}, h('tr', {}, h('th', { text: 'step' }), h('th', { text: 'value' }), h('th', { text: 'time' }))),
        this.body));
    this.el = h('div', { class: 'panel text-series', dataset: { testid: 'string-series', path } },
      h('div', { class: 'panel-head' },
        h('span', { class: 'panel-title mono', text: path }), this.countEl,
        h('span', { class: 'spacer' }),
        this.rangeEl),
      h('div', { class: 'panel-tools' }, this.firstBtn, this.olderBtn, this.newerBtn, this.latestBtn, goForm),
      this.logWrap,
      this.msg);
  }

  async show({ from = null, to = null, fromEnd = true, drop = null }) {
    if (this.ctrl) this.ctrl.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.lastFetch = performance.now();
    this.el.classList.add('is-loading');
    try {
      const [bounds, win] = await Promise.all([
        boundsOf(this.run, this.path, ctrl.signal),
        windowOf(this.run, this.path, { from, to, fromEnd }, ctrl.signal),
      ]);
      if (ctrl !== this.ctrl) return;
      let points = win.points;
      if (drop) points = points.filter(drop);
      this.bounds = bounds;
      if (!points.length && this.points.length && drop) {
        // nothing beyond this page: stay
        this.update();
        return;
      }
      this.points = points;
      this.following = bounds.last === null || (points.length > 0 && points[points.length - 1][0] === bounds.last);
      this.update();
    } catch (e) {
      if (isAbort(e)) return;
      this.msg.textContent = e.message;
      this.msg.hidden = false;
      this.msg.classList.add('error-text');
    } finally {
      if (ctrl === this.ctrl) {
        this.ctrl = null;
        this.el.classList.remove('is-loading');
      }
    }
  }

  older() {
    if (!this.points.length) return;
    const s0 = this.points[0][0];
    this.show({ to: s0, fromEnd: true, drop: (p) => p[0] < s0 });
  }

  newer() {
    if (!this.points.length) return;
    const s1 = this.points[this.points.length - 1][0];
    this.show({ from: s1, fromEnd: false, drop: (p) => p[0] > s1 });
  }

  /** A live change: follow the latest page, at most once a second. */
  refresh() {
    if (!this.following) {
      // keep the page; only the count and bounds move
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastFetch + 1000 - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.following) this.show({ fromEnd: true });
    }, wait);
  }

  update() {
    const pts = this.points;
    const b = this.bounds || { first: null, last: null, count: 0 };
    this.countEl.textContent = `${fmtCount(b.count ?? 0)} line${b.count === 1 ? '' : 's'}`;
    const first = pts.length ? pts[0][0] : null;
    const last = pts.length ? pts[pts.length - 1][0] : null;
    this.rangeEl.textContent = pts.length ? `steps ${fmtNum(first)}–${fmtNum(last)} (${fmtCount(pts.length)} shown)` : '';
    this.olderBtn.disabled = first === null || b.first === null || first <= b.first;
    this.firstBtn.disabled = this.olderBtn.disabled;
    this.newerBtn.disabled = last === null || b.last === null || last >= b.last;
    this.latestBtn.disabled = this.newerBtn.disabled;
    this.el.dataset.from = first === null ? '' : String(first);
    this.el.dataset.to = last === null ? '' : String(last);
    const frag = document.createDocumentFragment();
    for (const p of pts) {
      const t = parseTime(p[2]);
      const v = p[1];
      frag.appendChild(h('tr', { dataset: { step: String(p[0]) } },
        h('td', { class: 'log-step mono num', text: finite(p[0]) === null ? String(p[0]) : fmtNum(p[0]) }),
        h('td', { class: 'log-value', text: typeof v === 'string' ? v : JSON.stringify(v) }),
        h('td', { class: 'log-time muted', title: String(p[2] ?? ''), text: fmtTime(t, String(p[2] ?? '')) })));
    }
    this.body.replaceChildren(frag);
    // a log that is followed stays scrolled to its newest line
    if (this.following) this.logWrap.scrollTop = this.logWrap.scrollHeight;
    this.msg.hidden = pts.length > 0;
    if (!pts.length) {
      this.msg.classList.remove('error-text');
      this.msg.textContent = 'no lines yet';
    }
  }

  start() {
    this.show({ fromEnd: true });
  }

  destroy() {
    if (this.ctrl) this.ctrl.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}

