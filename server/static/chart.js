// Charts of FloatSeries with uPlot: one or more lines (a run's series
// each), zoom by dragging (the zoomed step range is fetched again at the
// chart's width in buckets), hover values in the legend, x as step / wall
// time / time since the run started, linear or log y, EMA smoothing with
// the raw line kept faint, and a min/max band where the server answered
// buckets (the line then goes through each bucket's first and last point).

import uPlot from './vendor/uplot-1.6.32/uPlot.esm.js';
import { h } from './dom.js';
import { api, isAbort } from './api.js';
import { finite, fmtNum, fmtTick, fmtCount, fmtDuration, fmtTime, parseTime } from './format.js';
import { alpha } from './colors.js';
import { cssVar, onThemeChange } from './theme.js';

export const X_MODES = [
  ['step', 'step'],
  ['time', 'wall time'],
  ['relative', 'time since start'],
];
const X_LABEL = { step: 'step', time: 'time', relative: 'elapsed' };

/** The settings every chart of a page shares (x mode, log y, smoothing). */
export class ChartSettings {
  constructor({ x = 'step', logY = false, smooth = 0 } = {}) {
    this.x = x;
    this.logY = logY;
    this.smooth = smooth;
    this.listeners = new Set();
  }

  static fromQuery(q) {
    const x = q.get('x');
    const smooth = Number.parseFloat(q.get('smooth'));
    return new ChartSettings({
      x: X_MODES.some(([k]) => k === x) ? x : 'step',
      logY: q.get('logy') === '1' || q.get('logy') === 'true',
      smooth: Number.isFinite(smooth) ? Math.min(0.99, Math.max(0, smooth)) : 0,
    });
  }

  /** Writes the settings into a URLSearchParams (defaults left out). */
  toQuery(q) {
    if (this.x !== 'step') q.set('x', this.x); else q.delete('x');
    if (this.logY) q.set('logy', '1'); else q.delete('logy');
    if (this.smooth > 0) q.set('smooth', String(this.smooth)); else q.delete('smooth');
    return q;
  }

