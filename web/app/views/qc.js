// QC status (GET /api/qc): the rules failing most, the share of each
// hospital's records kept out of the indicators, and, for a chosen rule,
// its recent rejects (GET /api/rejects: case-level, audited by the server).

import * as api from '../api.js';
import { t, getLang } from '../i18n.js';
import { h, card, dataTable, select } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { state } from '../main.js';

let hosp = '';

export async function renderQc(page) {
  const hospitals = state.orgs.hospitals;
  const r = await api.get('/api/qc', { hospital: hosp || undefined, limit: 30 });
  const ruleName = x => (getLang() === 'zh' ? x.name_zh : x.name_en) || x.rule;
  page.append(h('div', { class: 'page-head' },
    h('div', {}, h('h1', { id: 'view-title' }, t('qc_title')),
      h('div', { class: 'sub' }, t('qc_sub'))),
    h('div', { class: 'controls' },
      select([['', t('all_hospitals')], ...hospitals.map(x => [x.zzjgdm, x.name])], hosp,
        v => { hosp = v; page.replaceChildren(); renderQc(page); }, { id: 'qc-hospital' }))));

  const box = chartBox('chart tall', { id: 'chart-qc' });
  const top = r.rules.slice(0, 15).reverse();
  const ruleCols = [
    { key: 'rule', label: t('rule'), get: x => x.rule },
    { key: 'name', label: t('name'), get: x => ruleName(x) },
    { key: 'severity', label: t('severity'), get: x => x.severity, cell: x => h('span', { class: `badge ${x.severity}` }, x.severity) },
    { key: 'rejects', label: t('rejects'), num: true, decimals: 0, get: x => x.rejects },
    { key: 'warnings', label: t('warnings'), num: true, decimals: 0, get: x => x.warnings },
    { key: 'total', label: t('total'), num: true, decimals: 0, get: x => x.rejects + x.warnings },
  ];
  const rejHolder = h('div', { id: 'qc-rejects' });
  let chosen = null;
  const rules = dataTable(ruleCols, r.rules, {
    sortKey: 'total', selected: x => x.rule === chosen,
    onClick: x => { chosen = x.rule; rules.rerender(); showRejects(x); },
  });
  rules.el.id = 'table-qc-rules';

  const hospCols = [
    { key: 'hospital', label: t('hospital'), get: x => x.hospital_name || x.hospital },
    { key: 'accepted', label: t('accepted'), num: true, decimals: 0, get: x => x.accepted },
    { key: 'rejected', label: t('rejected'), num: true, decimals: 0, get: x => x.rejected },
    { key: 'with_warnings', label: t('with_warnings'), num: true, decimals: 0, get: x => x.with_warnings },
    { key: 'excluded_share', label: t('excluded_share'), unit: '%', num: true, decimals: 2, get: x => x.excluded_share },
  ];
  const hs = dataTable(hospCols, r.hospitals, { sortKey: 'excluded_share' });
  hs.el.id = 'table-qc-hospitals';

  page.append(h('div', { class: 'row half' },
    card(t('qc_rules'), box),
    card(t('qc_hospitals'), h('div', {}, h('p', { class: 'note' }, t('qc_effect')), hs.el), { table: hs, csvName: 'qc-hospitals' })));
  page.append(card(t('qc_rules'), h('div', {}, h('p', { class: 'note' }, t('click_rule')), rules.el),
    { table: rules, csvName: 'qc-rules' }));
  page.append(rejHolder);

  draw(box, {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 8, right: 30, top: 30, bottom: 20, containLabel: true },
    xAxis: { type: 'value' },
    yAxis: { type: 'category', data: top.map(x => x.rule) },
    series: [
      { type: 'bar', stack: 'n', name: t('rejects'), data: top.map(x => x.rejects), itemStyle: { color: '#d9534f' }, barMaxWidth: 18 },
      { type: 'bar', stack: 'n', name: t('warnings'), data: top.map(x => x.warnings), itemStyle: { color: '#f0ad4e' }, barMaxWidth: 18 },
    ],
  });

  async function showRejects(rule) {
    const rr = await api.get('/api/rejects', { rule: rule.rule, hospital: hosp || undefined, limit: 100 });
    const rows = rr.rejects.map(x => {
      const i = x.issues.find(y => y.rule === rule.rule) || x.issues[0] || {};
      return { ...x, field: i.field, value: i.value, detail: i.detail };
    });
    const cols = [
      { key: 'hospital', label: t('hospital'), get: x => x.hospital },
      { key: 'file', label: t('file'), get: x => x.file },
      { key: 'line', label: t('line'), num: true, decimals: 0, get: x => x.line },
      { key: 'bah', label: t('bah'), get: x => x.bah },
      { key: 'field', label: t('field'), get: x => x.field },
      { key: 'value', label: t('value'), get: x => x.value },
      { key: 'detail', label: t('detail'), get: x => x.detail },
    ];
    const tb = dataTable(cols, rows);
    tb.el.id = 'table-qc-rejects';
    rejHolder.replaceChildren(card(`${t('recent_rejects')} · ${rule.rule} ${ruleName(rule)}`, tb.el,
      { table: tb, csvName: `rejects-${rule.rule}` }));
  }
}
