// Formatting of values as the CLI shows them (6 significant digits), of
// times, durations and sizes. Everything returns plain strings.

/** A JSON value as a finite number, else null ("NaN", "Infinity", strings…). */
export function finite(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A JSON number or one of the strings the API uses for NaN and ±Inf. */
export function numeric(v) {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return null;
}

/** A number with `digits` significant digits, trailing zeros dropped. */
export function fmtNum(v, digits = 6) {
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
  let s = v.toPrecision(digits);
  if (s.includes('e')) {
    const [m, e] = s.split('e');
    return trimZeros(m) + 'e' + e.replace('+', '');
  }
  return trimZeros(s);
}

function trimZeros(s) {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

/** A number for axis ticks: short. */
export function fmtTick(v) {
  if (v == null) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e7)) return fmtNum(v, 3);
  return fmtNum(v, 6);
}

/** Thousands separators for counts. */
export function fmtCount(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US') : String(n);
}

/**
 * Any value of a column, a field or a series point, for display.
 * `type` (optional) is the field's type as the API names it.
 */
export function fmtValue(v, type) {
  if (v === null || v === undefined) return '';
  if (type === 'Datetime' && typeof v === 'string') return fmtTime(parseTime(v), v);
  if (typeof v === 'number') return fmtNum(v);
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') {
    if (type === 'String' || type === 'StringSeries') return v;
    return fmtNum(numeric(v));
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return v.map((x) => fmtValue(x)).join(', ');
  if (typeof v === 'object') {
    if (typeof v.name === 'string') return v.name;
    return JSON.stringify(v);
  }
  return String(v);
}

/** The exact text of a value (for tooltips). */
export function exactValue(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

/** An RFC 3339 timestamp (any number of fraction digits) as epoch ms, else NaN. */
export function parseTime(s) {
  if (typeof s !== 'string') return NaN;
  const m = RFC3339.exec(s.trim());
  if (!m) return Date.parse(s);
  const frac = m[3] ? '.' + (m[3] + '000').slice(0, 3) : '';
  let zone = m[4] || 'Z';
  if (zone === 'z') zone = 'Z';
  if (zone.length === 5) zone = zone.slice(0, 3) + ':' + zone.slice(3);
  const ms = Date.parse(`${m[1]}T${m[2]}${frac}${zone}`);
  // sub-millisecond digits kept as a fraction of a millisecond
  if (m[3] && m[3].length > 3) return ms + Number('0.' + m[3].slice(3));
  return ms;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Epoch ms as local "YYYY-MM-DD HH:MM:SS" (the original text when unparsable). */
export function fmtTime(ms, fallback = '') {
  if (!Number.isFinite(ms)) return fallback;
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 min ago", for tooltips and meta lines. */
export function fmtAgo(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '';
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'in the future';
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Seconds as a duration: "850ms", "12.5s", "3m 04s", "2h 05m", "3d 4h". */
export function fmtDuration(sec) {
  if (sec == null || !Number.isFinite(sec)) return '';
  const neg = sec < 0;
  let a = Math.abs(sec);
  let out;
  if (a < 1) out = `${fmtNum(a * 1000, 3)}ms`;
  else if (a < 60) out = `${fmtNum(a, 3)}s`;
  else if (a < 3600) out = `${Math.floor(a / 60)}m ${pad(Math.floor(a % 60))}s`;
  else if (a < 86400) out = `${Math.floor(a / 3600)}h ${pad(Math.floor((a % 3600) / 60))}m`;
  else out = `${Math.floor(a / 86400)}d ${Math.floor((a % 86400) / 3600)}h`;
  return neg ? '-' + out : out;
}

/** Bytes as "1.2 MB". */
export function fmtBytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  do { v /= 1024; u++; } while (v >= 1024 && u < units.length - 1);
  return `${fmtNum(v, 3)} ${units[u]}`;
}

const RASTER = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp']);

/** Whether a file name or extension is a raster image the server shows inline. */
export function isRaster(nameOrExt) {
  if (typeof nameOrExt !== 'string') return false;
  const ext = nameOrExt.includes('.') ? nameOrExt.slice(nameOrExt.lastIndexOf('.') + 1) : nameOrExt;
  return RASTER.has(ext.toLowerCase());
}

/** Shortens long text for a cell; the caller keeps the whole in a tooltip. */
export function clip(s, max = 200) {
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}
