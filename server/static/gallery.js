// A FileSeries as a gallery: the file at one step (an image when it is a
// raster image, else a download link), a step slider, neighbours as
// thumbnails. Up to 2,000 steps are all reachable; a longer series is
// sampled (each of 1,000 buckets gives its first and last file).

import { h, replace } from './dom.js';
import { api, isAbort } from './api.js';
import { fmtNum, fmtCount, fmtBytes, fmtTime, parseTime, finite, isRaster } from './format.js';

const STRIP = 9;

function parseItems(r) {
  const items = [];
  if (Array.isArray(r.points)) {
    for (const p of r.points) items.push({ step: p[0], file: p[1], time: p[2] });
  } else {
    for (const b of r.buckets || []) {
      if (!b || !b.count) continue;
      items.push({ step: b.from, file: b.first, time: b.from_time });
      if (b.to !== b.from) items.push({ step: b.to, file: b.last, time: b.to_time });
    }
  }
  return items.filter((it) => finite(it.step) !== null);
}

export class Gallery {
  constructor({ run, path }) {
    this.run = run;
    this.path = path;
    this.items = [];
    this.index = -1;
    this.count = 0;
    this.sampled = false;
    this.ctrl = null;
    this.timer = null;
    this.lastFetch = -Infinity;

    this.slider = h('input', {
      type: 'range', min: '0', max: '0', step: '1', value: '0', class: 'gallery-slider',
      dataset: { testid: 'gallery-slider' }, attrs: { 'aria-label': `step of ${path}` },
      on: { input: () => this.select(Number(this.slider.value)) },
    });
    this.prev = h('button', { type: 'button', text: '‹', title: 'previous step', on: { click: () => this.select(this.index - 1) } });
    this.next = h('button', { type: 'button', text: '›', title: 'next step', on: { click: () => this.select(this.index + 1) } });
    this.view = h('div', { class: 'gallery-view' });
    this.caption = h('div', { class: 'gallery-caption' });
    this.strip = h('div', { class: 'gallery-strip' });
    this.countEl = h('span', { class: 'muted' });
    this.msg = h('div', { class: 'muted panel-msg', hidden: true });
    this.el = h('div', { class: 'panel gallery', dataset: { testid: 'gallery', path } },
      h('div', { class: 'panel-head' }, h('span', { class: 'panel-title mono', text: path }), this.countEl),
      this.view,
      this.caption,
      h('div', { class: 'gallery-controls' }, this.prev, this.slider, this.next),
      this.strip,
      this.msg);
    this.el.addEventListener('keydown', (e) => {
      if (e.target === this.slider) return;
      if (e.key === 'ArrowLeft') this.select(this.index - 1);
      if (e.key === 'ArrowRight') this.select(this.index + 1);
    });
  }

  async load() {
    if (this.ctrl) this.ctrl.abort();
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    this.lastFetch = performance.now();
    try {
      const r = await api.series(this.run, { path: this.path, buckets: 1000 }, { signal: ctrl.signal });
      if (ctrl !== this.ctrl) return;
      const atEnd = this.index === -1 || this.index === this.items.length - 1;
      const keepStep = atEnd ? null : this.items[this.index]?.step;
      this.items = parseItems(r);
      this.count = r.count ?? this.items.length;
      this.sampled = !Array.isArray(r.points);
      this.countEl.textContent = `${fmtCount(this.count)} file${this.count === 1 ? '' : 's'}${this.sampled ? ` · ${fmtCount(this.items.length)} steps on the slider` : ''}`;
      this.slider.max = String(Math.max(0, this.items.length - 1));
      this.slider.disabled = this.items.length < 2;
      let idx = this.items.length - 1;
      if (keepStep !== null && keepStep !== undefined) {
        const k = this.items.findIndex((it) => it.step === keepStep);
        if (k >= 0) idx = k;
      }
      this.msg.hidden = this.items.length > 0;
      this.msg.textContent = this.items.length ? '' : 'no files yet';
      // draw again only what changed (files are served no-store: a redraw refetches)
      const stripKey = this.items.length;
      if (stripKey !== this.stripKey) this.index = -1;
      this.stripKey = stripKey;
      this.select(idx);
    } catch (e) {
      if (isAbort(e)) return;
      this.msg.textContent = e.message;
      this.msg.hidden = false;
    } finally {
      if (ctrl === this.ctrl) this.ctrl = null;
    }
  }

