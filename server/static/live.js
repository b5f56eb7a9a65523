// Live updates: one EventSource on /api/events for the whole page. Each
// event's data is {"run": id, "change": "new" | "points" | "state"}.
// While the stream is down for more than a few seconds, subscribers get a
// {"change": "poll"} tick every 2 s instead, so running runs still refresh
// (they then refetch what is running).

import { apiUrl } from './api.js';

const subscribers = new Set();
const statusListeners = new Set();
let source = null;
let status = 'off';
let downSince = null;
let pollTimer = null;
let retryTimer = null;

function setStatus(s) {
  if (s === status) return;
  status = s;
  if (s === 'live') {
    downSince = null;
    stopPolling();
  } else if (downSince === null) {
    downSince = performance.now();
    setTimeout(maybePoll, 4000);
  }
  for (const fn of statusListeners) fn(s);
}

function maybePoll() {
  if (status !== 'live' && downSince !== null && !pollTimer && subscribers.size) {
    pollTimer = setInterval(() => dispatch({ run: null, change: 'poll' }), 2000);
  }
}

function stopPolling() {
  if (pollTimer) clearInterval(pollTimer);
  pollTimer = null;
}

function dispatch(ev) {
  for (const fn of [...subscribers]) {
    try {
      fn(ev);
    } catch (e) {
      console.error(e);
    }
  }
}

function onMessage(e) {
  let data;
  try {
    data = JSON.parse(e.data);
  } catch {
    return;
  }
  if (!data || typeof data !== 'object') return;
  if (data.run !== undefined && data.run !== null) data.run = String(data.run);
  if (!data.change && e.type !== 'message') data.change = e.type;
  dispatch(data);
}

function connect() {
  if (source) return;
  if (typeof EventSource === 'undefined') {
    setStatus('polling');
    return;
  }
  setStatus('connecting');
  source = new EventSource(apiUrl('/api/events'));
  source.addEventListener('open', () => setStatus('live'));
  source.addEventListener('message', onMessage);
  // in case the server names its events
  for (const name of ['new', 'points', 'state', 'change', 'run']) source.addEventListener(name, onMessage);
  source.addEventListener('error', () => {
    if (!source) return;
    if (source.readyState === EventSource.CLOSED) {
      // the browser gave up (e.g. the server refused): try again later
      source = null;
      setStatus('reconnecting');
      if (!retryTimer) retryTimer = setTimeout(() => { retryTimer = null; connect(); }, 5000);
    } else {
      setStatus('reconnecting');
    }
  });
}

/** Receives every change; returns the function that unsubscribes. */
export function subscribe(fn) {
  subscribers.add(fn);
  connect();
  maybePoll();
  return () => {
    subscribers.delete(fn);
    if (!subscribers.size) stopPolling();
  };
}

/** 'connecting', 'live', 'reconnecting', 'polling' or 'off'. */
export function liveStatus() {
  return status;
}

export function onStatus(fn) {
  statusListeners.add(fn);
  fn(status);
  return () => statusListeners.delete(fn);
}

/** Reconnects with the current token (after the user gave one). */
export function reconnect() {
  if (source) source.close();
  source = null;
  connect();
}
