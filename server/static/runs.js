// The runs page (/): the runs table with its filters, chosen columns,
// sorting, paging and selection, all kept in the URL's query string:
//   where, tag (repeated), state, columns (a,b), sort, desc=true,
//   limit, offset, selected (A,B)

import { h, replace } from './dom.js';
import { api, isAbort } from './api.js';
import { subscribe } from './live.js';
import { navigate, runHref, compareHref, rememberRunsView, qs } from './nav.js';
import { fmtValue, exactValue, fmtTime, fmtAgo, parseTime, fmtCount, clip } from './format.js';
import { stateBadge, errorWithOffset } from './widgets.js';

const STATES = ['running', 'finished', 'crashed', 'damaged'];
const PAGE_SIZES = [50, 100, 250, 500, 1000];
const DEFAULT_LIMIT = 100;

const splitList = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);

export function readState(q = new URLSearchParams(location.search)) {
  const limit = Number.parseInt(q.get('limit'), 10);
  const offset = Number.parseInt(q.get('offset'), 10);
  return {
    where: q.get('where') || '',
    tags: q.getAll('tag').flatMap(splitList),
    state: STATES.includes(q.get('state')) ? q.get('state') : '',
    columns: splitList(q.get('columns')),
    sort: q.get('sort') || '',
    desc: q.get('desc') === 'true' || q.get('desc') === '1',
    limit: Number.isFinite(limit) ? Math.min(10000, Math.max(1, limit)) : DEFAULT_LIMIT,
    offset: Number.isFinite(offset) ? Math.max(0, offset) : 0,
    selected: splitList(q.get('selected')),
  };
}

export function stateQuery(s) {
  const q = new URLSearchParams();
  if (s.where) q.set('where', s.where);
  for (const t of s.tags) q.append('tag', t);
  if (s.state) q.set('state', s.state);
  if (s.columns.length) q.set('columns', s.columns.join(','));
  if (s.sort) q.set('sort', s.sort);
  if (s.desc) q.set('desc', 'true');
  if (s.limit !== DEFAULT_LIMIT) q.set('limit', String(s.limit));
  if (s.offset) q.set('offset', String(s.offset));
  if (s.selected.length) q.set('selected', s.selected.join(','));
  const str = qs(q);
  return str ? `/?${str}` : '/';
}

