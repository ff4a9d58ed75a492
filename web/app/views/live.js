// The operations command centre (运营指挥中心): live beds, patient flow and
// emergency pressure per hospital, from the HL7 ADT feeds. The first
// picture comes from GET /api/live/summary; after that the server pushes
// every change on the event stream /api/live/stream ("summary" events, the
// same JSON), and the bed board of the selected hospital is fetched again
// (GET /api/live/wards) when its hospital changed. Every card and panel
// says how fresh its feed is.

import * as api from '../api.js';
import { t, getLang } from '../i18n.js';
import { h, clear } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { fmtNumber } from '../fmt.js';
import { hospitalName, scopeTitle } from '../main.js';

// A feed is fresh under a minute, late under ten, stale after.
const FRESH_S = 60, LATE_S = 600;
const BOARD_MIN_MS = 2000;   // the bed board is fetched at most this often

function pct(x) { return x === null || x === undefined ? '—' : `${fmtNumber(x * 100, 1)}%`; }

function ageText(s) {
  if (s === null || s === undefined) return t('live_no_feed');
  if (s < 60) return t('live_age_s', { n: Math.max(0, Math.round(s)) });
  if (s < 3600) return t('live_age_m', { n: Math.round(s / 60) });
  return t('live_age_h', { n: fmtNumber(s / 3600, 1) });
}

// The youngest feed of a hospital: its freshness.
function freshness(hosp) {
  const ages = (hosp.feeds || []).map(f => f.age_s).filter(a => a !== null && a !== undefined);
  return ages.length ? Math.min(...ages) : null;
}

function freshChip(hosp) {
  const a = freshness(hosp);
  const cls = a === null ? 'stale' : a < FRESH_S ? 'fresh' : a < LATE_S ? 'late' : 'stale';
  const feeds = (hosp.feeds || []).map(f => `${f.sender}: ${f.last_received || '—'} (${f.messages})`).join('\n');
  return h('span', { class: `fresh ${cls}`, title: feeds || t('live_no_feed'), dataset: { age: a === null ? '' : String(a) } },
    `⟳ ${ageText(a)}`);
}

function occClass(o) { return o === null || o === undefined ? '' : o >= 0.95 ? 'bad' : o >= 0.85 ? 'warn' : 'good'; }

function stat(label, value, cls) {
  return h('div', { class: `lstat ${cls || ''}` }, h('span', { class: 'v' }, value), h('span', { class: 'l' }, label));
}

function card(hosp, selected, onPick) {
  return h('div', {
    class: `lcard${selected ? ' sel' : ''}${hosp.alerts_active ? ' alerting' : ''}`,
    dataset: { hospital: hosp.hospital, census: String(hosp.census), occupied: String(hosp.occupied) },
    onclick: () => onPick(hosp.hospital),
  },
  h('div', { class: 'lcard-head' },
    h('span', { class: 'name', title: hosp.hospital }, hospitalName(hosp.hospital)),
    hosp.alerts_active ? h('span', { class: 'alert-badge', title: t('live_alerts') }, `⚠ ${hosp.alerts_active}`) : null),
  h('div', { class: 'lcard-occ' },
    h('span', { class: `occ ${occClass(hosp.occupancy)}` }, pct(hosp.occupancy)),
    h('span', { class: 'sub' }, `${t('live_census')} ${hosp.census} / ${t('live_capacity')} ${hosp.capacity}`)),
  h('div', { class: 'bar' }, h('span', { class: occClass(hosp.occupancy), style: `width:${Math.min(100, (hosp.occupancy || 0) * 100)}%` })),
  h('div', { class: 'lstats' },
    stat(t('live_free'), hosp.free), stat(t('live_blocked'), hosp.blocked),
    stat(t('live_adm'), hosp.today.admissions), stat(t('live_dis'), hosp.today.discharges),
    stat(t('live_trans'), hosp.today.transfers), stat(t('live_ed_waiting'), hosp.ed_waiting),
    stat(t('live_boarders'), hosp.boarders, hosp.boarders ? 'warn' : ''),
    stat(t('live_pending'), hosp.pending_discharges)),
  h('div', { class: 'lcard-foot' }, freshChip(hosp)));
}

function panel(title, hosp, ...body) {
  return h('div', { class: 'lpanel' }, h('div', { class: 'lpanel-head' }, h('h2', {}, title), hosp ? freshChip(hosp) : null), ...body);
}

