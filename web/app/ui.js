// DOM helpers: elements (text only: data never goes through innerHTML),
// KPI tiles, sortable tables with CSV download, small controls.

import { t, unitText, indName, reasonText } from './i18n.js';
import { decimalsFor, fmtNumber, fmtValue, change, csvText } from './fmt.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// "—" with the reason in a tooltip: a value that is not computable is never 0.
export function naCell(reason) {
  return h('span', { class: 'na', title: reason || t('not_computable') }, '—');
}

// The value of an indicator row: formatted in its unit's decimals, or "—".
export function valueNode(row) {
  if (!row || row.value === null || row.value === undefined)
    return naCell(row ? reasonText(row.status) : t('no_data'));
  return document.createTextNode(fmtValue(row.value, row.unit_of_measure));
}

// The trend arrow against the previous period, coloured by the indicator's
// direction (up: higher is better; down: lower is better).
export function trendNode(row) {
  const c = row ? change(row.value, row.previous) : null;
  if (c === null) return h('span', { class: 'trend flat', title: t('prev_none') }, '–');
  const arrow = c > 0.005 ? '▲' : c < -0.005 ? '▼' : '■';
  let cls = 'flat';
  if (arrow !== '■' && row.direction && row.direction !== 'monitor')
    cls = (c > 0) === (row.direction === 'up') ? 'good' : 'bad';
  const prev = `${t('prev')}: ${fmtValue(row.previous, row.unit_of_measure)}`;
  return h('span', { class: `trend ${cls}`, title: prev }, `${arrow} ${fmtNumber(Math.abs(c), 1)}%`);
}

// casesHref (optional): the link of the tile's numerator cases (lineage).
export function tile(row, id, casesHref) {
  const unit = row ? unitText(row.unit_of_measure) : '';
  const computable = row && row.value !== null && row.value !== undefined;
  return h('div', {
    class: 'kpi', dataset: {
      id, value: computable ? String(row.value) : '', unit: row ? row.unit_of_measure : '',
      decimals: String(decimalsFor(row ? row.unit_of_measure : '')), period: row ? row.period : '',
    },
  },
  h('div', { class: 'kpi-name', title: row ? `${row.id}${row.direction && row.direction !== 'monitor' ? ' · ' + t(row.direction) : ''}` : id },
    row ? indName(row) : id),
  h('div', { class: 'kpi-main' },
    h('span', { class: 'kpi-value' }, valueNode(row)),
    computable && unit ? h('span', { class: 'kpi-unit' }, unit) : null),
  h('div', { class: 'kpi-trend' },
    h('span', {}, t('kpi_vs_prev'), ' ', trendNode(row)),
    casesHref && row ? h('a', {
      class: 'kpi-cases', href: casesHref(id), dataset: { cases: id }, title: `${t('cases_title')} · ${t('numerator')}`,
    }, `${t('cases_link')} →`) : null));
}

// opts.cases(id) -> href: a "cases" link on each tile (the numerator's cases).
export function tiles(rows, ids, opts = {}) {
  const by = new Map(rows.map(r => [r.id, r]));
  return h('div', { class: 'tiles' }, ids.map(id => tile(by.get(id), id, opts.cases)));
}

// Triggers a download of text as a file (client side, no round trip).
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

/*
 * A sortable table. columns: {key, label, unit, num, decimals, get(row) ->
 * value (sort and CSV), cell(row) -> Node (optional), reason(row) -> text
 * for a null value, noCsv: left out of the CSV}. opts: {onClick(row), csvName, title, selected(row)}.
 * Returns {el, setRows(rows)}.
 */
