// Light and dark themes: "auto" follows prefers-color-scheme; the toggle
// in the header cycles auto → light → dark and remembers the choice.
// Chart lines keep the same colours in both themes (a run's colour is its
// identity); axes and grids follow the theme.

const KEY = 'hippocamp.theme';
const listeners = new Set();
const media = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

export function themeMode() {
  try {
    const m = localStorage.getItem(KEY);
    return m === 'light' || m === 'dark' ? m : 'auto';
  } catch {
    return 'auto';
  }
}

/** 'light' or 'dark', as shown now. */
export function effectiveTheme() {
  const m = themeMode();
  if (m !== 'auto') return m;
  return media && media.matches ? 'dark' : 'light';
}

export function applyTheme() {
  const m = themeMode();
  if (m === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = m;
}

export function cycleTheme() {
  const next = { auto: 'light', light: 'dark', dark: 'auto' }[themeMode()];
  try {
    if (next === 'auto') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, next);
  } catch {
    // not kept across reloads
  }
  applyTheme();
  notify();
  return next;
}

function notify() {
  for (const fn of listeners) fn(effectiveTheme());
}

if (media) media.addEventListener('change', () => { if (themeMode() === 'auto') notify(); });

export function onThemeChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** A CSS custom property of the document, for canvas drawing. */
export function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}
