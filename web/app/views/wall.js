// The command centre (大屏) for wall displays: a dark full-screen layout
// with the KPI tiles large, the hospitals ranked by CMI, the monthly
// discharges and the DRG quadrant. Refreshes itself every 30 seconds.

import * as api from '../api.js';
import { t, indName, unitText } from '../i18n.js';
import { h, tiles, clear } from '../ui.js';
import { chartBox, draw } from '../charts.js';
import { fmtValue } from '../fmt.js';
import { state, headlineQuery, scopeTitle, go } from '../main.js';
import { quadrantPoints, quadrantOption } from './quadrant.js';

const WALL_KPI = ['fp.n', 'fp.04', 'fp.alos', 'fp.cost', 'drg.cmi', 'drg.cei', 'drg.tei', 'fp.14'];
export const REFRESH_MS = 30000;

export async function renderWall(page) {
  const q = headlineQuery();
  const clock = h('span', { id: 'wall-clock' });
  const updated = h('span', { id: 'wall-updated' });
  const tilesHolder = h('div', { id: 'wall-tiles' });
  const rankBox = chartBox('chart', { id: 'wall-rank' });
  const trendBox = chartBox('chart', { id: 'wall-trend' });
  const quadBox = chartBox('chart', { id: 'wall-quadrant' });
  const wall = h('div', { class: 'wall', id: 'wall' },
    h('div', { class: 'wall-head' },
      h('h1', {}, `${scopeTitle()} · ${t('wall_title')}`),
      h('div', { class: 'meta' },
        h('span', {}, `${t('period')} ${state.period.value || '—'}`), clock, updated,
        h('button', { id: 'wall-fullscreen', onclick: () => { if (document.fullscreenElement) document.exitFullscreen(); else wall.requestFullscreen().catch(() => {}); } }, t('fullscreen')),
        h('button', { id: 'wall-exit', onclick: () => { if (document.fullscreenElement) document.exitFullscreen().catch(() => {}); go('#/overview'); } }, t('wall_exit')))),
    tilesHolder,
    h('div', { class: 'panels' },
      h('div', { class: 'panel' }, h('h2', {}, t('wall_rank')), rankBox),
      h('div', { class: 'panel' }, h('h2', {}, t('wall_trend')), trendBox),
      h('div', { class: 'panel' }, h('h2', {}, t('wall_quadrant')), quadBox)));
  page.append(wall);

  const tick = () => { clock.textContent = new Date().toLocaleTimeString(); };
  tick();

  async function refresh() {
    const P = state.period.value;
    const [head, hosp, trend] = await Promise.all([
      api.get('/api/indicators', { ...q, in: P, ids: WALL_KPI.join(',') }),
      api.get('/api/indicators', { by: 'hospital', in: P, ids: 'drg.cmi,drg.cei,drg.tei' }),
      api.get('/api/indicators', { ...q, period: 'month', ids: 'fp.n' }),
    ]);
    const headRows = q.by === 'consortium' ? head.rows : head.rows.filter(r => r.hospital === (head.rows[0] || {}).hospital);
    clear(tilesHolder).append(tiles(headRows, WALL_KPI));

    const cmi = hosp.rows.filter(r => r.id === 'drg.cmi').sort((a, b) => (a.value ?? -1) - (b.value ?? -1));
    draw(rankBox, {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: v => fmtValue(v, '') },
      grid: { left: 8, right: 60, top: 10, bottom: 10, containLabel: true },
      xAxis: { type: 'value', splitLine: { lineStyle: { opacity: 0.15 } } },
      yAxis: { type: 'category', data: cmi.map(r => r.hospital_name || r.hospital), axisLabel: { width: 160, overflow: 'truncate', fontSize: 13 } },
      series: [{
        type: 'bar', name: 'CMI', data: cmi.map(r => r.value), barMaxWidth: 22,
        itemStyle: { borderRadius: [0, 5, 5, 0], color: new window.echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: '#1c5fb8' }, { offset: 1, color: '#38c6ff' }]) },
        label: { show: true, position: 'right', color: '#e6f0ff', formatter: p => fmtValue(p.value, '') },
      }],
    }, true);

    const rows = q.by === 'consortium' ? trend.rows : trend.rows.filter(r => r.hospital === (trend.rows[0] || {}).hospital);
    const unit = rows[0] ? rows[0].unit_of_measure : '';
    draw(trendBox, {
      tooltip: { trigger: 'axis', valueFormatter: v => fmtValue(v, unit) },
      grid: { left: 56, right: 16, top: 30, bottom: 28 },
      legend: { top: 0, textStyle: { color: '#9fb7d6' } },
      xAxis: { type: 'category', data: rows.map(r => r.period), boundaryGap: false },
      yAxis: { type: 'value', scale: true, name: unitText(unit), splitLine: { lineStyle: { opacity: 0.15 } } },
      series: [{
        type: 'line', smooth: true, name: rows[0] ? indName(rows[0]) : 'fp.n', data: rows.map(r => r.value),
        symbolSize: 4, lineStyle: { width: 3, color: '#38c6ff' }, itemStyle: { color: '#38c6ff' },
        areaStyle: { color: new window.echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: 'rgba(56,198,255,.45)' }, { offset: 1, color: 'rgba(56,198,255,0)' }]) },
      }],
    }, true);

    const pts = quadrantPoints(hosp.rows, x => x.hospital, x => x.hospital_name || x.hospital);
    draw(quadBox, quadrantOption(pts, 'cei', true), true);
    updated.textContent = `${t('refreshed')} ${new Date().toLocaleTimeString()}`;
    wall.dataset.refreshes = String(Number(wall.dataset.refreshes || 0) + 1);
  }

  await refresh();
  const clockTimer = setInterval(tick, 1000);
  const refreshTimer = setInterval(() => { refresh().catch(() => {}); }, REFRESH_MS);
  return () => {
    clearInterval(clockTimer);
    clearInterval(refreshTimer);
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  };
}
