// Line styles: ten colours readable on the light and the dark theme, then
// the same ten dashed, dotted… so that no two lines of one chart share
// colour and dash style (up to 10 × 5 = 50 lines; beyond, styles repeat
// and the page says so).

export const PALETTE = [
  '#3b73d9', // blue
  '#e8760f', // orange
  '#1f9d57', // green
  '#d63447', // red
  '#8e52d4', // purple
  '#0fa0b4', // teal
  '#c9409a', // magenta
  '#9a8400', // olive
  '#7d8ba3', // slate
  '#a8643a', // brown
];

export const DASHES = [
  [],           // solid
  [7, 4],       // dashed
  [2, 3],       // dotted
  [10, 3, 2, 3], // dash-dot
  [4, 6],       // sparse dash
];

export const DISTINCT_STYLES = PALETTE.length * DASHES.length;

/** The colour and dash of the i-th line (or run). */
export function lineStyle(i) {
  return {
    color: PALETTE[i % PALETTE.length],
    dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
  };
}

/** `#rrggbb` with an alpha, as rgba(). */
export function alpha(hex, a) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return hex;
  return `rgba(${parseInt(m[1], 16)}, ${parseInt(m[2], 16)}, ${parseInt(m[3], 16)}, ${a})`;
}