export function dataTable(columns, rows, opts = {}) {
  let data = rows.slice();
  let sortKey = opts.sortKey || null, sortDir = opts.sortDir || -1;
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'data' }, thead, tbody);
  const wrap = h('div', { class: 'table-wrap' }, table);

  function headRow() {
    clear(thead).append(h('tr', {}, columns.map(c => h('th', {
      class: [c.num ? 'num' : '', sortKey === c.key ? (sortDir > 0 ? 'sorted-asc' : 'sorted-desc') : ''].join(' ').trim(),
      onclick: () => { sortDir = sortKey === c.key ? -sortDir : (c.num ? -1 : 1); sortKey = c.key; render(); },
    }, c.label, c.unit ? h('span', { class: 'u' }, c.unit) : null))));
  }
  function cellOf(c, r) {
    if (c.cell) return c.cell(r);
    const v = c.get(r);
    if (c.num) return v === null || v === undefined ? naCell(c.reason ? c.reason(r) : '') : fmtNumber(v, c.decimals ?? 2);
    return v ?? '';
  }
  function render() {
    headRow();
    if (sortKey) {
      const c = columns.find(x => x.key === sortKey);
      data.sort((a, b) => {
        const x = c.get(a), y = c.get(b);
        if (x === y) return 0;
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * sortDir;
      });
    }
    clear(tbody);
    if (!data.length) {
      tbody.append(h('tr', {}, h('td', { colspan: String(columns.length), class: 'note' }, t('no_data'))));
      return;
    }
    for (const r of data) {
      tbody.append(h('tr', {
        class: [opts.onClick ? 'link' : '', opts.selected && opts.selected(r) ? 'sel' : ''].join(' ').trim() || null,
        onclick: opts.onClick ? () => opts.onClick(r) : null,
      }, columns.map(c => h('td', { class: c.num ? 'num' : null }, cellOf(c, r)))));
    }
  }
  render();
  return {
    el: wrap,
    rows: () => data,
    setRows(r) { data = r.slice(); render(); },
    rerender: render,
    csv() {
      const cols = columns.filter(c => !c.noCsv);
      const header = cols.map(c => c.unit ? `${c.label} (${c.unit})` : c.label);
      return csvText(header, data.map(r => cols.map(c => c.csv ? c.csv(r) : c.get(r))));
    },
  };
}

// A card with a title, controls and a body; a CSV button when given a table.
export function card(title, body, { controls = [], table = null, csvName = 'table' } = {}) {
  const ctl = controls.slice();
  if (table) ctl.push(h('button', {
    class: 'btn', dataset: { csv: csvName }, title: t('download_csv'),
    onclick: () => download(`${csvName}.csv`, table.csv()),
  }, '⤓ CSV'));
  return h('section', { class: 'card' },
    h('div', { class: 'card-head' }, h('h2', {}, title), h('div', { class: 'controls' }, ctl)),
    body);
}

export function select(options, value, onchange, attrs = {}) {
  const s = h('select', { ...attrs, onchange: e => onchange(e.target.value) },
    options.map(([v, label]) => h('option', { value: v }, label)));
  s.value = value;
  return s;
}

export function seg(options, value, onchange, attrs = {}) {
  const el = h('div', { class: 'seg', ...attrs });
  for (const [v, label] of options)
    el.append(h('button', { class: v === value ? 'on' : null, dataset: { v }, onclick: () => onchange(v) }, label));
  return el;
}

// Indicator rows (one per unit and indicator) pivoted to one row per unit.
export function pivot(rows, keyOf) {
  const m = new Map();
  for (const r of rows) {
    const k = keyOf(r);
    if (!m.has(k)) m.set(k, { key: k, first: r, by: {} });
    m.get(k).by[r.id] = r;
  }
  return [...m.values()];
}

// Table columns for indicator ids over pivoted rows (names from the rows).
export function indicatorColumns(ids, sample) {
  return ids.map(id => {
    const s = sample.find(p => p.by[id])?.by[id];
    const unit = s ? s.unit_of_measure : '';
    return {
      key: id, num: true, decimals: decimalsFor(unit),
      label: s ? indName(s) : id, unit: unitText(unit),
      get: p => p.by[id] ? p.by[id].value : null,
      reason: p => p.by[id] ? reasonText(p.by[id].status) : t('no_data'),
    };
  });
}

export function errorBox(e) {
  const msg = e && e.status === 403 ? `${t('forbidden')}: ${e.message}` : (e && e.message) || String(e);
  return h('div', { class: 'error-box' }, msg);
}
