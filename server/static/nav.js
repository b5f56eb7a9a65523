// History routing: the server answers index.html for every path that is
// not /api/… or /static/…, so /run/ID and /compare?runs=… load directly.

const listeners = new Set();

/** Goes to a same-origin URL without reloading the page. */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  for (const fn of listeners) fn();
}

export function onNavigate(fn) {
  listeners.add(fn);
}

export function runHref(id) {
  return `/run/${encodeURIComponent(id)}`;
}

export function compareHref(ids) {
  return `/compare?runs=${ids.map(encodeURIComponent).join(',')}`;
}

/** The last runs-table URL (with its filters), for the "Runs" link. */
const RUNS_KEY = 'hippocamp.runsView';
export function rememberRunsView(url) {
  try {
    sessionStorage.setItem(RUNS_KEY, url);
  } catch {
    // not kept
  }
}
export function runsViewHref() {
  try {
    const v = sessionStorage.getItem(RUNS_KEY);
    if (v && v.startsWith('/') && !v.startsWith('//')) return v;
  } catch {
    // fall through
  }
  return '/';
}

/**
 * A query string that stays readable in the address bar: like
 * URLSearchParams, but `/`, `,`, `:` and `@` are left as they are.
 */
export function qs(params) {
  const parts = [];
  for (const [k, v] of params) {
    parts.push(`${readable(k)}=${readable(v)}`);
  }
  return parts.join('&');
}

function readable(s) {
  return encodeURIComponent(s).replace(/%2F/gi, '/').replace(/%2C/gi, ',').replace(/%3A/gi, ':').replace(/%40/gi, '@');
}