  refresh() {
    if (this.timer) return;
    const wait = Math.max(0, this.lastFetch + 1000 - performance.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.load();
    }, wait);
  }

  select(i) {
    if (!this.items.length) {
      this.view.replaceChildren();
      this.caption.replaceChildren();
      this.strip.replaceChildren();
      this.prev.disabled = true;
      this.next.disabled = true;
      return;
    }
    i = Math.max(0, Math.min(this.items.length - 1, i));
    if (i === this.index && this.items[i].step === this.shownStep) return;
    this.index = i;
    this.slider.value = String(i);
    this.prev.disabled = i === 0;
    this.next.disabled = i === this.items.length - 1;
    const it = this.items[i];
    this.shownStep = it.step;
    const f = it.file && typeof it.file === 'object' ? it.file : { name: String(it.file ?? '') };
    const url = api.fileUrl(this.run, this.path, it.step);
    const image = isRaster(f.extension || f.name || '');
    this.el.dataset.step = String(it.step);
    if (image) {
      replace(this.view, h('a', { href: url, target: '_blank', rel: 'noopener', title: 'open the full image' },
        h('img', {
          src: url, alt: `${this.path} at step ${fmtNum(it.step)}`, class: 'gallery-image', dataset: { testid: 'gallery-image' },
          decoding: 'async',
          on: { load: (e) => e.target.classList.toggle('small', e.target.naturalHeight < 160 && e.target.naturalWidth < 400) },
        })));
    } else {
      replace(this.view, h('a', {
        href: url, class: 'file-link', download: f.name || '', dataset: { testid: 'gallery-file' },
        text: `download ${f.name || 'the file'}`,
      }));
    }
    replace(this.caption,
      h('span', { class: 'mono', text: `step ${fmtNum(it.step)}` }),
      f.name ? h('span', { text: f.name }) : null,
      typeof f.size === 'number' ? h('span', { class: 'muted', text: fmtBytes(f.size) }) : null,
      h('span', { class: 'muted', title: String(it.time ?? ''), text: fmtTime(parseTime(it.time), '') }),
      h('a', { href: url, download: f.name || '', text: 'download', class: 'link' }));
    this.renderStrip();
  }

  renderStrip() {
    const n = this.items.length;
    if (n < 2) {
      this.strip.replaceChildren();
      return;
    }
    let a = Math.max(0, this.index - Math.floor(STRIP / 2));
    const b = Math.min(n, a + STRIP);
    a = Math.max(0, b - STRIP);
    const thumbs = [];
    for (let k = a; k < b; k++) {
      const it = this.items[k];
      const f = it.file && typeof it.file === 'object' ? it.file : { name: String(it.file ?? '') };
      const image = isRaster(f.extension || f.name || '');
      thumbs.push(h('button', {
        type: 'button', class: ['thumb', k === this.index && 'current'], title: `step ${fmtNum(it.step)}`,
        on: { click: () => this.select(k) },
      }, image
        ? h('img', { src: api.fileUrl(this.run, this.path, it.step), alt: '', loading: 'lazy', decoding: 'async' })
        : h('span', { class: 'thumb-step mono', text: fmtNum(it.step) })));
    }
    this.strip.replaceChildren(...thumbs);
  }

  start() {
    this.load();
  }

  destroy() {
    if (this.ctrl) this.ctrl.abort();
    if (this.timer) clearTimeout(this.timer);
  }
}