function flowOption(hosp) {
  const hours = [...Array(24).keys()].map(x => `${x}:00`);
  const s = (k, name) => ({ type: 'bar', name, data: hosp.hourly[k] || [], barGap: 0 });
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 8, right: 8, top: 30, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: hours },
    yAxis: { type: 'value', minInterval: 1 },
    series: [s('admissions', t('live_adm')), s('discharges', t('live_dis')), s('transfers', t('live_trans'))],
  };
}

function forecastOption(hosp) {
  const f = hosp.forecast || { census: [] };
  const start = f.start ? new Date(f.start.replace(' ', 'T')) : new Date();
  const labels = f.census.map((_, i) => {
    const d = new Date(start.getTime() + i * 3600e3);
    return `${d.getMonth() + 1}/${d.getDate()} ${String(d.getHours()).padStart(2, '0')}h`;
  });
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 8, right: 16, top: 20, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: labels, axisLabel: { interval: 11 } },
    yAxis: { type: 'value', scale: true },
    series: [
      { type: 'line', name: t('live_forecast'), data: f.census, smooth: true, showSymbol: false, areaStyle: { opacity: 0.12 } },
      { type: 'line', name: t('live_capacity'), data: f.census.map(() => hosp.capacity), showSymbol: false, lineStyle: { type: 'dashed' } },
    ],
  };
}

function levelsOption(hosp) {
  const data = Object.entries(hosp.census_by_level || {}).map(([name, value]) => ({ name, value }));
  return {
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['45%', '72%'], data, label: { formatter: '{b}: {c}' } }],
  };
}

function alertsTable(alerts) {
  if (!alerts.length) return h('p', { class: 'muted', id: 'live-no-alerts' }, t('live_no_alerts'));
  return h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'live-alerts' },
    h('thead', {}, h('tr', {}, [t('live_alert_kind'), t('hospital'), t('live_ward'), t('live_value'), t('live_threshold'), t('live_start'), t('live_end')].map(x => h('th', {}, x)))),
    h('tbody', {}, alerts.map(a => h('tr', { class: a.active ? 'active' : '', dataset: { kind: a.kind } },
      h('td', {}, t(`live_alert_${a.kind}`)), h('td', {}, hospitalName(a.hospital)), h('td', {}, a.ward || a.sender || '—'),
      h('td', { class: 'num' }, a.kind === 'ward_occupancy' ? pct(a.value) : fmtNumber(a.value, 0)),
      h('td', { class: 'num' }, a.kind === 'ward_occupancy' ? pct(a.threshold) : fmtNumber(a.threshold, 0)),
      h('td', {}, a.start || '—'), h('td', {}, a.end || t('live_active')))))));
}

function bedBoard(board) {
  if (!board) return h('p', { class: 'muted' }, t('loading'));
  return h('div', { class: 'beds', id: 'live-beds' }, board.wards.map(w => h('div', { class: 'ward', dataset: { ward: w.ward } },
    h('div', { class: 'ward-head' },
      h('b', {}, w.name || w.ward), h('span', { class: 'muted' }, ` ${w.ward} · ${w.care_level}`),
      h('span', { class: `occ ${occClass(w.occupancy)}` }, ` ${w.occupied}/${w.capacity} · ${pct(w.occupancy)}`)),
    h('div', { class: 'bed-grid' }, w.beds.map(b => h('span', {
      class: `bed ${b.state}${b.boarder ? ' boarder' : ''}`,
      dataset: { bed: b.bed, state: b.state },
      title: `${b.bed} · ${t('live_bed_' + b.state)}${b.status ? ' (' + b.status + ')' : ''}${b.visit ? ' · ' + b.visit : ''}${b.since ? ' · ' + b.since : ''}`,
    }))))));
}

