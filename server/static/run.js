// The run page (/run/ID): the run's tree, its FloatSeries as charts grouped
// by namespace, its StringSeries as text, its FileSeries as galleries, its
// File fields to download, its sys/ fields; kept live while it runs.
// Chart settings are in the URL (x, logy, smooth).

import { h, replace, throttle } from './dom.js';
import { api, isAbort } from './api.js';
import { subscribe } from './live.js';
import { runsViewHref, qs } from './nav.js';
import { ChartSettings, ChartGroups, chartToolbar } from './chart.js';
import { lineStyle } from './colors.js';
import { fmtTime, fmtAgo, parseTime, fmtBytes, isRaster } from './format.js';
import { loadingView, errorView } from './widgets.js';
import { Tree } from './tree.js';
import { TextSeries } from './text.js';
import { Gallery } from './gallery.js';

const byPath = (fields) => new Map(fields.map((f) => [f.path, f]));

export function mount(root, { id, query }) {
  const settings = ChartSettings.fromQuery(query);
  settings.on(() => {
    const q = settings.toQuery(new URLSearchParams(location.search));
    const s = qs(q);
    history.replaceState(null, '', location.pathname + (s ? `?${s}` : ''));
  });

  let fields = [];
  let info = null; // the run's row of the runs table (state, name, tags…)
  let state = null;
  let startMs = null;
  let destroyed = false;
  let ctrl = null;
  let shownFiles = null;
  const texts = new Map();
  const galleries = new Map();
  const { color, dash } = lineStyle(0);

  document.title = `${id} · hippocamp`;
  replace(root, loadingView(`Loading ${id}…`));

  // ---- parts, built once the run is found
  const liveState = h('span', { class: 'state', dataset: { testid: 'live-state' }, attrs: { 'aria-live': 'polite' } });
  const failedBadge = h('span', { class: 'state state-failed', text: 'failed', hidden: true });
  const titleName = h('span', { class: 'run-name' });
  const meta = h('div', { class: 'run-meta' });
  const description = h('p', { class: 'run-description', hidden: true });
  const removedNote = h('div', {
    class: 'notice', hidden: true, dataset: { testid: 'run-removed' }, attrs: { role: 'alert' },
    text: 'This run was removed from the store: what is shown is what it held.',
  });
  const tree = new Tree({ run: id, onSeries: (path, type) => reveal(path, type) });
  const groups = new ChartGroups({ settings, syncKey: `run:${id}` });
  const chartsEmpty = h('p', { class: 'muted empty-inline', text: 'This run has no FloatSeries yet.' });
  const textBox = h('div', { class: 'panels' });
  const galleryBox = h('div', { class: 'panels' });
  const filesBox = h('div', { class: 'files' });
  const textSection = h('section', { class: 'block', hidden: true, dataset: { testid: 'text-section' } },
    h('h2', { text: 'Text' }), textBox);
  const gallerySection = h('section', { class: 'block', hidden: true, dataset: { testid: 'gallery-section' } },
    h('h2', { text: 'Images and file series' }), galleryBox);
  const filesSection = h('section', { class: 'block', hidden: true, dataset: { testid: 'files-section' } },
    h('h2', { text: 'Files' }), filesBox);

  const page = h('section', { class: 'page run-page', dataset: { runId: id } },
    h('div', { class: 'page-head run-head' },
      h('div', { class: 'crumbs' }, h('a', { href: runsViewHref(), dataset: { nav: '' }, text: '← runs' })),
      h('h1', {}, h('span', { class: 'run-id mono', text: id }), titleName),
      h('div', { class: 'run-status' }, liveState, failedBadge, meta,
        h('span', { class: 'spacer' }),
        h('a', {
          href: `/?selected=${encodeURIComponent(id)}`, dataset: { nav: '' }, class: 'button-link',
          text: 'compare with…', title: 'pick runs to compare this one with',
        })),
      description,
      removedNote),
    h('div', { class: 'run-body' },
      h('aside', { class: 'tree-panel' }, h('h2', { text: 'Fields' }), tree.el),
      h('div', { class: 'main-panel' },
        h('section', { class: 'block charts-block', dataset: { testid: 'charts-section' } },
          h('div', { class: 'block-head' }, h('h2', { text: 'Charts' }), chartToolbar(settings)),
          chartsEmpty,
          groups.el),
        gallerySection,
        textSection,
        filesSection)));

  function reveal(path, type) {
    let el = null;
    if (type === 'FloatSeries') el = groups.charts.get(path)?.el;
    else if (type === 'StringSeries') el = texts.get(path)?.el;
    else if (type === 'FileSeries') el = galleries.get(path)?.el;
    if (!el) return;
    const group = el.closest('details');
    if (group) group.open = true;
    el.scrollIntoView({ behavior: 'smooth', block: 'center' });
    el.classList.add('flash');
    setTimeout(() => el.classList.remove('flash'), 1200);
  }

  // ---- loading and live refresh
  async function load(first) {
    if (ctrl) ctrl.abort();
    const my = new AbortController();
    ctrl = my;
    try {
      const [tr, rows] = await Promise.all([
        api.run(id, { signal: my.signal }),
        api.runsByIds([id], { signal: my.signal }).catch((e) => {
          if (isAbort(e)) throw e;
          return null;
        }),
      ]);
      if (destroyed || my !== ctrl) return;
      fields = Array.isArray(tr.fields) ? tr.fields : [];
      info = rows ? rows.get(id) ?? null : null;
      if (first) replace(root, page);
      render(tr);
    } catch (e) {
      if (isAbort(e) || destroyed) return;
      if (first) {
        replace(root, errorView(e.status === 404 ? `No run ${id}` : `Cannot show ${id}`, e.message));
      } else {
        console.warn(`refreshing ${id}:`, e.message);
      }
    } finally {
      if (my === ctrl) ctrl = null;
    }
  }

  const scheduleLoad = throttle(() => load(false), 1000);

  function render(tr) {
    const m = byPath(fields);
    const val = (p) => m.get(p)?.value;
    // the state: the runs table's (it knows crashed and damaged), else the run's own
    state = (info && info.state) || tr.state || val('sys/state') || 'unknown';
    const failed = info ? !!info.failed : tr.failed ?? val('sys/failed') === true;
    liveState.textContent = state;
    liveState.className = `state state-${String(state).replace(/[^a-z]/g, '')}`;
    liveState.dataset.state = state;
    failedBadge.hidden = !failed;

    const name = (info && info.name) || val('sys/name') || '';
    titleName.textContent = name;
    titleName.hidden = !name;
    if (name) document.title = `${id} ${name} · hippocamp`;
    const created = (info && info.created) || val('sys/creation_time');
    startMs = parseTime(created);
    const project = (info && info.project) || val('sys/project');
    const host = val('sys/hostname');
    const tags = (info && Array.isArray(info.tags) ? info.tags : val('sys/tags')) || [];
    replace(meta,
      project ? h('span', { class: 'meta-item', title: 'project', text: project }) : null,
      created ? h('span', { class: 'meta-item', title: `${created} (${fmtAgo(startMs)})`, text: `created ${fmtTime(startMs, created)}` }) : null,
      host ? h('span', { class: 'meta-item', title: 'hostname', text: host }) : null,
      (Array.isArray(tags) ? tags : []).map((t) => h('a', {
        class: 'tag', href: `/?tag=${encodeURIComponent(t)}`, dataset: { nav: '' }, text: t, title: `runs tagged ${t}`,
      })));
    const desc = val('sys/description');
    description.textContent = desc || '';
    description.hidden = !desc;

    tree.render(fields);
    syncPanels();
  }

  function syncPanels() {
    const start = Number.isFinite(startMs) ? startMs : null;
    let floats = 0;
    for (const f of fields) {
      if (f.type === 'FloatSeries') {
        floats++;
        if (!groups.charts.has(f.path)) {
          groups.add(f.path, [{ run: id, path: f.path, label: f.path, color, dash, start }]);
        }
      } else if (f.type === 'StringSeries' && !texts.has(f.path)) {
        const t = new TextSeries({ run: id, path: f.path });
        texts.set(f.path, t);
        insertSorted(textBox, t.el, f.path);
        t.start();
      } else if (f.type === 'FileSeries' && !galleries.has(f.path)) {
        const g = new Gallery({ run: id, path: f.path });
        galleries.set(f.path, g);
        insertSorted(galleryBox, g.el, f.path);
        g.start();
      }
    }
    chartsEmpty.hidden = floats > 0;
    textSection.hidden = texts.size === 0;
    gallerySection.hidden = galleries.size === 0;

    const files = fields.filter((f) => f.type === 'File' && !f.path.startsWith('sys/'));
    filesSection.hidden = files.length === 0;
    // redrawn only when the files change (a redraw refetches the previews)
    const filesKey = JSON.stringify(files.map((f) => [f.path, f.value, f.size]));
    if (filesKey === shownFiles) return;
    shownFiles = filesKey;
    replace(filesBox, files.map((f) => {
      const name = typeof f.value === 'string' ? f.value : (f.value && f.value.name) || f.path;
      const url = api.fileUrl(id, f.path);
      return h('div', { class: 'file-card', dataset: { testid: 'file', path: f.path } },
        isRaster(name) ? h('a', { href: url, target: '_blank', rel: 'noopener' },
          h('img', { src: url, alt: f.path, class: 'file-preview', loading: 'lazy' })) : null,
        h('div', { class: 'file-info' },
          h('span', { class: 'mono', text: f.path }),
          h('a', { href: url, download: name, class: 'file-link', text: name, dataset: { testid: 'file-download' } }),
          typeof f.size === 'number' ? h('span', { class: 'muted', text: fmtBytes(f.size) }) : null));
    }));
  }

  function insertSorted(box, el, path) {
    el.dataset.sortKey = path;
    const next = [...box.children].find((c) => c.dataset.sortKey > path);
    box.insertBefore(el, next || null);
  }

  const unsubscribe = subscribe((ev) => {
    if (ev.change === 'poll') {
      if (state !== 'running') return;
    } else if (ev.run !== id) {
      return;
    }
    if (ev.change === 'removed') {
      removedNote.hidden = false;
      return;
    }
    if (ev.change === 'points' || ev.change === 'poll') {
      groups.refresh(id);
      for (const t of texts.values()) t.refresh();
      for (const g of galleries.values()) g.refresh();
    }
    scheduleLoad();
  });

  load(true);

  return () => {
    destroyed = true;
    if (ctrl) ctrl.abort();
    scheduleLoad.cancel();
    unsubscribe();
    groups.destroy();
    for (const t of texts.values()) t.destroy();
    for (const g of galleries.values()) g.destroy();
  };
}

