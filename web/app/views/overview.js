// The consortium overview: KPI tiles with trend arrows, the hospitals
// compared on one indicator, the monthly trend, and the hospitals table
// (click a hospital to drill down); each tile links to its cases.

import * as api from '../api.js';
import { t, indName, unitText, levelText } from '../i18n.js';
import { h, tiles, card, dataTable, select, pivot, indicatorColumns } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { decimalsFor, fmtValue } from '../fmt.js';
import { state, go, headlineQuery, isConsortium, scopeTitle } from '../main.js';
import { casesHref } from './cases.js';

export const KPI = ['fp.n', 'fp.04', 'fp.08', 'fp.14', 'fp.alos', 'fp.cost', 'drg.cmi', 'drg.cei', 'drg.tei', 'drg.count'];
export const TABLE_IDS = ['fp.n', 'fp.04', 'fp.08', 'fp.alos', 'fp.cost', 'drg.cmi', 'drg.cei', 'drg.tei', 'fp.14'];

let compareId = 'drg.cmi';
let trendId = 'fp.n';

export function periodOptions() {
  return KPI.map(id => [id, id]);
}

// Options for an indicator select, named from rows that carry the names.
export function indicatorOptions(ids, rows) {
  return ids.map(id => {
    const r = rows.find(x => x.id === id);
    return [id, r ? indName(r) : id];
  });
}

export function lineOption(series, months, unit, extra = {}) {
  const d = decimalsFor(unit);
  return {
    tooltip: { trigger: 'axis', valueFormatter: v => (v === null || v === undefined ? '—' : fmtValue(v, unit)) },
    legend: { top: 0 },
    grid: { left: 56, right: 20, top: 36, bottom: 30 },
    xAxis: { type: 'category', data: months, boundaryGap: false },
    yAxis: { type: 'value', scale: true, name: unitText(unit), axisLabel: { formatter: v => v.toFixed(Math.min(d, 2)) } },
    series: series.map(s => ({ type: 'line', smooth: true, symbolSize: 5, connectNulls: false, ...s })),
    ...extra,
  };
}

export async function renderOverview(page) {
  const P = state.period.value;
  const q = headlineQuery();
  const [head, byHosp] = await Promise.all([
    api.get('/api/indicators', { ...q, in: P, ids: KPI.join(',') }),
    api.get('/api/indicators', { by: 'hospital', in: P, ids: [...new Set([...TABLE_IDS, ...KPI])].join(',') }),
  ]);
  const headRows = q.by === 'consortium' ? head.rows : head.rows.filter(r => byHosp.rows.length && r.hospital === byHosp.rows[0].hospital);
  const ref = head.reference;
  page.append(h('div', { class: 'page-head' },
    h('div', {},
      h('h1', { id: 'view-title' }, `${isConsortium() ? t('overview_title') : t('overview_hosp_title')} · ${scopeTitle()}`),
      h('div', { class: 'sub' }, `${t('period')} ${P || '—'}`, ref ? ` · DRG ${ref.scheme} / ${ref.name}` : '')),
  ));
  // A tile's cases: the consortium's, or those of the hospital shown.
  const tileHosp = q.by === 'consortium' ? '-' : (headRows[0] ? headRows[0].hospital : '-');
  page.append(tiles(headRows, KPI, { cases: id => casesHref(id, 'numerator', tileHosp) }));

  // Hospitals compared on one indicator, and the monthly trend.
  const cmpBox = chartBox('chart', { id: 'chart-compare' });
  const trendBox = chartBox('chart', { id: 'chart-trend' });
  const allRows = byHosp.rows;
  const opts = indicatorOptions(KPI, allRows);
  const row = h('div', { class: 'row two' },
    card(t('compare_chart'), cmpBox, { controls: [select(opts, compareId, v => { compareId = v; drawCompare(); }, { id: 'compare-indicator' })] }),
    card(t('trend_title'), trendBox, { controls: [select(opts, trendId, v => { trendId = v; drawTrend(); }, { id: 'trend-indicator' })] }));
  page.append(row);

  function drawCompare() {
    const rs = allRows.filter(r => r.id === compareId).sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
    const unit = rs[0] ? rs[0].unit_of_measure : '';
    draw(cmpBox, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: v => fmtValue(v, unit) },
      grid: { left: 8, right: 60, top: 10, bottom: 20, containLabel: true },
      xAxis: { type: 'value', scale: false, name: unitText(unit) },
      yAxis: { type: 'category', data: rs.map(r => r.hospital_name || r.hospital), axisLabel: { width: 180, overflow: 'truncate' } },
      series: [{
        type: 'bar', name: rs[0] ? indName(rs[0]) : compareId, barMaxWidth: 26,
        data: rs.map(r => r.value),
        label: { show: true, position: 'right', formatter: p => fmtValue(p.value, unit) },
        itemStyle: { borderRadius: [0, 4, 4, 0] },
      }],
    });
  }

  async function drawTrend() {
    const r = await api.get('/api/indicators', { ...q, period: 'month', ids: trendId });
    const rows = q.by === 'consortium' ? r.rows : r.rows.filter(x => !byHosp.rows.length || x.hospital === byHosp.rows[0].hospital);
    const months = rows.map(x => x.period);
    const unit = rows[0] ? rows[0].unit_of_measure : '';
    draw(trendBox, lineOption([
      { name: rows[0] ? indName(rows[0]) : trendId, data: rows.map(x => x.value), areaStyle: { opacity: 0.08 } },
      { name: t('trend_last_year'), data: rows.map(x => x.last_year), lineStyle: { type: 'dashed' }, symbol: 'none' },
    ], months, unit));
  }

  // The hospitals table.
  const piv = pivot(allRows.filter(r => TABLE_IDS.includes(r.id)), r => r.hospital);
  const cols = [
    { key: 'name', label: t('hospital'), get: p => p.first.hospital_name || p.first.hospital },
    { key: 'level', label: t('level'), get: p => levelText(p.first.level) },
    ...indicatorColumns(TABLE_IDS, piv),
    { key: 'rank', label: `${t('rank')} CMI`, num: true, decimals: 0, get: p => p.by['drg.cmi'] ? p.by['drg.cmi'].rank : null },
  ];
  const table = dataTable(cols, piv, { onClick: p => go(`#/hospital/${encodeURIComponent(p.key)}`), sortKey: 'fp.n' });
  page.append(card(t('hospitals'), h('div', {}, h('p', { class: 'note' }, t('click_hospital')), table.el),
    { table, csvName: `hospitals-${P}` }));
  table.el.id = 'table-hospitals';

  drawCompare();
  await drawTrend();
}
