// Carebase web application: state, the hash router and the frame (top bar,
// period, language). Views live in views/*.js; each renders into a root
// element and may return a clean-up function.

import * as api from './api.js';
import { t, getLang, setLang } from './i18n.js';
import { h, clear, select, errorBox } from './ui.js';
import { disposeAll } from './charts.js';
import { renderLogin } from './views/login.js';
import { renderOverview } from './views/overview.js';
import { renderHospital } from './views/hospital.js';
import { renderQuadrant } from './views/quadrant.js';
import { renderDrgs } from './views/drgs.js';
import { renderQc } from './views/qc.js';
import { renderWall } from './views/wall.js';
import { renderCases } from './views/cases.js';
import { renderLive } from './views/live.js';

const root = document.getElementById('app');

export const state = {
  me: null,          // {user, csrf}
  orgs: null,        // /api/orgs
  period: { kind: 'year', value: null },
  periods: {},       // kind -> [period texts], oldest first
};

const ROUTES = {
  overview: renderOverview,
  hospital: renderHospital,
  quadrant: renderQuadrant,
  drgs: renderDrgs,
  qc: renderQc,
  wall: renderWall,
  cases: renderCases,
  live: renderLive,
};

const NAV = [['overview', 'nav_overview'], ['live', 'nav_live'], ['quadrant', 'nav_quadrant'], ['drgs', 'nav_drgs'],
  ['qc', 'nav_qc'], ['wall', 'nav_wall']];

export function role() { return state.me ? state.me.user.role : ''; }
export function isConsortium() { return role() === 'consortium_admin'; }

export function hospitalName(code) {
  const x = state.orgs && state.orgs.hospitals.find(p => p.zzjgdm === code);
  return x ? x.name : code;
}

export function departmentName(hospital, code) {
  const d = state.orgs && state.orgs.departments &&
    state.orgs.departments.find(p => p.hospital === hospital && p.code === code);
  return d && d.name ? `${code} ${d.name}` : code;
}

export function scopeTitle() {
  if (!state.me) return '';
  const s = state.me.user.scope;
  return s.kind === 'hospital' ? hospitalName(s.code) : s.code;
}

// The unit of the headline numbers: the consortium aggregate where the role
// may read it, else the hospital(s) in scope.
export function headlineQuery() {
  return isConsortium() ? { by: 'consortium' } : { by: 'hospital' };
}

export async function loadPeriods(kind) {
  if (state.periods[kind]) return state.periods[kind];
  const r = await api.get('/api/indicators', { ...headlineQuery(), period: kind, ids: 'fp.n' });
  state.periods[kind] = [...new Set(r.rows.filter(x => x.value !== null).map(x => x.period))].sort();
  return state.periods[kind];
}

export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

let cleanup = null;
let routing = 0;

async function route() {
  const my = ++routing;
  if (cleanup) { try { cleanup(); } catch { /* ignore */ } cleanup = null; }
  disposeAll();
  const [name, ...params] = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  if (name === 'login' || !state.me) {
    if (!state.me && name !== 'login') {
      try {
        await bootstrap();
      } catch {
        state.me = null;
        location.hash = '#/login';
        return;
      }
      if (my !== routing) return;
    }
    if (name === 'login' && !state.me) {
      clear(root).append(renderLogin(async () => { await bootstrap(); go('#/overview'); }));
      return;
    }
  }
  const view = ROUTES[name] || null;
  if (!view) { location.hash = '#/overview'; return; }
  clear(root);
  const page = h('main', { class: name === 'wall' ? '' : 'page', id: 'view', dataset: { view: name } });
  if (name !== 'wall') root.append(topbar(name));
  root.append(page);
  try {
    cleanup = (await view(page, params)) || null;
  } catch (e) {
    if (my === routing) page.append(errorBox(e));
  }
}

async function bootstrap() {
  state.me = await api.me();
  state.orgs = await api.get('/api/orgs');
  state.periods = {};
  const p = await loadPeriods(state.period.kind);
  if (!state.period.value || !p.includes(state.period.value)) state.period.value = p[p.length - 1] || null;
}

function topbar(active) {
  const kinds = [['year', t('year')], ['quarter', t('quarter')], ['month', t('month')]];
  const periods = state.periods[state.period.kind] || [];
  return h('header', { class: 'topbar' },
    h('div', { class: 'brand' },
      h('img', { class: 'logo', src: '/app/favicon.svg', alt: '' }),
      'Carebase', h('small', {}, t('app_sub'))),
    h('nav', { class: 'nav' }, NAV.map(([id, key]) => h('a', {
      href: `#/${id}`, class: id === active || ((active === 'hospital' || active === 'cases') && id === 'overview') ? 'active' : null,
      dataset: { nav: id },
    }, t(key)))),
    h('div', { class: 'tools' },
      h('span', { class: 'lbl' }, t('period')),
      select(kinds, state.period.kind, async k => {
        state.period.kind = k;
        const p = await loadPeriods(k);
        state.period.value = p[p.length - 1] || null;
        route();
      }, { id: 'period-kind', 'aria-label': t('period') }),
      select(periods.map(p => [p, p]), state.period.value, v => { state.period.value = v; route(); },
        { id: 'period-value', 'aria-label': t('period') }),
      h('button', { id: 'lang', onclick: () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); route(); } }, t('lang_switch')),
      h('span', { class: 'user' }, state.me.user.name),
      h('button', {
        id: 'logout', onclick: async () => {
          try { await api.logout(); } catch { /* the session ends anyway */ }
          state.me = null; state.orgs = null; state.periods = {};
          go('#/login');
        },
      }, t('logout'))));
}

api.setUnauthenticatedHandler(() => {
  state.me = null;
  if (!location.hash.startsWith('#/login')) location.hash = '#/login';
});

window.addEventListener('hashchange', route);
route();