  set(patch) {
    Object.assign(this, patch);
    for (const fn of [...this.listeners]) fn(patch);
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** The controls of a page's charts: x axis, y scale, smoothing. */
export function chartToolbar(settings, { onChange } = {}) {
  const xSelect = h('select', {
    dataset: { testid: 'x-axis' },
    attrs: { 'aria-label': 'x axis' },
    on: { change: () => settings.set({ x: xSelect.value }) },
  }, X_MODES.map(([k, label]) => h('option', { value: k, text: label, selected: settings.x === k })));

  const logBox = h('input', {
    type: 'checkbox',
    checked: settings.logY,
    dataset: { testid: 'log-y' },
    on: { change: () => settings.set({ logY: logBox.checked }) },
  });

  const smoothValue = h('output', { class: 'smooth-value', text: fmtSmooth(settings.smooth) });
  const smooth = h('input', {
    type: 'range',
    min: '0',
    max: '0.99',
    step: '0.01',
    value: String(settings.smooth),
    dataset: { testid: 'smoothing' },
    attrs: { 'aria-label': 'smoothing' },
    on: {
      input: () => {
        smoothValue.textContent = fmtSmooth(Number(smooth.value));
        scheduleSmooth();
      },
    },
  });
  let raf = 0;
  const scheduleSmooth = () => {
    if (raf) return;
    raf = requestAnimationFrame(() => {
      raf = 0;
      settings.set({ smooth: Number(smooth.value) });
    });
  };
  if (onChange) settings.on(onChange);

  return h('div', { class: 'chart-toolbar', dataset: { testid: 'chart-toolbar' } },
    h('label', { class: 'control' }, h('span', { text: 'x axis' }), xSelect),
    h('label', { class: 'control' }, logBox, h('span', { text: 'log y' })),
    h('label', { class: 'control smooth' }, h('span', { text: 'smoothing' }), smooth, smoothValue),
    h('span', { class: 'hint', text: 'drag to zoom · double-click to reset' }));
}

function fmtSmooth(v) {
  return v > 0 ? v.toFixed(2) : 'off';
}

// Charts load when they come near the viewport, and live updates refetch
// only the visible ones (the others are marked stale and load when shown).
const observed = new WeakMap();
const io = typeof IntersectionObserver !== 'undefined'
  ? new IntersectionObserver((entries) => {
    for (const e of entries) {
      const chart = observed.get(e.target);
      if (chart) chart.setVisible(e.isIntersecting);
    }
  }, { rootMargin: '300px 0px' })
  : null;

/** The parsed answer of the series route, for one line. */
function parseSeries(r) {
  const steps = [];
  const times = [];
  const y = [];
  if (Array.isArray(r.points)) {
    for (const p of r.points) {
      if (!Array.isArray(p)) continue;
      const s = finite(p[0]);
      if (s === null) continue;
      steps.push(s);
      times.push(parseTime(p[2]));
      y.push(finite(p[1]));
    }
    return { count: r.count ?? steps.length, mode: 'points', steps, times, y, lo: null, hi: null, n: steps.length };
  }
  const lo = [];
  const hi = [];
  const buckets = Array.isArray(r.buckets) ? r.buckets : [];
  const push = (step, t, v, mn, mx) => {
    const s = finite(step);
    if (s === null) return;
    steps.push(s);
    times.push(parseTime(t));
    y.push(finite(v));
    lo.push(mn);
    hi.push(mx);
  };
  for (const b of buckets) {
    if (!b || !b.count) continue;
    const mn = finite(b.min);
    const mx = finite(b.max);
    push(b.from, b.from_time, b.first, mn, mx);
    if (b.to !== b.from) push(b.to, b.to_time, b.last, mn, mx);
  }
  return { count: r.count, mode: 'buckets', steps, times, y, lo, hi, n: buckets.length };
}

/** TensorBoard's debiased exponential moving average; nulls stay gaps. */
export function ema(ys, w) {
  const out = new Array(ys.length);
  let last = 0;
  let n = 0;
  for (let i = 0; i < ys.length; i++) {
    const v = ys[i];
    if (v === null || v === undefined) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}

function axisSize(u, values, axisIdx, cycleNum) {
  const axis = u.axes[axisIdx];
  let widest = 0;
  u.ctx.font = axis.font[0];
  for (const v of values || []) if (v) widest = Math.max(widest, u.ctx.measureText(v).width);
  const size = Math.ceil(axis.ticks.size + axis.gap + widest / devicePixelRatio) + 6;
  // the ticks change with the size: never shrink after the first pass, so it settles
  return cycleNum > 1 ? Math.max(size, axis._size || 0) : size;
}

// whole steps get whole ticks
const INT_INCRS = [];
for (let e = 0; e <= 15; e++) for (const m of [1, 2, 5]) INT_INCRS.push(m * 10 ** e);

const RELATIVE_INCRS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
  60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 432000, 864000, 2592000,
];

/**
 * One chart. `lines`: [{run, path, label, color, dash, start}] where
 * `start` is the run's start in epoch ms (for "time since start").
 */
export class Chart {
  constructor({ path, title, lines, settings, syncKey, height = 200, eager = false }) {
    this.path = path;
    this.lines = lines;
    this.settings = settings;
    this.syncKey = syncKey;
    this.height = height;
    this.data = lines.map(() => null);
    this.dirty = new Set(lines.map((_, i) => i));
    this.loading = new Set();
    this.zoom = null; // {xmin, xmax, ranges: [{from, to}]}
    this.u = null;
    this.sig = null;
    this.visible = false;
    this.stale = true;
    this.gen = 0;
    this.ctrl = null;
    this.inflight = false;
    this.timer = null;
    this.lastFetch = -Infinity;
    this.fetchedWidth = 0;
    this.fetches = 0;
    this.destroyed = false;

    this.statusEl = h('span', { class: 'chart-status' });
    this.resetBtn = h('button', {
      type: 'button', class: 'link-button', text: 'reset zoom', hidden: true,
      dataset: { testid: 'reset-zoom' },
      on: { click: () => this.resetZoom() },
    });
    this.plotEl = h('div', { class: 'chart-plot' });
    this.msgEl = h('div', { class: 'chart-msg', hidden: true });
    this.el = h('div', {
      class: ['chart', lines.length > 1 && 'multi'],
      dataset: { testid: 'chart', path, state: 'idle', fetches: 0 },
    },
    h('div', { class: 'chart-head' },
      h('span', { class: 'chart-title', text: title ?? path, title: path }),
      h('span', { class: 'chart-tools' }, this.statusEl, this.resetBtn)),
    this.plotEl,
    this.msgEl);
    this.plotEl.style.minHeight = `${height}px`;

    this.offSettings = settings.on((patch) => this.onSettings(patch));
    this.offTheme = onThemeChange(() => {
      this.sig = null;
      this.render();
    });
    this.ro = typeof ResizeObserver !== 'undefined' ? new ResizeObserver(() => this.onResize()) : null;
    if (this.ro) this.ro.observe(this.plotEl);
    this.plotEl.addEventListener('dblclick', () => this.resetZoom());
    observed.set(this.el, this);
    if (io) io.observe(this.el);
    else this.setVisible(true);
    // the first charts of a page load at once, seen or not
    if (eager) {
      requestAnimationFrame(() => {
        if (!this.u && !this.inflight && !this.destroyed) this.load({ force: true });
      });
    }
  }

  setVisible(v) {
    this.visible = v;
    if (v && this.stale) this.load();
  }

  width() {
    return Math.max(160, Math.floor(this.plotEl.clientWidth || this.el.clientWidth || 480));
  }

  /** A live change of `run` (or of every line when null): refetch, at most once a second. */
  refresh(run = null) {
    let any = false;
    this.lines.forEach((l, i) => {
      if (run === null || l.run === run) {
        this.dirty.add(i);
        any = true;
      }
    });
    if (any) this.schedule();
  }

  schedule() {
    if (this.destroyed) return;
    if (!this.visible) {
      this.stale = true;
      return;
    }
    if (this.inflight) {
      this.pending = true;
      return;
    }
    const wait = this.lastFetch + 1000 - performance.now();
    if (wait > 0) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.load();
        }, wait);
      }
      return;
    }
    this.load();
  }

  markAll() {
    this.lines.forEach((_, i) => this.dirty.add(i));
  }

  async load({ force = false } = {}) {
    if (this.destroyed) return;
    if (!this.visible && !force) {
      this.stale = true;
      return;
    }
    this.stale = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.ctrl) this.ctrl.abort(); // a newer request supersedes it
    for (const i of this.loading) this.dirty.add(i);
    const idxs = [...this.dirty];
    this.dirty.clear();
    if (!idxs.length) {
      this.render();
      return;
    }
    this.loading = new Set(idxs);
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    const gen = ++this.gen;
    this.inflight = true;
    this.pending = false;
    this.lastFetch = performance.now();
    const width = this.width();
    const buckets = Math.max(50, Math.min(10000, Math.round(width)));
    if (!this.u) this.el.dataset.state = 'loading';
    this.el.classList.add('is-loading');
    try {
      const results = await Promise.all(idxs.map((i) => this.fetchLine(i, buckets, ctrl.signal)));
      if (gen !== this.gen) return;
      idxs.forEach((i, k) => {
        this.data[i] = results[k];
        const line = this.lines[i];
        if (!this.zoom && line.start == null && results[k].times.length) line.startGuess = results[k].times[0];
      });
      this.fetchedWidth = width;
      this.loading.clear();
      this.msgEl.hidden = true;
      this.render();
    } catch (e) {
      if (isAbort(e) || gen !== this.gen) return;
      this.loading.clear();
      this.showMessage(e.message, true);
      this.el.dataset.state = 'error';
    } finally {
      if (gen === this.gen) {
        this.inflight = false;
        this.ctrl = null;
        this.el.classList.remove('is-loading');
        if (this.pending || this.dirty.size) {
          this.pending = false;
          if (this.dirty.size) this.schedule();
        }
      }
    }
  }

  async fetchLine(i, buckets, signal) {
    const line = this.lines[i];
    const params = { path: line.path, buckets };
    const range = this.zoom && this.zoom.ranges[i];
    if (range) {
      if (range.from !== null && range.from !== undefined) params.from = range.from;
      if (range.to !== null && range.to !== undefined) params.to = range.to;
    }
    const r = await api.series(line.run, params, { signal });
    this.fetches++;
    this.el.dataset.fetches = String(this.fetches);
    return parseSeries(r);
  }

  showMessage(text, isError = false) {
    this.msgEl.textContent = text;
    this.msgEl.classList.toggle('error', isError);
    this.msgEl.hidden = false;
  }

  /** x values of a line's data in the current mode (seconds for times). */
  xOf(i) {
    const d = this.data[i];
    const line = this.lines[i];
    const mode = this.settings.x;
    if (mode === 'step') return d.steps;
    if (mode === 'time') return d.times.map((t) => t / 1000);
    const start = line.start ?? line.startGuess ?? d.times[0];
    return d.times.map((t) => (t - start) / 1000);
  }

  onSettings(patch) {
    if ('x' in patch && this.zoom) {
      // keep the fetched step ranges; the x scale fits them in the new units
      this.zoom.xmin = null;
      this.zoom.xmax = null;
    }
    this.render();
  }

  onResize() {
    if (!this.u) return;
    const w = this.width();
    if (Math.abs(w - this.u.width) >= 2) this.u.setSize({ width: w, height: this.height });
    if (w > this.fetchedWidth * 1.3) {
      this.markAll();
      this.schedule();
    }
  }

  onSelect(u) {
    const { left, width } = u.select;
    if (width < 3) return;
    const xmin = u.posToVal(left, 'x');
    const xmax = u.posToVal(left + width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    this.zoomTo(xmin, xmax);
  }

  /** Zooms to an x range: fetches its step range again at full resolution. */
  zoomTo(xmin, xmax) {
    const mode = this.settings.x;
    const ranges = this.lines.map((_, i) => {
      if (mode === 'step') return { from: Math.floor(xmin), to: Math.ceil(xmax) };
      const d = this.data[i];
      if (!d || !d.steps.length) return { from: null, to: null };
      const xs = this.xOf(i);
      let from = null;
      let to = null;
      for (let k = 0; k < xs.length; k++) {
        if (xs[k] <= xmin) from = d.steps[k];
        if (to === null && xs[k] >= xmax) to = d.steps[k];
      }
      if (from === null) from = d.steps[0];
      return { from, to };
    });
    this.zoom = { xmin, xmax, ranges };
    this.resetBtn.hidden = false;
    const r = ranges.find((x) => x && x.from !== null);
    this.el.dataset.zoomed = 'true';
    if (r) {
      this.el.dataset.from = String(r.from);
      if (r.to !== null) this.el.dataset.to = String(r.to);
      else delete this.el.dataset.to;
    }
    if (this.u) this.u.setScale('x', { min: xmin, max: xmax });
    this.markAll();
    this.load();
  }

  resetZoom() {
    if (!this.zoom) return;
    this.zoom = null;
    this.resetBtn.hidden = true;
    delete this.el.dataset.zoomed;
    delete this.el.dataset.from;
    delete this.el.dataset.to;
    this.markAll();
    this.load();
  }

  /** Draws what is fetched with the current settings. */
  render() {
    if (this.destroyed || !this.data.some((d) => d)) return;
    const { x: mode, logY, smooth } = this.settings;
    const tables = [];
    const series = [];
    const bands = [];
    let col = 1;
    let count = 0;
    let anyFinite = false;
    const modes = new Set();
    let buckets = 0;
    const intSteps = this.data.every((d) => !d || d.steps.every(Number.isInteger));
    const sigParts = [mode, logY, smooth > 0, intSteps];

    this.lines.forEach((line, i) => {
      const d = this.data[i];
      if (!d) return;
      modes.add(d.mode);
      count += typeof d.count === 'number' ? d.count : 0;
      if (d.mode === 'buckets') buckets += d.n;
      const xs0 = this.xOf(i);
      const xs = [];
      const y = [];
      const lo = d.lo ? [] : null;
      const hi = d.hi ? [] : null;
      const ok = (v) => (v === null || v === undefined ? null : logY && v <= 0 ? null : v);
      for (let k = 0; k < xs0.length; k++) {
        const xv = xs0[k];
        if (!Number.isFinite(xv)) continue;
        xs.push(xv);
        const v = ok(d.y[k]);
        if (v !== null) anyFinite = true;
        y.push(v);
        if (lo) {
          lo.push(ok(d.lo[k]));
          hi.push(ok(d.hi[k]));
        }
      }
      const table = [xs];
      const label = line.label;
      table.push(smooth > 0 ? ema(y, smooth) : y);
      series.push({
        label,
        stroke: line.color,
        width: 1.75,
        dash: line.dash && line.dash.length ? line.dash : undefined,
        class: 'main',
        spanGaps: false,
        value: (u, v) => (v == null ? '—' : fmtNum(v)),
      });
      col++;
      if (smooth > 0) {
        table.push(y);
        series.push({
          label: 'raw',
          stroke: alpha(line.color, 0.3),
          width: 1,
          dash: line.dash && line.dash.length ? line.dash : undefined,
          class: 'aux',
          points: { show: false },
          value: (u, v) => (v == null ? '—' : fmtNum(v)),
        });
        col++;
      }
      if (lo) {
        table.push(hi, lo);
        const hiIdx = col++;
        const loIdx = col++;
        for (const lbl of ['max', 'min']) {
          series.push({
            label: lbl,
            stroke: alpha(line.color, 0.45),
            width: 1,
            class: 'aux',
            points: { show: false },
            value: (u, v) => (v == null ? '—' : fmtNum(v)),
          });
        }
        bands.push({ series: [hiIdx, loIdx], fill: alpha(line.color, 0.2) });
      }
      sigParts.push(`${i}${lo ? 'b' : 'p'}`);
      tables.push(table);
    });

    const data = tables.length ? uPlot.join(tables) : [[]];
    const sig = sigParts.join('|');
    const el = this.el;
    el.dataset.mode = modes.size === 1 ? [...modes][0] : 'mixed';
    el.dataset.count = String(count);

    const multi = this.lines.length > 1;
    let status = multi ? `${this.lines.length} runs · ` : '';
    status += `${fmtCount(count)} point${count === 1 ? '' : 's'}`;
    if (buckets) status += ` · ${fmtCount(buckets)} buckets`;
    this.statusEl.textContent = status;
    this.statusEl.title = buckets
      ? 'downsampled: the band spans each bucket\'s exact min and max; the line goes through its first and last points'
      : 'every point drawn';

    const width = this.width();
    const zoomX = this.zoom && this.zoom.xmin !== null ? this.zoom : null;
    if (!this.u || sig !== this.sig) {
      if (this.u) this.u.destroy();
      this.u = new uPlot(this.options(width, series, bands, intSteps), data, this.plotEl);
      this.sig = sig;
    } else {
      this.u.setData(data, !zoomX);
    }
    if (zoomX) this.u.setScale('x', { min: zoomX.xmin, max: zoomX.xmax });

    if (!count) {
      this.showMessage('no points yet');
      el.dataset.state = 'empty';
    } else if (!anyFinite) {
      this.showMessage(logY ? 'nothing above 0 to draw on a log scale' : 'no finite values to draw (NaN or ±Inf only)');
      el.dataset.state = 'empty';
    } else {
      this.msgEl.hidden = true;
      el.dataset.state = 'ready';
    }
  }

  options(width, series, bands, intSteps) {
    const { x: mode, logY } = this.settings;
    const fg = cssVar('--chart-fg', '#555');
    const grid = cssVar('--chart-grid', 'rgba(128,128,128,0.2)');
    const font = `11px ${cssVar('--font-sans', 'system-ui, sans-serif')}`;
    const xValue = (u, v) => {
      if (v == null) return '—';
      if (mode === 'time') return fmtTime(v * 1000);
      if (mode === 'relative') return fmtDuration(v);
      return fmtNum(v);
    };
    const xAxis = {
      stroke: fg,
      font,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      space: 70,
    };
    if (mode === 'step') {
      xAxis.values = (u, splits) => splits.map(fmtTick);
      if (intSteps) xAxis.incrs = INT_INCRS;
    }
    if (mode === 'relative') {
      xAxis.values = (u, splits) => splits.map(fmtDuration);
      xAxis.incrs = RELATIVE_INCRS;
    }
    const yAxis = {
      stroke: fg,
      font,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      values: (u, splits) => splits.map(fmtTick),
      size: axisSize,
      space: 30,
    };
    return {
      width,
      height: this.height,
      pxAlign: 0,
      cursor: {
        // hover follows across the page's charts (by x value); drags and
        // double-clicks stay in their chart
        sync: this.syncKey
          ? { key: this.syncKey, scales: ['x', null], filters: { pub: (type) => type === 'mousemove' } }
          : undefined,
        drag: { x: true, y: false, setScale: false },
        y: false,
        bind: { dblclick: () => null },
        points: { size: 6 },
      },
      legend: { show: true, live: true },
      scales: {
        x: { time: mode === 'time' },
        y: logY ? { distr: 3, log: 10 } : {},
      },
      axes: [xAxis, yAxis],
      series: [{ label: X_LABEL[mode], value: xValue }, ...series],
      bands,
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
      },
    };
  }

  destroy() {
    this.destroyed = true;
    if (this.ctrl) this.ctrl.abort();
    if (this.timer) clearTimeout(this.timer);
    if (this.u) this.u.destroy();
    this.u = null;
    this.offSettings();
    this.offTheme();
    if (this.ro) this.ro.disconnect();
    if (io) io.unobserve(this.el);
  }
}

