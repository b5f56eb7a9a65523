// The compare page (/compare?runs=A,B,…): the runs side by side, each with
// one colour (and dash) on every chart; every FloatSeries path any of them
// has is a chart with their lines overlaid; a table of params and series'
// last values, rows where the runs differ highlighted.

import { h, replace, lineSwatch, throttle } from './dom.js';
import { api, isAbort } from './api.js';
import { subscribe } from './live.js';
import { navigate, runHref, compareHref, runsViewHref, qs } from './nav.js';
import { ChartSettings, ChartGroups, chartToolbar } from './chart.js';
import { lineStyle, DISTINCT_STYLES } from './colors.js';
import { fmtValue, exactValue, fmtNum, parseTime, clip, fmtCount } from './format.js';
import { stateBadge, loadingView, errorView } from './widgets.js';

/** The most runs one comparison shows (the rest of a longer list is named). */
const MAX_RUNS = 100;

const ATOMS = new Set(['Float', 'Int', 'Bool', 'String', 'Datetime', 'StringSet', 'File']);
const SERIES = new Set(['FloatSeries', 'StringSeries', 'FileSeries']);
const SYS_SHOWN = new Set(['sys/name', 'sys/description', 'sys/tags']);

/** What the table compares for a field: its value, or a series' last value. */
function compared(f) {
  if (!f) return undefined;
  if (ATOMS.has(f.type)) {
    if (f.type === 'File') return { name: typeof f.value === 'string' ? f.value : f.value?.name, size: f.size };
    if (f.type === 'StringSet' && Array.isArray(f.value)) return [...f.value].sort();
    return f.value;
  }
  if (SERIES.has(f.type)) return Array.isArray(f.last) ? f.last[1] : null;
  return undefined;
}

function shown(f) {
  if (!f) return '—';
  const v = compared(f);
  if (f.type === 'File') return v.name ?? '';
  if (f.type === 'FileSeries') return v && typeof v === 'object' ? String(v.name ?? '') : fmtValue(v);
  if (v === null) return '(no points)';
  return fmtValue(v, f.type === 'StringSeries' ? 'String' : f.type);
}

