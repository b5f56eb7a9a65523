// The JSON API of `hippocamp ui` (see server/static/README.md), the access
// token, and the live-update stream.

const TOKEN_KEY = 'hippocamp.token';

/**
 * Takes `?token=` from the page's URL into sessionStorage (so every API
 * call can send it) and removes it from the address bar, so that links
 * copied from the page do not carry it.
 */
export function initToken() {
  const url = new URL(location.href);
  const t = url.searchParams.get('token');
  if (t === null) return;
  setToken(t);
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t) {
  try {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: nothing to keep it in
  }
}

/**
 * A same-origin URL: `path` with `params` as a query string (arrays repeat
 * the name; null, undefined and '' are left out) and the token.
 */
export function apiUrl(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) {
      for (const x of v) if (x !== null && x !== undefined && x !== '') q.append(k, String(x));
    } else if (v !== null && v !== undefined && v !== '') {
      q.set(k, String(v));
    }
  }
  const t = token();
  if (t) q.set('token', t);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** An API answer with a 4xx/5xx status: `message` is the server's `error`. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
  get unauthorized() {
    return this.status === 401 || this.status === 403;
  }
}

const authListeners = new Set();
/** Called with the error when the server refuses the token (401/403). */
export function onUnauthorized(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

/** GET a JSON answer; throws ApiError (or AbortError). */
export async function getJSON(path, params, { signal } = {}) {
  let res;
  try {
    res = await fetch(apiUrl(path, params), {
      signal,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'cannot reach the server: is `hippocamp ui` still running?');
  }
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    if (e.name === 'AbortError') throw e;
  }
  if (!res.ok) {
    const msg = body && typeof body.error === 'string' ? body.error : `${res.status} ${res.statusText}`;
    const err = new ApiError(res.status, msg);
    if (err.unauthorized) for (const fn of authListeners) fn(err);
    throw err;
  }
  if (body === null || typeof body !== 'object') throw new ApiError(res.status, 'the server did not answer JSON');
  return body;
}

const enc = encodeURIComponent;

export const api = {
  runs(params, opts) {
    return getJSON('/api/runs', params, opts);
  },
  run(id, opts) {
    return getJSON(`/api/runs/${enc(id)}`, {}, opts);
  },
  series(id, params, opts) {
    return getJSON(`/api/runs/${enc(id)}/series`, params, opts);
  },
  fileUrl(id, path, step) {
    return apiUrl(`/api/runs/${enc(id)}/file`, { path, step });
  },
  /** The rows of the runs table for these ids (state, name, tags, created). */
  async runsByIds(ids, opts) {
    if (!ids.length) return new Map();
    const where = ids.map((id) => `sys/id = ${quote(id)}`).join(' or ');
    const r = await getJSON('/api/runs', { where, limit: Math.min(10000, ids.length) }, opts);
    return new Map((r.runs || []).map((row) => [row.id, row]));
  },
};

/** A string literal of the `where` language. */
export function quote(s) {
  return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t') + '"';
}

export function isAbort(e) {
  return e && e.name === 'AbortError';
}