export async function renderLive(page, params) {
  let pick = params[0] || null;
  let summary = await api.get('/api/live/summary');
  let alerts = (await api.get('/api/live/alerts')).alerts;
  let board = null, boardFor = null, boardAt = 0, boardTimer = null;
  const status = h('span', { id: 'live-status', class: 'muted' }, t('live_connecting'));
  const cards = h('div', { class: 'lcards', id: 'live-cards' });
  const detail = h('div', { id: 'live-detail' });
  const flowBox = chartBox('chart', { id: 'live-flow' });
  const forecastBox = chartBox('chart', { id: 'live-forecast' });
  const levelBox = chartBox('chart', { id: 'live-levels' });
  const root = h('div', { class: 'live' },
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', { id: 'view-title' }, `${scopeTitle()} · ${t('live_title')}`),
        h('div', { class: 'sub' }, t('live_sub'), ' · ', status)),
      h('div', { class: 'actions' },
        h('button', { class: 'btn', id: 'live-fullscreen', onclick: () => { if (document.fullscreenElement) document.exitFullscreen(); else root.requestFullscreen().catch(() => {}); } }, t('fullscreen')))),
    cards, detail);
  page.append(root);

  const selected = () => summary.hospitals.find(x => x.hospital === pick) || summary.hospitals[0] || null;

  async function loadBoard(force) {
    const hosp = selected();
    if (!hosp) return;
    const now = Date.now();
    if (!force && boardFor === hosp.hospital && now - boardAt < BOARD_MIN_MS) {
      clearTimeout(boardTimer);
      boardTimer = setTimeout(() => loadBoard(true), BOARD_MIN_MS - (now - boardAt));
      return;
    }
    boardAt = now;
    try {
      board = await api.get('/api/live/wards', { hospital: hosp.hospital });
      boardFor = hosp.hospital;
    } catch { board = null; }
    renderDetail();
  }

  function renderCards() {
    const sel = selected();
    clear(cards).append(...summary.hospitals.map(x => card(x, sel && x.hospital === sel.hospital, code => {
      pick = code;
      history.replaceState(null, '', `#/live/${encodeURIComponent(code)}`);
      board = null;
      renderCards();
      renderDetail();
      loadBoard(true);
    })));
    if (!summary.hospitals.length) cards.append(h('p', { class: 'muted', id: 'live-empty' }, t('live_empty')));
  }

  function renderDetail() {
    const hosp = selected();
    clear(detail);
    if (!hosp) return;
    detail.append(
      h('div', { class: 'lgrid' },
        panel(`${hospitalName(hosp.hospital)} · ${t('live_flow_today')}`, hosp, flowBox),
        panel(t('live_forecast_title'), hosp, forecastBox),
        panel(t('live_levels'), hosp, levelBox)),
      h('div', { class: 'lgrid two' },
        panel(t('live_alerts'), null, alertsTable(alerts.filter(a => a.hospital === hosp.hospital).slice(0, 30))),
        panel(t('live_ed'), hosp, h('div', { class: 'lstats big' },
          stat(t('live_ed_arrivals'), hosp.today.ed_arrivals), stat(t('live_ed_waiting'), hosp.ed_waiting),
          stat(t('live_boarders'), hosp.boarders, hosp.boarders ? 'warn' : ''),
          stat(t('live_longest_boarding'), hosp.longest_boarding_min),
          stat(t('live_los_outliers', { d: hosp.los_outliers.days }), hosp.los_outliers.count),
          stat(t('live_preadmits'), hosp.preadmits)))),
      panel(t('live_bed_board'), hosp, h('div', { class: 'legend' },
        ['free', 'occupied', 'blocked'].map(s => h('span', {}, h('span', { class: `bed ${s}` }), t('live_bed_' + s))),
        h('span', {}, h('span', { class: 'bed occupied boarder' }), t('live_boarders'))),
      boardFor === hosp.hospital ? bedBoard(board) : bedBoard(null)));
    draw(flowBox, flowOption(hosp));
    draw(forecastBox, forecastOption(hosp));
    draw(levelBox, levelsOption(hosp));
  }

  renderCards();
  renderDetail();
  loadBoard(true);

  // The push: each "summary" event is the whole picture for this user.
  const es = new EventSource('/api/live/stream');
  es.addEventListener('open', () => { status.textContent = t('live_connected'); status.className = 'ok'; });
  es.addEventListener('error', () => { status.textContent = t('live_reconnecting'); status.className = 'bad'; });
  es.addEventListener('summary', async ev => {
    summary = JSON.parse(ev.data);
    status.textContent = `${t('live_connected')} · ${t('refreshed')} ${new Date().toLocaleTimeString(getLang() === 'zh' ? 'zh-CN' : 'en')}`;
    page.dataset.version = String(summary.version);
    try { alerts = (await api.get('/api/live/alerts')).alerts; } catch { /* keep the last */ }
    renderCards();
    renderDetail();
    loadBoard(false);
  });
  return () => { es.close(); clearTimeout(boardTimer); };
}
