// Number formatting shared by the views and the browser tests (no DOM, no
// language state: tests/browser/run.mjs imports this file to compute what
// a tile must show for a value of `carebase indicators`).

// Decimals by unit of measure: counts are whole, rates, days and money
// have two, indices (CMI, CEI, TEI: no unit) four.
const DECIMALS = { '人次': 0, '例': 0, '组': 0, '%': 2, '元': 2, '天': 2, '': 4 };

export function decimalsFor(unit) {
  return unit in DECIMALS ? DECIMALS[unit] : 2;
}

const formatters = new Map();

export function fmtNumber(v, d) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  let f = formatters.get(d);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: d, maximumFractionDigits: d, useGrouping: true });
    formatters.set(d, f);
  }
  const s = f.format(v);
  return s === '-0' || /^-0\.0*$/.test(s) ? s.slice(1) : s;
}

// A value of an indicator row in its unit's decimals.
export function fmtValue(v, unit) {
  return fmtNumber(v, decimalsFor(unit));
}

// The change against the previous period, as a signed percentage, or null.
export function change(value, previous) {
  if (value === null || previous === null || value === undefined || previous === undefined) return null;
  if (previous === 0) return value === 0 ? 0 : null;
  return (value - previous) / Math.abs(previous) * 100;
}

// One CSV field (RFC 4180 quoting); numbers as they are. A text that a
// spreadsheet would take for a formula gets a leading apostrophe.
export function csvField(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// A whole CSV text: a byte-order mark (Excel reads UTF-8 then), CRLF lines.
export function csvText(header, rows) {
  return '\ufeff' + [header, ...rows].map(r => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
