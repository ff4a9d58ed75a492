// The DRG table (GET /api/drgs): per DRG of the visible hospitals, cases,
// weight, ALOS, mean cost, mortality and risk grade, with the reference's
// means and the DRG's cost and time indices.

import * as api from '../api.js';
import { t, unitText } from '../i18n.js';
import { h, card, dataTable, select, naCell } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { fmtNumber } from '../fmt.js';
import { state } from '../main.js';

let hosp = '';
let filter = '';

const RISK_COLORS = ['#98a2b3', '#12805c', '#6aa84f', '#e69138', '#c0392b'];

export async function renderDrgs(page) {
  const P = state.period.value;
  const hospitals = state.orgs.hospitals;
  const r = await api.get('/api/drgs', { in: P, hospital: hosp || undefined, limit: 2000 });
  page.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', { id: 'view-title' }, t('drgs_title')),
      h('div', { class: 'sub' }, `${t('period')} ${P || '—'} · `,
        t('grouped_of', { a: fmtNumber(r.grouped, 0), b: fmtNumber(r.cases, 0) }),
        r.reference ? ` · ${r.reference.scheme} / ${r.reference.name}` : ''))));

  const top = r.drgs.slice(0, 15).reverse();
  const box = chartBox('chart', { id: 'chart-drgs' });
  page.append(card(t('top_drgs'), box));

  const riskCell = d => d.risk === null ? naCell(t('not_computable'))
    : h('span', { class: `risk r${d.risk}` }, String(d.risk));
  const cols = [
    { key: 'drg', label: t('drg'), get: d => d.drg },
    { key: 'cases', label: t('cases'), num: true, decimals: 0, get: d => d.cases },
    { key: 'share', label: t('share'), unit: '%', num: true, decimals: 2, get: d => d.share },
    { key: 'weight', label: t('weight'), num: true, decimals: 4, get: d => d.weight, reason: () => t('not_computable') },
    { key: 'alos', label: t('alos'), unit: unitText('天'), num: true, decimals: 2, get: d => d.alos },
    { key: 'ref_alos', label: t('ref_alos'), unit: unitText('天'), num: true, decimals: 2, get: d => d.ref_alos },
    { key: 'time_index', label: t('time_index'), num: true, decimals: 4, get: d => d.time_index },
    { key: 'mean_cost', label: t('mean_cost'), unit: unitText('元'), num: true, decimals: 2, get: d => d.mean_cost },
    { key: 'ref_cost', label: t('ref_cost'), unit: unitText('元'), num: true, decimals: 2, get: d => d.ref_mean_cost },
    { key: 'cost_index', label: t('cost_index'), num: true, decimals: 4, get: d => d.cost_index },
    { key: 'mortality', label: t('mortality'), unit: '%', num: true, decimals: 2, get: d => d.mortality },
    { key: 'risk', label: t('risk'), num: true, get: d => d.risk, cell: riskCell },
  ];
  const match = d => !filter || d.drg.toLowerCase().includes(filter.toLowerCase());
  const table = dataTable(cols, r.drgs.filter(match), { sortKey: 'cases' });
  table.el.id = 'table-drgs';
  const search = h('input', { type: 'search', placeholder: t('search'), value: filter, id: 'drg-search',
    oninput: e => { filter = e.target.value; table.setRows(r.drgs.filter(match)); } });
  const hs = select([['', t('all_hospitals')], ...hospitals.map(x => [x.zzjgdm, x.name])], hosp,
    v => { hosp = v; page.replaceChildren(); renderDrgs(page); }, { id: 'drg-hospital' });
  page.append(card(t('drgs_title'), table.el, { controls: [hs, search], table, csvName: `drgs-${hosp || 'all'}-${P}` }));

  draw(box, {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 50, top: 10, bottom: 20, containLabel: true },
    xAxis: { type: 'value', name: t('cases') },
    yAxis: { type: 'category', data: top.map(d => d.drg) },
    series: [{
      type: 'bar', name: t('cases'), barMaxWidth: 18,
      data: top.map(d => ({ value: d.cases, itemStyle: { color: d.risk === null ? '#1f6fc5' : RISK_COLORS[d.risk] } })),
      label: { show: true, position: 'right' },
    }],
  });
}
