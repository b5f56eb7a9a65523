// hippocamp ui: the page's entry point. History routing:
//   /                     the runs table
//   /run/ID               one run
//   /compare?runs=A,B     runs side by side
// Every page module exports mount(root, {id, query}) → cleanup.

import { initToken, setToken, onUnauthorized } from './api.js';
import { onStatus, reconnect } from './live.js';
import { onNavigate, navigate, runsViewHref } from './nav.js';
import { applyTheme, cycleTheme, themeMode } from './theme.js';
import { h, replace } from './dom.js';
import * as runsPage from './runs.js';
import * as runPage from './run.js';
import * as comparePage from './compare.js';

initToken();
applyTheme();

const root = document.getElementById('app');
let cleanup = null;

const routes = [
  [/^\/(?:index\.html)?$/, runsPage],
  [/^\/run\/([^/]+)\/?$/, runPage],
  [/^\/compare\/?$/, comparePage],
];

function render() {
  if (cleanup) {
    try {
      cleanup();
    } catch (e) {
      console.error(e);
    }
    cleanup = null;
  }
  hideTokenPrompt();
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    let id;
    try {
      id = m[1] !== undefined ? decodeURIComponent(m[1]) : undefined;
    } catch {
      id = m[1];
    }
    cleanup = page.mount(root, { id, query }) || null;
    markNav(page);
    return;
  }
  document.title = 'Not found · hippocamp';
  replace(root, h('section', { class: 'page' }, h('div', { class: 'empty-state' },
    h('h2', { text: 'No such page' }),
    h('p', {}, h('span', { text: 'Nothing lives at ' }), h('code', { text: path }), h('span', { text: '.' })),
    h('p', {}, h('a', { href: '/', dataset: { nav: '' }, text: '← all runs' })))));
  markNav(null);
}

function markNav(page) {
  const runsLink = document.getElementById('nav-runs');
  if (runsLink) {
    runsLink.href = runsViewHref();
    runsLink.classList.toggle('active', page === runsPage);
  }
}

// same-origin links marked data-nav change the view without a reload
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[data-nav]') : null;
  if (!a || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
  window.scrollTo(0, 0);
});
window.addEventListener('popstate', render);
onNavigate(render);

// the live indicator
const liveEl = document.getElementById('live-status');
const LIVE_TEXT = {
  live: 'live',
  connecting: 'connecting…',
  reconnecting: 'reconnecting…',
  polling: 'polling',
  off: 'offline',
};
onStatus((s) => {
  if (!liveEl) return;
  liveEl.textContent = LIVE_TEXT[s] || s;
  liveEl.dataset.status = s;
  liveEl.title = s === 'live'
    ? 'updates arrive as runs log'
    : 'the live stream is down: running runs are refetched every 2 s';
});

// the theme toggle
const themeBtn = document.getElementById('theme-toggle');
const THEME_TEXT = { auto: 'theme: auto', light: 'theme: light', dark: 'theme: dark' };
function showTheme() {
  if (!themeBtn) return;
  themeBtn.textContent = THEME_TEXT[themeMode()];
}
if (themeBtn) themeBtn.addEventListener('click', () => { cycleTheme(); showTheme(); });
showTheme();

// a server that needs a token and did not get the right one
let prompt = null;
function hideTokenPrompt() {
  if (prompt) prompt.remove();
  prompt = null;
}
onUnauthorized((err) => {
  if (prompt) return;
  const input = h('input', {
    type: 'password', autocomplete: 'off', placeholder: 'access token', dataset: { testid: 'token-input' },
    attrs: { 'aria-label': 'access token' },
  });
  prompt = h('form', {
    class: 'token-prompt', dataset: { testid: 'token-prompt' }, attrs: { role: 'alert' },
    on: {
      submit: (e) => {
        e.preventDefault();
        setToken(input.value.trim());
        hideTokenPrompt();
        reconnect();
        render();
      },
    },
  },
  h('strong', { text: 'This server needs its access token. ' }),
  h('span', { text: 'Open the URL hippocamp ui printed (it ends in ?token=…), or paste the token: ' }),
  input,
  h('button', { type: 'submit', class: 'primary', text: 'Use it' }),
  h('span', { class: 'muted', text: ` (${err.message})` }));
  document.body.insertBefore(prompt, root);
});

render();
