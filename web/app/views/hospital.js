// Drill-down to one hospital: its KPI tiles, the monthly trend of a chosen
// indicator (with the same month last year and a chosen department), and
// its departments (by=department), each with a link to its cases.

import * as api from '../api.js';
import { t, indName, levelText } from '../i18n.js';
import { h, tiles, card, dataTable, select, pivot, indicatorColumns } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { state, hospitalName, departmentName } from '../main.js';
import { KPI, TABLE_IDS, indicatorOptions, lineOption } from './overview.js';
import { casesHref } from './cases.js';

let trendId = 'fp.n';

export async function renderHospital(page, params) {
  const Z = params[0];
  const P = state.period.value;
  let dept = null;
  const [head, depts] = await Promise.all([
    api.get('/api/indicators', { by: 'hospital', hospital: Z, in: P, ids: KPI.join(',') }),
    api.get('/api/indicators', { by: 'department', hospital: Z, in: P, ids: TABLE_IDS.join(',') }),
  ]);
  const level = head.rows[0] ? head.rows[0].level : '';
  page.append(h('div', { class: 'crumbs' }, h('a', { href: '#/overview', id: 'back' }, `← ${t('back_overview')}`)));
  page.append(h('div', { class: 'page-head' },
    h('div', {},
      h('h1', { id: 'view-title' }, hospitalName(Z)),
      h('div', { class: 'sub' }, `${Z} · ${levelText(level)} · ${t('period')} ${P || '—'}`))));
  page.append(tiles(head.rows, KPI, { cases: id => casesHref(id, 'numerator', Z) }));

  const trendBox = chartBox('chart tall', { id: 'chart-hospital-trend' });
  const opts = indicatorOptions(KPI, head.rows);
  page.append(card(t('trend_title'), trendBox, {
    controls: [select(opts, trendId, v => { trendId = v; drawTrend(); }, { id: 'trend-indicator' })],
  }));

  const piv = pivot(depts.rows, r => r.department);
  const cols = [
    { key: 'dept', label: t('department'), get: p => departmentName(Z, p.key) },
    ...indicatorColumns(TABLE_IDS, piv),
    {
      key: 'cases', label: t('cases_link'), get: () => null, noCsv: true,
      cell: p => h('a', {
        class: 'cases-link', href: casesHref('fp.n', 'numerator', Z, p.key), dataset: { casesDept: p.key },
        onclick: e => e.stopPropagation(),
      }, `${t('cases_link')} →`),
    },
  ];
  const table = dataTable(cols, piv, {
    sortKey: 'fp.n',
    selected: p => p.key === dept,
    onClick: p => { dept = dept === p.key ? null : p.key; table.rerender(); drawTrend(); },
  });
  table.el.id = 'table-departments';
  page.append(card(t('departments'), h('div', {}, h('p', { class: 'note' }, t('click_department')), table.el),
    { table, csvName: `departments-${Z}-${P}` }));

  let seq = 0;
  async function drawTrend() {
    const my = ++seq;
    const [hr, dr] = await Promise.all([
      api.get('/api/indicators', { by: 'hospital', hospital: Z, period: 'month', ids: trendId }),
      dept ? api.get('/api/indicators', { by: 'department', hospital: Z, period: 'month', ids: trendId }) : null,
    ]);
    if (my !== seq) return;
    const months = hr.rows.map(r => r.period);
    const unit = hr.rows[0] ? hr.rows[0].unit_of_measure : '';
    const series = [
      { name: `${t('trend_hosp')} · ${hr.rows[0] ? indName(hr.rows[0]) : trendId}`, data: hr.rows.map(r => r.value), areaStyle: { opacity: 0.08 } },
      { name: t('trend_last_year'), data: hr.rows.map(r => r.last_year), lineStyle: { type: 'dashed' }, symbol: 'none' },
    ];
    if (dr) {
      const m = new Map(dr.rows.filter(r => r.department === dept).map(r => [r.period, r.value]));
      series.push({ name: departmentName(Z, dept), data: months.map(p => m.has(p) ? m.get(p) : null) });
    }
    draw(trendBox, lineOption(series, months, unit));
  }
  await drawTrend();
}