export function mount(root) {
  let st = readState();
  const selected = new Set(st.selected);
  let rows = [];
  let total = 0;
  let lastBody = '';
  let ctrl = null;
  let gen = 0;
  let lastClicked = null;
  let reloadTimer = null;
  let lastLoad = -Infinity;
  let pendingReload = false;
  let loading = false;

  // ---- the filter bar
  const whereInput = h('input', {
    type: 'text', class: 'where-input mono', value: st.where, spellcheck: false, autocomplete: 'off',
    placeholder: 'filter: params/lr > 0.001 and params/optimizer/name = "adam"',
    dataset: { testid: 'filter' },
    attrs: { 'aria-label': 'where filter', 'aria-describedby': 'filter-error' },
  });
  const tagInput = h('input', {
    type: 'text', class: 'tag-input', value: st.tags.join(', '), spellcheck: false, autocomplete: 'off',
    placeholder: 'baseline, cnn', dataset: { testid: 'tag-filter' }, attrs: { 'aria-label': 'tags' },
  });
  const stateSelect = h('select', {
    dataset: { testid: 'state-filter' }, attrs: { 'aria-label': 'state' },
    on: { change: () => apply() },
  },
  h('option', { value: '', text: 'any state' }),
  STATES.map((s) => h('option', { value: s, text: s, selected: st.state === s })));
  const columnsInput = h('input', {
    type: 'text', class: 'columns-input mono', value: st.columns.join(', '), spellcheck: false, autocomplete: 'off',
    placeholder: 'params/learning_rate, train/loss', dataset: { testid: 'columns-input' },
    attrs: { 'aria-label': 'columns' },
  });
  const errorLine = h('div', {
    class: 'filter-error', id: 'filter-error', hidden: true, dataset: { testid: 'filter-error' }, attrs: { role: 'alert' },
  });
  const warnLine = h('div', { class: 'filter-warning', hidden: true, dataset: { testid: 'filter-warning' } });
  const form = h('form', {
    class: 'filters', dataset: { testid: 'filters' }, attrs: { role: 'search' },
    on: { submit: (e) => { e.preventDefault(); apply(); } },
  },
  h('div', { class: 'filter-row' }, whereInput, h('button', { type: 'submit', class: 'primary', text: 'Apply' })),
  h('div', { class: 'filter-row secondary' },
    h('label', { class: 'control grow' }, h('span', { text: 'columns' }), columnsInput),
    h('label', { class: 'control' }, h('span', { text: 'tags' }), tagInput),
    h('label', { class: 'control' }, h('span', { text: 'state' }), stateSelect),
    h('button', { type: 'button', class: 'link-button', text: 'clear', on: { click: () => clearFilters() } })),
  errorLine,
  warnLine);

  // ---- the toolbar above the table
  const countEl = h('span', { class: 'runs-count', dataset: { testid: 'runs-count' } });
  const selInfo = h('span', { class: 'selection-info' });
  const clearSel = h('button', {
    type: 'button', class: 'link-button', text: 'clear selection', hidden: true,
    on: { click: () => { selected.clear(); selectionChanged(); renderRows(); } },
  });
  const compareBtn = h('button', {
    type: 'button', class: 'primary', text: 'Compare', disabled: true, dataset: { testid: 'compare-button' },
    on: { click: () => { if (selected.size) navigate(compareHref([...selected])); } },
  });
  const toolbar = h('div', { class: 'table-toolbar' }, countEl, h('span', { class: 'spacer' }), selInfo, clearSel, compareBtn);

  // ---- the table
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'runs-table', dataset: { testid: 'runs-table' } }, thead, tbody);
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const empty = h('div', { class: 'empty-state', hidden: true, dataset: { testid: 'empty-state' } });
  const pager = h('div', { class: 'pager', dataset: { testid: 'pager' } });

  replace(root, h('section', { class: 'page runs-page' },
    h('div', { class: 'page-head' }, h('h1', { text: 'Runs' })),
    form, toolbar, tableWrap, empty, pager));
  document.title = 'Runs · hippocamp';

  const onKey = (e) => {
    if (e.key === '/' && !['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement?.tagName)) {
      e.preventDefault();
      whereInput.focus();
    }
  };
  document.addEventListener('keydown', onKey);

  // ---- state changes
  function go(next, { push = true } = {}) {
    st = next;
    const url = stateQuery(st);
    if (push) history.pushState(null, '', url);
    else history.replaceState(null, '', url);
    rememberRunsView(url);
    load();
  }

  function apply() {
    go({
      ...st,
      where: whereInput.value.trim(),
      tags: splitList(tagInput.value),
      state: stateSelect.value,
      columns: splitList(columnsInput.value),
      offset: 0,
      selected: [...selected],
    });
  }

  function clearFilters() {
    whereInput.value = '';
    tagInput.value = '';
    stateSelect.value = '';
    apply();
  }

  function addTag(tag) {
    if (st.tags.includes(tag)) return;
    const tags = [...st.tags, tag];
    tagInput.value = tags.join(', ');
    go({ ...st, tags, offset: 0, selected: [...selected] });
  }

  function sortBy(key) {
    const desc = st.sort === key ? !st.desc : false;
    go({ ...st, sort: key, desc, offset: 0, selected: [...selected] });
  }

  function selectionChanged() {
    st = { ...st, selected: [...selected] };
    const url = stateQuery(st);
    history.replaceState(null, '', url);
    rememberRunsView(url);
    const n = selected.size;
    selInfo.textContent = n ? `${fmtCount(n)} selected` : 'tick runs to compare them';
    clearSel.hidden = n === 0;
    compareBtn.disabled = n === 0;
    compareBtn.textContent = n > 0 ? `Compare ${fmtCount(n)}` : 'Compare';
    updateHeaderBox();
  }

  // ---- loading
  async function load() {
    if (ctrl) ctrl.abort();
    ctrl = new AbortController();
    const my = ++gen;
    loading = true;
    lastLoad = performance.now();
    table.classList.add('is-loading');
    const params = {
      where: st.where,
      tag: st.tags,
      state: st.state,
      columns: st.columns.join(','),
      sort: st.sort,
      desc: st.desc ? 'true' : '',
      limit: st.limit,
      offset: st.offset,
    };
    try {
      const r = await api.runs(params, { signal: ctrl.signal });
      if (my !== gen) return;
      errorLine.hidden = true;
      errorLine.replaceChildren();
      tableWrap.classList.remove('stale');
      showWarnings(r);
      total = typeof r.total === 'number' ? r.total : (r.runs || []).length;
      if (st.offset > 0 && st.offset >= total && total > 0) {
        const offset = Math.floor((total - 1) / st.limit) * st.limit;
        go({ ...st, offset }, { push: false });
        return;
      }
      const body = JSON.stringify(r);
      if (body !== lastBody) {
        lastBody = body;
        rows = Array.isArray(r.runs) ? r.runs : [];
        renderAll();
      }
    } catch (e) {
      if (isAbort(e) || my !== gen) return;
      showError(e.message);
    } finally {
      if (my === gen) {
        loading = false;
        table.classList.remove('is-loading');
        if (pendingReload) {
          pendingReload = false;
          scheduleReload();
        }
      }
    }
  }

  function showError(msg) {
    replace(errorLine, errorWithOffset(msg, st.where));
    errorLine.hidden = false;
    tableWrap.classList.add('stale');
  }

  function showWarnings(r) {
    const w = Array.isArray(r.warnings) ? r.warnings.filter((x) => typeof x === 'string') : [];
    // paths of where, columns or sort that no run has, with the nearest that exist
    for (const m of Array.isArray(r.missing) ? r.missing : []) {
      if (!m || typeof m.path !== 'string') continue;
      const near = Array.isArray(m.nearest) && m.nearest.length ? ` (nearest: ${m.nearest.join(', ')})` : '';
      w.push(`no run has ${m.path}${near}`);
    }
    warnLine.hidden = !w.length;
    replace(warnLine, w.map((x) => h('div', { text: x })));
  }

  // live: at most one reload a second
  function scheduleReload() {
    if (loading) {
      pendingReload = true;
      return;
    }
    if (reloadTimer) return;
    const wait = Math.max(0, lastLoad + 1000 - performance.now());
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      load();
    }, wait);
  }

  const unsubscribe = subscribe((ev) => {
    const onPage = ev.run != null && rows.some((r) => r.id === ev.run);
    if (ev.change === 'new' || (ev.change === 'removed' && onPage)) scheduleReload();
    else if (ev.change === 'state' && (onPage || st.state)) scheduleReload();
    else if (ev.change === 'points' && onPage && st.columns.length) scheduleReload();
    else if (ev.change === 'poll' && rows.some((r) => r.state === 'running')) scheduleReload();
    else if (ev.change === 'poll' && !rows.length) scheduleReload();
  });

  // ---- rendering
  function showProject() {
    const projects = new Set(rows.map((r) => r.project));
    return projects.size > 1 || st.sort === 'project';
  }

  function renderAll() {
    renderHead();
    renderRows();
    renderPager();
    renderEmpty();
    countEl.textContent = `${fmtCount(total)} run${total === 1 ? '' : 's'}`;
    selectionChanged();
  }

  let headerBox = null;
  function updateHeaderBox() {
    if (!headerBox) return;
    const onPage = rows.filter((r) => selected.has(r.id)).length;
    headerBox.checked = rows.length > 0 && onPage === rows.length;
    headerBox.indeterminate = onPage > 0 && onPage < rows.length;
  }

  function sortHeader(label, key, extraClass, title) {
    const active = st.sort === key;
    const arrow = active ? (st.desc ? ' ▼' : ' ▲') : '';
    return h('th', {
      class: ['sortable', extraClass, active && 'sorted'],
      attrs: { 'aria-sort': active ? (st.desc ? 'descending' : 'ascending') : 'none' },
      dataset: { sortKey: key },
    }, h('button', {
      type: 'button', class: 'th-button', title: title || `sort by ${key}`,
      on: { click: () => sortBy(key) },
    }, h('span', { class: 'th-label', text: label }), h('span', { class: 'sort-arrow', text: arrow })));
  }

  function renderHead() {
    headerBox = h('input', {
      type: 'checkbox', attrs: { 'aria-label': 'select the runs of this page' },
      dataset: { testid: 'select-page' },
      on: {
        change: () => {
          for (const r of rows) {
            if (headerBox.checked) selected.add(r.id);
            else selected.delete(r.id);
          }
          selectionChanged();
          renderRows();
        },
      },
    });
    replace(thead, h('tr', {},
      h('th', { class: 'col-select' }, headerBox),
      sortHeader('id', 'id', 'col-id'),
      sortHeader('name', 'name', 'col-name'),
      showProject() && sortHeader('project', 'project', 'col-project'),
      sortHeader('state', 'state', 'col-state'),
      sortHeader('created', 'created', 'col-created'),
      h('th', { class: 'col-tags' }, h('span', { class: 'th-label', text: 'tags' })),
      st.columns.map((c) => sortHeader(c, c, 'col-field', c))));
    updateHeaderBox();
  }

  function renderRows() {
    const withProject = showProject();
    const frag = document.createDocumentFragment();
    rows.forEach((run, index) => {
      const box = h('input', {
        type: 'checkbox', checked: selected.has(run.id), dataset: { testid: 'run-select' },
        attrs: { 'aria-label': `select ${run.id}` },
        on: {
          click: (e) => {
            const on = box.checked;
            if (e.shiftKey && lastClicked !== null) {
              const [a, b] = [Math.min(lastClicked, index), Math.max(lastClicked, index)];
              for (let i = a; i <= b; i++) {
                if (on) selected.add(rows[i].id);
                else selected.delete(rows[i].id);
              }
              renderRows();
            } else {
              if (on) selected.add(run.id);
              else selected.delete(run.id);
              tr.classList.toggle('selected', on);
            }
            lastClicked = index;
            selectionChanged();
          },
        },
      });
      const created = parseTime(run.created);
      const tags = Array.isArray(run.tags) ? run.tags : [];
      const tr = h('tr', {
        class: [selected.has(run.id) && 'selected'],
        dataset: { testid: 'run-row', runId: run.id, state: run.state },
      },
      h('td', { class: 'col-select' }, box),
      h('td', { class: 'col-id mono' }, h('a', { href: runHref(run.id), dataset: { nav: '' }, text: run.id })),
      h('td', { class: 'col-name', title: run.name || '' },
        run.name ? h('a', { href: runHref(run.id), dataset: { nav: '' }, text: clip(String(run.name), 120) }) : h('span', { class: 'muted', text: '—' })),
      withProject && h('td', { class: 'col-project', text: run.project ?? '' }),
      h('td', { class: 'col-state' }, stateBadge(run.state, run.failed)),
      h('td', { class: 'col-created', title: `${run.created ?? ''} (${fmtAgo(created)})`, text: fmtTime(created, run.created ?? '') }),
      h('td', { class: 'col-tags' }, tags.map((t) => h('button', {
        type: 'button', class: 'tag', text: clip(String(t), 40), title: `filter by tag ${t}`,
        on: { click: () => addTag(String(t)) },
      }))),
      st.columns.map((c) => valueCell(run.columns ? run.columns[c] : undefined, c)));
      frag.appendChild(tr);
    });
    tbody.replaceChildren(frag);
    updateHeaderBox();
  }

  function valueCell(v, path) {
    if (v === undefined) return h('td', { class: 'col-field missing', dataset: { path }, title: `${path}: none`, text: '—' });
    const isNum = typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
    const text = fmtValue(v);
    return h('td', {
      class: ['col-field', isNum && 'num'], dataset: { path }, title: exactValue(v), text: clip(text, 120),
    });
  }

  function renderPager() {
    const from = total ? st.offset + 1 : 0;
    const to = Math.min(total, st.offset + rows.length);
    const prev = h('button', {
      type: 'button', text: '‹ previous', disabled: st.offset === 0, dataset: { testid: 'page-prev' },
      on: { click: () => go({ ...st, offset: Math.max(0, st.offset - st.limit) }) },
    });
    const next = h('button', {
      type: 'button', text: 'next ›', disabled: st.offset + st.limit >= total, dataset: { testid: 'page-next' },
      on: { click: () => go({ ...st, offset: st.offset + st.limit }) },
    });
    const size = h('select', {
      attrs: { 'aria-label': 'runs per page' }, dataset: { testid: 'page-size' },
      on: { change: () => go({ ...st, limit: Number(size.value), offset: 0 }) },
    }, [...new Set([...PAGE_SIZES, st.limit])].sort((a, b) => a - b)
      .map((n) => h('option', { value: String(n), text: `${n} per page`, selected: n === st.limit })));
    replace(pager, prev, h('span', { class: 'pager-range', text: `${fmtCount(from)}–${fmtCount(to)} of ${fmtCount(total)}` }), next, size);
    pager.hidden = total <= PAGE_SIZES[0] && st.offset === 0 && st.limit >= total;
  }

  function renderEmpty() {
    const filtered = st.where || st.tags.length || st.state;
    tableWrap.hidden = rows.length === 0;
    empty.hidden = rows.length > 0;
    if (rows.length) return;
    if (filtered) {
      replace(empty,
        h('h2', { text: 'No run matches these filters' }),
        h('p', {}, h('button', { type: 'button', text: 'Clear the filters', on: { click: () => clearFilters() } })));
    } else {
      replace(empty,
        h('h2', { text: 'No runs yet' }),
        h('p', { text: 'Log one and it appears here as it runs, without a reload:' }),
        h('pre', { class: 'snippet' }, h('code', { text: 'cargo run --example quickstart' })),
        h('p', { text: 'or from your code:' }),
        h('pre', { class: 'snippet' }, h('code', {
          text: 'let run = hippocamp::Run::builder().project("mnist").start()?;\nrun.at("train/loss").append(0.25)?;\nrun.close()?;',
        })));
    }
  }

  rememberRunsView(stateQuery(st));
  selectionChanged();
  load();

  return () => {
    gen++;
    if (ctrl) ctrl.abort();
    if (reloadTimer) clearTimeout(reloadTimer);
    unsubscribe();
    document.removeEventListener('keydown', onKey);
  };
}
