// The cases behind an indicator value (lineage): the discharges of its
// numerator or denominator in a scope and period, paged (GET /api/cases),
// with a CSV download of every page, and one case's DRG grouping trace
// (GET /api/case) in the interface's language.
//
// #/cases/INDICATOR/SIDE/HOSPITAL/DEPARTMENT ('-' for every hospital or
// department in scope); the period is the top bar's.

import * as api from '../api.js';
import { t, getLang, indName, unitText, lyfsText } from '../i18n.js';
import { h, clear, card, dataTable, seg, download, errorBox } from '../ui.js';
import { csvText, fmtNumber, fmtValue } from '../fmt.js';
import { state, hospitalName, departmentName } from '../main.js';

const PAGE = 100;
const CSV_MAX = 20000;   // cases in one download (40 requests of 500)

export function casesHref(id, side = 'numerator', hospital = '-', department = '-') {
  return `#/cases/${encodeURIComponent(id)}/${side}/${encodeURIComponent(hospital || '-')}/${encodeURIComponent(department || '-')}`;
}

function contribDecimals(unit) {
  return unit === 'yuan' ? 2 : unit === 'weight' || unit === 'ratio' ? 4 : 0;
}

export async function renderCases(page, params) {
  const [id, sideParam, hospParam, deptParam] = params;
  const side = sideParam === 'denominator' ? 'denominator' : 'numerator';
  const hospital = hospParam && hospParam !== '-' ? hospParam : null;
  const department = deptParam && deptParam !== '-' ? deptParam : null;
  const P = state.period.value;
  const query = { indicator: id, side, in: P, hospital, department };
  let offset = 0;

  const first = await api.get('/api/cases', { ...query, limit: PAGE, offset: 0 });
  const ind = first.indicator;
  const unit = first.contribution_unit;

  page.append(h('div', { class: 'crumbs' }, h('a', {
    href: '#/overview', id: 'back',
    onclick: e => { if (history.length > 1) { e.preventDefault(); history.back(); } },
  }, `← ${t('back_overview')}`)));
  const scopeText = [hospital ? hospitalName(hospital) : t('all_in_scope'),
    first.scope.department ? `${t('department')} ${departmentName(hospital || '', first.scope.department)}` : null,
    `${t('period')} ${P || '—'}`].filter(Boolean).join(' · ');
  page.append(h('div', { class: 'page-head' },
    h('div', {},
      h('h1', { id: 'view-title' }, `${t('cases_title')} · ${indName(ind)}`),
      h('div', { class: 'sub' }, `${ind.id} · ${scopeText}`)),
    h('div', { class: 'controls' },
      seg([['numerator', t('numerator')], ...(first.has_denominator ? [['denominator', t('denominator')]] : [])],
        side, v => { location.hash = casesHref(id, v, hospital, department); }, { id: 'cases-side' }))));

  const value = first.value === null ? '—' : `${fmtValue(first.value, ind.unit_of_measure)} ${unitText(ind.unit_of_measure)}`;
  const totalText = unit === 'cases' ? '' : ` · ${t('cases_total', { v: `${fmtNumber(first.total, contribDecimals(unit))} ${t('unit_' + unit)}` })}`;
  page.append(h('div', {
    class: 'cases-summary', id: 'cases-summary',
    dataset: { count: String(first.count), total: String(first.total), side },
  }, `${t('cases_summary', { side: t(side), n: fmtNumber(first.count, 0) })}${totalText} · ${t('indicator_value')} ${value}`));

  const cols = [
    { key: 'hospital', label: t('hospital'), get: r => hospitalName(r.hospital) },
    { key: 'bah', label: t('bah'), get: r => r.bah },
    { key: 'zycs', label: t('zycs'), num: true, decimals: 0, get: r => r.zycs },
    { key: 'cysj', label: t('cysj'), get: r => r.cysj },
    { key: 'department', label: t('department'), get: r => departmentName(r.hospital, r.department) },
    { key: 'doctor', label: t('doctor'), get: r => r.doctor },
    { key: 'lyfs', label: t('lyfs'), get: r => lyfsText(r.lyfs) },
    { key: 'drg', label: t('drg'), get: r => r.drg },
    { key: 'drg_status', label: t('drg_status'), get: r => r.drg_status },
    { key: 'contribution', label: t('contribution'), unit: t('unit_' + unit), num: true, decimals: contribDecimals(unit), get: r => r.contribution },
  ];
  let selected = null;
  const table = dataTable(cols, first.cases, {
    onClick: r => { selected = r; table.rerender(); showCase(r); },
    selected: r => selected && r.bah === selected.bah && r.zycs === selected.zycs && r.hospital === selected.hospital,
  });
  table.el.id = 'table-cases';

  const pageText = h('span', { class: 'page-of', id: 'cases-page' });
  const prev = h('button', { class: 'btn', id: 'cases-prev', onclick: () => goPage(offset - PAGE) }, `‹ ${t('prev_page')}`);
  const next = h('button', { class: 'btn', id: 'cases-next', onclick: () => goPage(offset + PAGE) }, `${t('next_page')} ›`);
  const csvBtn = h('button', {
    class: 'btn', id: 'cases-csv', dataset: { csv: `cases-${ind.id}-${side}` }, title: t('download_csv'),
    onclick: () => downloadAll(),
  }, '⤓ CSV');
  function pager() {
    const n = first.count;
    pageText.textContent = t('page_of', { a: n ? offset + 1 : 0, b: Math.min(offset + PAGE, n), n });
    prev.disabled = offset <= 0;
    next.disabled = offset + PAGE >= n;
  }
  pager();

  page.append(h('div', { class: 'row cases' },
    card(t('cases_title'), h('div', {},
      h('p', { class: 'note' }, `${t('click_case')} ${t('cases_masked')}`),
      table.el,
      h('div', { class: 'pager' }, prev, pageText, next)), { controls: [csvBtn] }),
    card(t('trace_title'), h('div', { id: 'case-trace', class: 'case-trace' }, h('p', { class: 'note' }, t('case_none'))))));

  let seq = 0;
  async function goPage(o) {
    const my = ++seq;
    offset = Math.max(0, o);
    const r = await api.get('/api/cases', { ...query, limit: PAGE, offset });
    if (my !== seq) return;
    table.setRows(r.cases);
    pager();
  }

  // Every case of the scope, page by page (masked: the API never sends
  // identifiers in a list).
  async function downloadAll() {
    csvBtn.disabled = true;
    csvBtn.textContent = t('downloading');
    try {
      const all = [];
      for (let o = 0; o < Math.min(first.count, CSV_MAX); o += 500) {
        const r = await api.get('/api/cases', { ...query, limit: 500, offset: o });
        all.push(...r.cases);
        if (!r.cases.length) break;
      }
      const header = ['hospital', 'bah', 'zycs', 'cysj', 'department', 'department_name', 'doctor', 'lyfs',
        'drg', 'drg_status', 'drg_scheme', `contribution (${unit})`];
      const rows = all.map(c => [c.hospital, c.bah, c.zycs, c.cysj, c.department, c.department_name, c.doctor,
        c.lyfs, c.drg, c.drg_status, c.drg_scheme, c.contribution]);
      download(`cases-${ind.id}-${side}-${P || 'all'}.csv`, csvText(header, rows));
    } finally {
      csvBtn.disabled = false;
      csvBtn.textContent = '⤓ CSV';
    }
  }

  let caseSeq = 0;
  async function showCase(c) {
    const my = ++caseSeq;
    const box = document.getElementById('case-trace');
    clear(box).append(h('p', { class: 'note' }, t('loading')));
    let r;
    try {
      r = await api.get('/api/case', { hospital: c.hospital, bah: c.bah, zycs: c.zycs });
    } catch (e) {
      if (my === caseSeq) clear(box).append(errorBox(e));
      return;
    }
    if (my !== caseSeq) return;
    const k = r.case;
    const codes = list => h('ul', { class: 'codes' }, list.map(x =>
      h('li', {}, h('code', {}, x.code), ' ', x.name || '')));
    const ids = r.identifiers;
    clear(box).append(
      h('div', { class: 'case-head', id: 'case-head', dataset: { bah: k.bah, zycs: String(k.zycs), drg: k.drg || '' } },
        h('strong', {}, `${t('bah')} ${k.bah} / ${k.zycs}`), ' · ',
        `${k.cysj || ''} · ${departmentName(k.hospital, k.department)} · DRG ${k.drg || '—'} (${k.drg_status || '—'}, ${k.drg_scheme || '—'})`),
      h('h3', {}, t('diagnoses')), codes(r.diagnoses),
      h('h3', {}, t('procedures')), r.procedures.length ? codes(r.procedures) : h('p', { class: 'note' }, '—'),
      h('h3', {}, t('trace_title')),
      h('pre', { class: 'trace', id: 'case-trace-text', lang: getLang() === 'zh' ? 'zh-CN' : 'en' },
        getLang() === 'zh' ? r.trace.zh : r.trace.en),
      h('h3', {}, t('identifiers')),
      ids === 'omitted'
        ? h('p', { class: 'note', id: 'case-identifiers' }, t('identifiers_omitted'))
        : h('div', { id: 'case-identifiers' },
          h('p', { class: 'note' }, t('identifiers_shown')),
          h('dl', { class: 'ids' }, Object.entries(ids).filter(([, v]) => v).map(([key, v]) => [h('dt', {}, key), h('dd', {}, v)]))));
  }
}