export function mount(root, { query }) {
  const asked = [...new Set((query.get('runs') || '').split(',').map((s) => s.trim()).filter(Boolean))];
  const ids = asked.slice(0, MAX_RUNS);
  const settings = ChartSettings.fromQuery(query);
  settings.on(() => {
    const q = settings.toQuery(new URLSearchParams(location.search));
    history.replaceState(null, '', `${location.pathname}?${qs(q)}`);
  });
  document.title = 'Compare · hippocamp';

  if (!ids.length) {
    replace(root, h('section', { class: 'page' },
      h('div', { class: 'empty-state' },
        h('h2', { text: 'Nothing to compare yet' }),
        h('p', { text: 'Tick runs in the runs table, then press Compare.' }),
        h('p', {}, h('a', { href: runsViewHref(), dataset: { nav: '' }, text: '← runs' })))));
    return () => {};
  }

  const styles = new Map(ids.map((id, i) => [id, lineStyle(i)]));
  let trees = new Map(); // id → Map(path → field)
  let rows = new Map(); // id → runs-table row
  let errors = new Map(); // id → message
  let destroyed = false;
  let ctrl = null;
  let onlyDiff = false;

  const groups = new ChartGroups({ settings, syncKey: `compare:${ids.join(',')}`, height: 220 });
  const legend = h('div', { class: 'compare-runs', dataset: { testid: 'compare-runs' } });
  const warn = h('div', { class: 'notice', hidden: true });
  const tableBox = h('div', { class: 'table-wrap compare-table-wrap' });
  const diffInfo = h('span', { class: 'muted' });
  const diffBox = h('input', {
    type: 'checkbox', dataset: { testid: 'diff-only' },
    on: { change: () => { onlyDiff = diffBox.checked; renderTable(); } },
  });
  const chartsEmpty = h('p', { class: 'muted empty-inline', hidden: true, text: 'None of these runs has a FloatSeries.' });

  const page = h('section', { class: 'page compare-page' },
    h('div', { class: 'page-head' },
      h('div', { class: 'crumbs' }, h('a', { href: runsViewHref(), dataset: { nav: '' }, text: '← runs' })),
      h('h1', { text: `Compare ${fmtCount(ids.length)} run${ids.length === 1 ? '' : 's'}` })),
    warn,
    legend,
    h('section', { class: 'block charts-block', dataset: { testid: 'charts-section' } },
      h('div', { class: 'block-head' }, h('h2', { text: 'Charts' }), chartToolbar(settings)),
      chartsEmpty,
      groups.el),
    h('section', { class: 'block' },
      h('div', { class: 'block-head' }, h('h2', { text: 'Parameters and last values' }),
        h('label', { class: 'control' }, diffBox, h('span', { text: 'only where runs differ' })), diffInfo),
      tableBox));

  replace(root, loadingView(`Loading ${ids.length} runs…`));

  async function load(first) {
    if (ctrl) ctrl.abort();
    const my = new AbortController();
    ctrl = my;
    const signal = my.signal;
    try {
      const [results, table] = await Promise.all([
        Promise.all(ids.map((id) => api.run(id, { signal }).then((r) => ({ id, r }), (e) => {
          if (isAbort(e)) throw e;
          return { id, e };
        }))),
        api.runsByIds(ids, { signal }).catch((e) => {
          if (isAbort(e)) throw e;
          return new Map();
        }),
      ]);
      if (destroyed || my !== ctrl) return;
      const nextTrees = new Map();
      const nextErrors = new Map();
      for (const { id, r, e } of results) {
        if (r) nextTrees.set(id, new Map((r.fields || []).map((f) => [f.path, f])));
        else nextErrors.set(id, e.message);
      }
      if (first && !nextTrees.size) {
        replace(root, errorView('Nothing to compare', [...nextErrors.entries()].map(([id, m]) => `${id}: ${m}`).join('\n')));
        return;
      }
      trees = nextTrees;
      errors = nextErrors;
      rows = table;
      if (first) replace(root, page);
      render();
    } catch (e) {
      if (isAbort(e) || destroyed) return;
      if (first) replace(root, errorView('Cannot compare these runs', e.message));
    } finally {
      if (my === ctrl) ctrl = null;
    }
  }
  const scheduleLoad = throttle(() => load(false), 1000);

  function stateOf(id) {
    const row = rows.get(id);
    if (row && row.state) return { state: row.state, failed: !!row.failed };
    const t = trees.get(id);
    return { state: t?.get('sys/state')?.value ?? 'unknown', failed: t?.get('sys/failed')?.value === true };
  }

  function nameOf(id) {
    return rows.get(id)?.name || trees.get(id)?.get('sys/name')?.value || '';
  }

  function remove(id) {
    const rest = ids.filter((x) => x !== id);
    const q = settings.toQuery(new URLSearchParams());
    const extra = qs(q);
    navigate(rest.length ? compareHref(rest) + (extra ? `&${extra}` : '') : runsViewHref());
  }

  function render() {
    const msgs = [...errors.entries()].map(([id, m]) => `${id}: ${m}`);
    if (ids.length > DISTINCT_STYLES) msgs.push(`More than ${DISTINCT_STYLES} runs: some share a colour and dash.`);
    if (asked.length > ids.length) {
      msgs.push(`Showing the first ${MAX_RUNS} of the ${fmtCount(asked.length)} runs asked for.`);
    }
    warn.hidden = !msgs.length;
    replace(warn, msgs.map((m) => h('div', { text: m })));

    replace(legend, ids.filter((id) => trees.has(id)).map((id) => {
      const { color, dash } = styles.get(id);
      const { state, failed } = stateOf(id);
      const name = nameOf(id);
      return h('div', { class: 'compare-run', dataset: { testid: 'compare-run', runId: id } },
        lineSwatch(color, dash),
        h('a', { href: runHref(id), dataset: { nav: '' }, class: 'mono', text: id }),
        name ? h('span', { class: 'run-name', text: clip(String(name), 60), title: String(name) }) : null,
        stateBadge(state, failed, { dataset: { testid: 'compare-state' } }),
        h('button', {
          type: 'button', class: 'icon-button', text: '×', title: `remove ${id} from the comparison`,
          on: { click: () => remove(id) },
        }));
    }));

    renderTable();
    syncCharts();
  }

  function renderTable() {
    const present = ids.filter((id) => trees.has(id));
    const paths = new Set();
    for (const id of present) {
      for (const f of trees.get(id).values()) {
        if (!ATOMS.has(f.type) && !SERIES.has(f.type)) continue;
        if (f.path.startsWith('sys/') && !SYS_SHOWN.has(f.path)) continue;
        paths.add(f.path);
      }
    }
    const ordered = [...paths].sort((a, b) => {
      const sa = a.startsWith('sys/') ? 0 : 1;
      const sb = b.startsWith('sys/') ? 0 : 1;
      return sa - sb || (a < b ? -1 : a > b ? 1 : 0);
    });
    let differing = 0;
    const body = [];
    for (const path of ordered) {
      const fs = present.map((id) => trees.get(id).get(path));
      const keys = new Set(fs.map((f) => (f ? JSON.stringify([f.type, compared(f)]) : '∅')));
      const differs = keys.size > 1;
      if (differs) differing++;
      if (onlyDiff && !differs) continue;
      const type = fs.find((f) => f)?.type ?? '';
      body.push(h('tr', { class: [differs && 'differs'], dataset: { path, differs: String(differs) } },
        h('th', { class: 'field-path mono', scope: 'row', title: path },
          h('span', { text: path }),
          h('span', { class: 'type', text: SERIES.has(type) ? `${type}, last` : type })),
        fs.map((f) => {
          const text = shown(f);
          const num = f && (f.type === 'Float' || f.type === 'Int' || f.type === 'FloatSeries');
          return h('td', {
            class: [!f && 'missing', num && 'num'],
            title: f ? exactValue(compared(f)) + (SERIES.has(f.type) && Array.isArray(f.last) ? ` @ step ${f.last[0]}` : '') : 'not in this run',
          }, clip(text, 160),
          f && SERIES.has(f.type) && Array.isArray(f.last) ? h('span', { class: 'at-step', text: ` @ ${fmtNum(f.last[0])}` }) : null);
        })));
    }
    diffInfo.textContent = `${fmtCount(differing)} of ${fmtCount(ordered.length)} rows differ`;
    const head = h('thead', {}, h('tr', {},
      h('th', { text: 'field' }),
      present.map((id) => {
        const { color, dash } = styles.get(id);
        return h('th', { class: 'run-col', dataset: { runId: id } }, lineSwatch(color, dash, 18), h('span', { class: 'mono', text: ` ${id}` }));
      })));
    replace(tableBox, h('table', { class: 'compare-table', dataset: { testid: 'compare-table' } }, head,
      h('tbody', {}, body.length ? body : h('tr', {}, h('td', {
        class: 'muted', colSpan: present.length + 1,
        text: onlyDiff ? 'These runs do not differ in any param or last value.' : 'No params or series.',
      })))));
  }

  function syncCharts() {
    const byPath = new Map();
    for (const id of ids) {
      const t = trees.get(id);
      if (!t) continue;
      for (const f of t.values()) {
        if (f.type !== 'FloatSeries') continue;
        if (!byPath.has(f.path)) byPath.set(f.path, []);
        byPath.get(f.path).push(id);
      }
    }
    for (const [path, runIds] of byPath) {
      if (groups.charts.has(path)) continue;
      groups.add(path, runIds.map((id) => {
        const { color, dash } = styles.get(id);
        const created = rows.get(id)?.created ?? trees.get(id)?.get('sys/creation_time')?.value;
        const start = parseTime(created);
        return { run: id, path, label: id, color, dash, start: Number.isFinite(start) ? start : null };
      }));
    }
    chartsEmpty.hidden = byPath.size > 0;
  }

  const unsubscribe = subscribe((ev) => {
    if (ev.change === 'poll') {
      const running = ids.filter((id) => stateOf(id).state === 'running');
      if (!running.length) return;
      for (const id of running) groups.refresh(id);
      scheduleLoad();
      return;
    }
    if (!ids.includes(ev.run)) return;
    if (ev.change === 'points') groups.refresh(ev.run);
    if (ev.change === 'removed') return;
    scheduleLoad();
  });

  load(true);

  return () => {
    destroyed = true;
    if (ctrl) ctrl.abort();
    scheduleLoad.cancel();
    unsubscribe();
    groups.destroy();
  };
}