/** The group of a series path: its first namespace ('' at the root), as W&B sections do. */
export function namespaceOf(path) {
  const i = path.indexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/** A path inside its group: what follows the first namespace. */
export function leafOf(path) {
  const i = path.indexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/**
 * Charts grouped by namespace, each group folding: `specs` is
 * [{path, lines}]; returns {el, charts: Map(path → Chart)} and adds
 * charts for new paths on `add`.
 */
const EAGER = 8;

export class ChartGroups {
  constructor({ settings, syncKey, height }) {
    this.settings = settings;
    this.syncKey = syncKey;
    this.height = height;
    this.charts = new Map();
    this.groups = new Map();
    this.el = h('div', { class: 'chart-groups' });
  }

  add(path, lines) {
    if (this.charts.has(path)) return this.charts.get(path);
    const ns = namespaceOf(path);
    let group = this.groups.get(ns);
    if (!group) {
      const grid = h('div', { class: 'chart-grid' });
      const el = h('details', { class: 'chart-group', open: true, dataset: { testid: 'chart-group', namespace: ns } },
        h('summary', {}, h('span', { class: 'ns-name', text: ns === '' ? '(root)' : ns })),
        grid);
      group = { el, grid, paths: [] };
      this.groups.set(ns, group);
      // groups in path order
      const after = [...this.groups.keys()].filter((k) => k !== ns).sort().find((k) => k > ns);
      if (after !== undefined) this.el.insertBefore(el, this.groups.get(after).el);
      else this.el.appendChild(el);
    }
    const chart = new Chart({
      path,
      title: leafOf(path),
      lines,
      settings: this.settings,
      syncKey: this.syncKey,
      height: this.height,
      eager: this.charts.size < EAGER,
    });
    // charts in path order inside the group
    group.paths.push(path);
    group.paths.sort();
    const next = group.paths[group.paths.indexOf(path) + 1];
    if (next !== undefined && this.charts.has(next)) group.grid.insertBefore(chart.el, this.charts.get(next).el);
    else group.grid.appendChild(chart.el);
    this.charts.set(path, chart);
    return chart;
  }

  refresh(run) {
    for (const c of this.charts.values()) c.refresh(run);
  }

  get size() {
    return this.charts.size;
  }

  destroy() {
    for (const c of this.charts.values()) c.destroy();
    this.charts.clear();
  }
}
