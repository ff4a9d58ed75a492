// The DRG evaluation quadrant: CMI (x, difficulty) against the cost or time
// efficiency index (y; 1 = the reference), per hospital or per department of
// a hospital; bubble size is the number of DRG cases (the CEI denominator).

import * as api from '../api.js';
import { t } from '../i18n.js';
import { h, card, dataTable, seg, select } from '../ui.js';
import { chartBox, draw, esc } from '../charts.js';
import { fmtValue, fmtNumber } from '../fmt.js';
import { state, departmentName, hospitalName } from '../main.js';

let yId = 'drg.cei';
let unit = 'hospital';
let hosp = null;

export function quadrantPoints(rows, keyOf, nameOf) {
  const m = new Map();
  for (const r of rows) {
    const k = keyOf(r);
    if (!m.has(k)) m.set(k, { key: k, name: nameOf(r), by: {} });
    m.get(k).by[r.id] = r;
  }
  return [...m.values()].map(p => ({
    key: p.key, name: p.name,
    cmi: p.by['drg.cmi'] ? p.by['drg.cmi'].value : null,
    cei: p.by['drg.cei'] ? p.by['drg.cei'].value : null,
    tei: p.by['drg.tei'] ? p.by['drg.tei'].value : null,
    volume: p.by['drg.cei'] ? p.by['drg.cei'].denominator : null,
    reason: (p.by['drg.cmi'] || {}).status,
  }));
}

export function quadrantOption(points, y, dark = false) {
  const pts = points.filter(p => p.cmi !== null && p[y] !== null);
  const maxV = Math.max(1, ...pts.map(p => p.volume || 0));
  const ink = dark ? '#9fb7d6' : '#667085';
  const corner = (text, pos) => ({ type: 'text', ...pos, style: { text, fill: ink, font: '12px sans-serif', opacity: 0.9 } });
  return {
    tooltip: {
      formatter: p => `${esc(p.data.name)}<br>CMI ${fmtValue(p.data.value[0], '')}<br>${y.toUpperCase()} ${fmtValue(p.data.value[1], '')}<br>${t('volume')} ${fmtNumber(p.data.value[2], 0)}`,
    },
    grid: { left: 60, right: 30, top: 30, bottom: 50 },
    xAxis: { type: 'value', name: 'CMI', nameLocation: 'middle', nameGap: 28, scale: true, splitLine: { lineStyle: { opacity: 0.3 } } },
    yAxis: { type: 'value', name: y === 'cei' ? t('cost_index') + ' CEI' : t('time_index') + ' TEI', scale: true, splitLine: { lineStyle: { opacity: 0.3 } } },
    graphic: [
      corner(t('q1'), { right: 40, top: 36 }), corner(t('q4'), { right: 40, bottom: 60 }),
      corner(t('q3'), { left: 70, bottom: 60 }), corner(t('q2'), { left: 70, top: 36 }),
    ],
    series: [{
      type: 'scatter',
      data: pts.map(p => ({ name: p.name, value: [p.cmi, p[y], p.volume || 0] })),
      symbolSize: v => 10 + 46 * Math.sqrt((v[2] || 0) / maxV),
      itemStyle: { opacity: 0.75, borderColor: '#fff', borderWidth: 1 },
      label: { show: true, position: 'top', formatter: p => p.data.name, fontSize: 11, color: ink },
      labelLayout: { hideOverlap: true },
      markLine: {
        silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: dark ? '#5c7aa3' : '#98a2b3' },
        label: { formatter: '1.0', color: ink },
        data: [{ xAxis: 1 }, { yAxis: 1 }],
      },
    }],
  };
}

export async function renderQuadrant(page) {
  const P = state.period.value;
  const hospitals = state.orgs.hospitals;
  if (!hosp && hospitals.length) hosp = hospitals[0].zzjgdm;
  page.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', { id: 'view-title' }, t('quadrant_title')),
      h('div', { class: 'sub' }, `${t('period')} ${P || '—'} · ${t('quadrant_sub')}`))));

  const box = chartBox('chart tall', { id: 'chart-quadrant' });
  const tableHolder = h('div');
  const controls = h('div', { class: 'controls' });
  const c = card(t('quadrant_title'), h('div', {}, box), { controls: [controls] });
  page.append(c);
  page.append(tableHolder);

  async function refresh() {
    const q = unit === 'hospital'
      ? { by: 'hospital', in: P, ids: 'drg.cmi,drg.cei,drg.tei' }
      : { by: 'department', hospital: hosp, in: P, ids: 'drg.cmi,drg.cei,drg.tei' };
    controls.replaceChildren(
      seg([['drg.cei', 'CEI'], ['drg.tei', 'TEI']], yId, v => { yId = v; refresh(); }, { id: 'quadrant-y' }),
      seg([['hospital', t('unit_hosp')], ['department', t('unit_dept')]], unit, v => { unit = v; refresh(); }, { id: 'quadrant-unit' }),
      unit === 'department' ? select(hospitals.map(x => [x.zzjgdm, x.name]), hosp, v => { hosp = v; refresh(); }, { id: 'quadrant-hospital' }) : '');
    const r = await api.get('/api/indicators', q);
    const points = unit === 'hospital'
      ? quadrantPoints(r.rows, x => x.hospital, x => x.hospital_name || x.hospital)
      : quadrantPoints(r.rows, x => x.department, x => departmentName(hosp, x.department));
    draw(box, quadrantOption(points, yId === 'drg.cei' ? 'cei' : 'tei'));
    const cols = [
      { key: 'name', label: unit === 'hospital' ? t('hospital') : t('department'), get: p => p.name },
      { key: 'cmi', label: 'CMI', num: true, decimals: 4, get: p => p.cmi, reason: p => p.reason },
      { key: 'cei', label: `${t('cost_index')} CEI`, num: true, decimals: 4, get: p => p.cei, reason: p => p.reason },
      { key: 'tei', label: `${t('time_index')} TEI`, num: true, decimals: 4, get: p => p.tei, reason: p => p.reason },
      { key: 'volume', label: t('volume'), num: true, decimals: 0, get: p => p.volume },
    ];
    const table = dataTable(cols, points, { sortKey: 'volume' });
    table.el.id = 'table-quadrant';
    const name = unit === 'hospital' ? `quadrant-hospitals-${P}` : `quadrant-${hosp}-${P}`;
    tableHolder.replaceChildren(card(unit === 'hospital' ? t('hospitals') : `${t('departments')} · ${hospitalName(hosp)}`,
      table.el, { table, csvName: name }));
  }
  await refresh();
}
