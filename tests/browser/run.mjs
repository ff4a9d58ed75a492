// Browser tests of the Carebase web application: playwright-core drives
// Debian's chromium (headless) against a running `carebase serve`.
//
//   node tests/browser/run.mjs URL USER PASSWORD EXPECTED.json ARTIFACT_DIR
//
// EXPECTED.json holds what `carebase indicators --format json` says for the
// same queries (tests/e2e/t_browser.sh makes it). Each check prints
// "ok - ..." or "not ok - ..."; screenshots of every view go to
// ARTIFACT_DIR. Exit status 1 when a check fails or the browser is missing.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CB_CHROMIUM || '/usr/bin/chromium';
const [url, user, password, expectedPath, artDir] = process.argv.slice(2);
if (!url || !user || !password || !expectedPath || !artDir) {
  console.error('usage: node run.mjs URL USER PASSWORD EXPECTED.json ARTIFACT_DIR');
  process.exit(2);
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(`not ok - chromium is not installed at ${CHROMIUM}: run scripts/install-deps.sh (apt-get install chromium)`);
  process.exit(1);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch {
  console.log(`not ok - playwright-core is not installed in ${here}/node_modules: run scripts/install-deps.sh (npm ci in tests/browser)`);
  process.exit(1);
}
const { fmtValue, decimalsFor } = await import(path.join(here, '../../web/app/fmt.js'));
const X = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
fs.mkdirSync(artDir, { recursive: true });

let fails = 0, passes = 0;
function ok(what, cond, detail) {
  if (cond) { passes++; console.log(`ok - ${what}`); } else {
    fails++;
    console.log(`not ok - ${what}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)).slice(0, 400) : ''}`);
  }
}
const near = (a, b) => a === b || (a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)));

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, locale: 'zh-CN' });
const page = await ctx.newPage();
const pageErrors = [], cspErrors = [], consoleErrors = [];
page.on('pageerror', e => pageErrors.push(e.message));
page.on('console', m => {
  if (m.type() !== 'error') return;
  const text = m.text();
  if (/Content Security Policy/i.test(text)) cspErrors.push(text);
  else if (!/status of 401/.test(text)) consoleErrors.push(text);
});

async function shot(name, full = true) {
  await page.evaluate(() => window.scrollTo(0, 0));   // the sticky top bar at the top
  await page.waitForTimeout(100);
  await page.screenshot({ path: path.join(artDir, `${name}.png`), fullPage: full });
}

// Waits for a view to finish rendering: its element and every chart drawn.
async function openView(hash, view) {
  const t0 = Date.now();
  await page.evaluate(h => { location.hash = h; }, hash);
  await page.waitForSelector(`#view[data-view="${view}"]`, { timeout: 15000 });
  await page.waitForFunction(() => {
    const v = document.getElementById('view');
    if (!v || v.querySelector('.error-box')) return true;
    const charts = [...v.querySelectorAll('.chart')];
    return charts.length > 0 && charts.every(c => c.querySelector('canvas'));
  }, null, { timeout: 15000 });
  await page.waitForTimeout(700);   // the charts' animation
  return Date.now() - t0;
}

// Every chart of the view: a canvas with drawn (non-transparent) pixels.
async function chartsDrawn() {
  return page.evaluate(() => [...document.querySelectorAll('#view .chart')].map(el => {
    const c = el.querySelector('canvas');
    if (!c || !c.width || !c.height) return { id: el.id, painted: 0 };
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 16) if (d[i]) n++;
    return { id: el.id, painted: n };
  }));
}

async function checkCharts(view, want) {
  const charts = await chartsDrawn();
  ok(`${view}: ${want} chart(s) drawn`, charts.length === want && charts.every(c => c.painted > 200), charts);
}

async function noError(view) {
  const e = await page.$eval('#view', v => (v.querySelector('.error-box') || {}).textContent || '');
  ok(`${view}: no error shown`, !e, e);
}

// The KPI tiles against rows of `carebase indicators --format json`.
async function checkTiles(view, rows, lang = 'zh') {
  const tiles = await page.$$eval('#view .kpi', ts => ts.map(t => ({
    id: t.dataset.id, value: t.dataset.value, unit: t.dataset.unit,
    text: t.querySelector('.kpi-value').textContent.trim(),
    title: (t.querySelector('.kpi-value .na') || {}).title || '',
    name: t.querySelector('.kpi-name').textContent.trim(),
  })));
  ok(`${view}: ${tiles.length} KPI tiles`, tiles.length >= 8, tiles.length);
  const bad = [];
  for (const tile of tiles) {
    const r = rows.find(x => x.id === tile.id);
    if (!r) { bad.push(`${tile.id}: not in the CLI output`); continue; }
    if (r.value === null) {
      if (tile.text !== '—' || !tile.title || tile.value !== '') bad.push(`${tile.id}: not computable shown as '${tile.text}' (${tile.title})`);
      continue;
    }
    if (!near(Number(tile.value), r.value)) bad.push(`${tile.id}: value ${tile.value} != CLI ${r.value}`);
    const want = fmtValue(r.value, r.unit_of_measure);
    if (tile.text !== want) bad.push(`${tile.id}: shows '${tile.text}', want '${want}' (${decimalsFor(r.unit_of_measure)} decimals)`);
    const name = lang === 'zh' ? r.name_zh : r.name_en;
    if (tile.name !== name) bad.push(`${tile.id}: named '${tile.name}', want '${name}'`);
  }
  ok(`${view}: the tiles show the numbers of carebase indicators (${tiles.length})`, !bad.length, bad);
  return tiles;
}

async function readDownload(trigger) {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), trigger()]);
  const file = path.join(artDir, dl.suggestedFilename());
  await dl.saveAs(file);
  return { name: dl.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
}

function parseCsv(text) {
  const rows = [];
  let row = [], f = '', q = false;
  text = text.replace(/^\ufeff/, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r') { /* CRLF */ } else if (c === '\n') { row.push(f); rows.push(row); row = []; f = ''; } else f += c;
  }
  if (f || row.length) { row.push(f); rows.push(row); }
  return rows;
}

try {
  // ---- the static files: the page paints fast, with its security headers ----
  const t0 = Date.now();
  const resp = await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#login-form', { timeout: 10000 });
  const paint = Date.now() - t0;
  const hdr = resp.headers();
  ok('GET /: the web application, HTML', resp.status() === 200 && /text\/html/.test(hdr['content-type']), hdr['content-type']);
  ok('GET /: Content-Security-Policy with script-src \'self\'', /script-src 'self'/.test(hdr['content-security-policy'] || ''), hdr['content-security-policy']);
  ok('GET /: nosniff, DENY', hdr['x-content-type-options'] === 'nosniff' && hdr['x-frame-options'] === 'DENY');
  // Timing is measured by bench/paint.mjs (bench/RESULTS.md), never asserted here.
  console.log(`# the login page was ready after ${paint} ms`);
  await shot('01-login', false);

  // ---- login ----
  await page.fill('#login-user', user);
  await page.fill('#login-password', 'wrong-password');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.getElementById('login-msg').textContent.length > 0);
  ok('a wrong password: a message, still on the login page', await page.$('#login-form') !== null);
  await page.fill('#login-password', password);
  await page.click('#login-submit');
  await page.waitForSelector('#view[data-view="overview"]', { timeout: 15000 });
  ok('login: the overview opens', true);
  const cookies = await ctx.cookies();
  const sc = cookies.find(c => c.name === 'cb_session');
  ok('the session cookie is HttpOnly and SameSite=Strict', sc && sc.httpOnly && sc.sameSite === 'Strict', sc);

  // ---- overview ----
  await openView('#/overview', 'overview');
  await noError('overview');
  const period = await page.$eval('#period-value', s => s.value);
  ok(`the period is the latest year (${X.period})`, period === X.period, period);
  await checkTiles('overview', X.kpi_consortium);
  await checkCharts('overview', 2);
  const trend = await page.evaluate(() => {
    const c = window.echarts.getInstanceByDom(document.getElementById('chart-trend'));
    const o = c.getOption();
    return { x: o.xAxis[0].data, y: o.series[0].data };
  });
  const wantTrend = X.trend_consortium;
  ok('overview: the trend chart has the monthly numbers of carebase indicators',
    trend.x.join() === wantTrend.map(r => r.period).join() && trend.y.every((v, i) => near(v, wantTrend[i].value)),
    { got: trend.y.slice(0, 4), want: wantTrend.slice(0, 4).map(r => r.value) });
  const cmp = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('chart-compare')).getOption().series[0].data);
  const wantCmi = X.hospitals.filter(r => r.id === 'drg.cmi').map(r => r.value).sort((a, b) => a - b);
  ok('overview: the comparison chart has each hospital\'s CMI', cmp.length === wantCmi.length && cmp.every((v, i) => near(v, wantCmi[i])), { cmp, wantCmi });
  const hrows = await page.$$eval('#table-hospitals tbody tr', rs => rs.length);
  ok(`overview: the hospitals table has ${X.nhospitals} rows`, hrows === X.nhospitals, hrows);
  await shot('02-overview');

  // CSV download of the hospitals table
  const csv = await readDownload(() => page.click('[data-csv^="hospitals-"]'));
  const rows = parseCsv(csv.text);
  ok(`CSV download '${csv.name}': a header and one row per hospital`, rows.length === X.nhospitals + 1, rows.length);
  const col = rows[0].findIndex(h => h.startsWith('出院人次'));
  const fpn = rows.slice(1).map(r => Number(r[col])).sort((a, b) => a - b);
  const wantN = X.hospitals.filter(r => r.id === 'fp.n').map(r => r.value).sort((a, b) => a - b);
  ok('CSV: the discharges column is carebase indicators\' fp.n', col >= 0 && fpn.join() === wantN.join(), { header: rows[0], fpn, wantN });
  ok('CSV: starts with a byte-order mark (Excel reads UTF-8)', csv.text.charCodeAt(0) === 0xfeff);

  // ---- the language switch ----
  const zhTitle = await page.$eval('#view-title', e => e.textContent);
  const zhNav = await page.$eval('[data-nav="overview"]', e => e.textContent);
  await page.click('#lang');
  await page.waitForFunction(t => document.getElementById('view-title') && document.getElementById('view-title').textContent !== t, zhTitle);
  await openView('#/overview', 'overview');
  const enNav = await page.$eval('[data-nav="overview"]', e => e.textContent);
  ok(`language: the labels change (${zhNav} -> ${enNav})`, zhNav === '医联体总览' && enNav === 'Overview', { zhNav, enNav });
  await checkTiles('overview in English', X.kpi_consortium, 'en');
  ok('language: <html lang> follows', await page.$eval('html', e => e.lang) === 'en');
  await shot('03-overview-en');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('[data-nav="overview"]') && document.querySelector('[data-nav="overview"]').textContent === '医联体总览');

  // ---- drill-down: a hospital ----
  await openView('#/overview', 'overview');
  await page.click('#table-hospitals tbody tr:first-child');
  await page.waitForSelector('#view[data-view="hospital"]', { timeout: 15000 });
  const clicked = await page.evaluate(() => decodeURIComponent(location.hash));
  ok('clicking a hospital opens its page', clicked.startsWith('#/hospital/'), clicked);
  await openView(`#/hospital/${encodeURIComponent(X.h1)}`, 'hospital');
  await noError('hospital');
  await checkTiles('hospital', X.kpi_h1);
  await checkCharts('hospital', 1);
  const drows = await page.$$eval('#table-departments tbody tr', rs => rs.length);
  ok(`hospital: the departments table has the ${X.ndepartments} departments (by=department)`, drows === X.ndepartments, drows);
  const htrend = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('chart-hospital-trend')).getOption().series[0].data);
  ok('hospital: the trend chart has the hospital\'s monthly discharges', htrend.length === X.trend_h1.length && htrend.every((v, i) => near(v, X.trend_h1[i].value)), htrend.slice(0, 3));
  await page.click('#table-departments tbody tr:first-child');
  await page.waitForFunction(() => window.echarts.getInstanceByDom(document.getElementById('chart-hospital-trend')).getOption().series.length === 3);
  ok('hospital: a department clicked joins the trend chart', true);
  await page.selectOption('#trend-indicator', 'drg.cmi');
  await page.waitForFunction(() => /CMI/.test(window.echarts.getInstanceByDom(document.getElementById('chart-hospital-trend')).getOption().series[0].name));
  ok('hospital: another indicator for the trend chart', true);
  await page.waitForTimeout(600);
  await shot('04-hospital');

  // ---- lineage: from a tile to its cases, and a case's grouping trace ----
  async function openCases(click) {
    await click();
    await page.waitForSelector('#view[data-view="cases"] #cases-summary', { timeout: 15000 });
    await page.waitForTimeout(300);
  }
  await openView('#/overview', 'overview');
  await openCases(() => page.click('.kpi[data-id="fp.04"] .kpi-cases'));
  await noError('cases');
  const chash = await page.evaluate(() => decodeURIComponent(location.hash));
  ok('a KPI tile opens the cases of its numerator', chash.startsWith('#/cases/fp.04/numerator/'), chash);
  const want04 = X.kpi_consortium.find(r => r.id === 'fp.04');
  const csum = await page.$eval('#cases-summary', e => ({ count: Number(e.dataset.count), text: e.textContent }));
  ok(`cases: the count is the tile's numerator (${want04.numerator}, carebase indicators)`, csum.count === want04.numerator, csum);
  const crows = await page.$$eval('#table-cases tbody tr', rs => rs.length);
  ok('cases: the first page of 100', crows === Math.min(100, want04.numerator), crows);
  const p1 = await page.$eval('#table-cases tbody tr:first-child', r => r.children[1].textContent);
  await page.click('#cases-next');
  await page.waitForFunction(b => document.querySelector('#table-cases tbody tr:first-child').children[1].textContent !== b, p1);
  ok('cases: the next page', /101–200/.test(await page.$eval('#cases-page', e => e.textContent)));
  await page.click('#cases-prev');
  await page.waitForFunction(b => document.querySelector('#table-cases tbody tr:first-child').children[1].textContent === b, p1);
  const ccsv = await readDownload(() => page.click('#cases-csv'));
  const crs = parseCsv(ccsv.text);
  ok(`cases: the CSV has every case of the numerator (${crs.length - 1})`, crs.length === want04.numerator + 1, crs.length);
  ok('cases: the CSV carries no patient identifiers', !crs[0].some(x => /^(xm|sfzh|XM|SFZH)$/.test(x)) && crs[0][1] === 'bah', crs[0]);
  await page.click('#table-cases tbody tr:first-child');
  await page.waitForSelector('#case-trace-text', { timeout: 15000 });
  const drgOf = await page.$eval('#case-head', e => e.dataset.drg);
  const zhTrace = await page.$eval('#case-trace-text', e => e.textContent);
  ok(`a case's grouping trace, in Chinese, naming its DRG (${drgOf})`, drgOf && zhTrace.includes(drgOf) && /主要诊断|分组/.test(zhTrace), zhTrace.slice(0, 200));
  ok('a case: identifiers omitted for this user', /已隐去/.test(await page.$eval('#case-identifiers', e => e.textContent)));
  await shot('10-cases');
  const zhCasesTitle = await page.$eval('#view-title', e => e.textContent);
  await page.click('#lang');
  await page.waitForFunction(t => document.getElementById('view-title') && document.getElementById('view-title').textContent !== t, zhCasesTitle);
  await page.waitForSelector('#table-cases tbody tr');
  await page.click('#table-cases tbody tr:first-child');
  await page.waitForSelector('#case-trace-text');
  const enTrace = await page.$eval('#case-trace-text', e => e.textContent);
  ok('the trace follows the language switch (English)', enTrace.includes(drgOf) && /principal|MDC/.test(enTrace) && !/主要诊断/.test(enTrace), enTrace.slice(0, 200));
  await shot('11-case-trace-en');
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('[data-nav="overview"]') && document.querySelector('[data-nav="overview"]').textContent === '医联体总览');
  await openView(`#/hospital/${encodeURIComponent(X.h1)}`, 'hospital');
  const dcode = await page.$eval('[data-cases-dept]', a => a.dataset.casesDept);
  await openCases(() => page.click('[data-cases-dept]'));
  const depts = await page.$$eval('#table-cases tbody tr', rs => [...new Set(rs.map(r => r.children[4].textContent))]);
  ok(`a department's cases from the hospital's table (${dcode})`, depts.length === 1 && depts[0].startsWith(dcode), depts);

  // ---- the DRG quadrant ----
  await openView('#/quadrant', 'quadrant');
  await noError('quadrant');
  await checkCharts('quadrant', 1);
  const pts = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('chart-quadrant')).getOption().series[0].data);
  const cmiRows = X.hospitals.filter(r => r.id === 'drg.cmi' && r.value !== null);
  ok(`quadrant: one bubble per hospital (${pts.length})`, pts.length === cmiRows.length, pts);
  const bad = pts.filter(p => !cmiRows.some(r => near(r.value, p.value[0])));
  ok('quadrant: x is each hospital\'s CMI', !bad.length, bad);
  await shot('05-quadrant');
  await page.click('#quadrant-y [data-v="drg.tei"]');
  await page.waitForFunction(() => /TEI/.test(window.echarts.getInstanceByDom(document.getElementById('chart-quadrant')).getOption().yAxis[0].name));
  await page.click('#quadrant-unit [data-v="department"]');
  await page.waitForSelector('#quadrant-hospital');
  await page.waitForTimeout(700);
  const dpts = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('chart-quadrant')).getOption().series[0].data.length);
  ok(`quadrant by department: bubbles (${dpts})`, dpts > 1, dpts);
  await shot('06-quadrant-departments');

  // ---- the DRG table ----
  await openView('#/drgs', 'drgs');
  await noError('drgs');
  await checkCharts('drgs', 1);
  const drg = await page.$$eval('#table-drgs tbody tr', rs => rs.map(r => [...r.children].map(c => c.textContent.trim())));
  const sumCases = drg.reduce((s, r) => s + Number(r[1].replace(/,/g, '')), 0);
  ok(`drgs: ${drg.length} DRGs whose cases add up to the grouped discharges of carebase indicators (${X.grouped})`, drg.length > 10 && sumCases === X.grouped, { rows: drg.length, sumCases });
  ok('drgs: weights, ALOS, costs, mortality and risk grades shown', drg.slice(0, 5).every(r => /^\d+\.\d{4}$/.test(r[3]) && /^[\d,]+\.\d\d$/.test(r[4]) && /^[\d,]+\.\d\d$/.test(r[7]) && /^\d+\.\d\d$/.test(r[10]) && /^[0-4—]$/.test(r[11])), drg.slice(0, 2));
  const dcsv = await readDownload(() => page.click('[data-csv^="drgs-"]'));
  ok('drgs: the CSV has every row of the table', parseCsv(dcsv.text).length === drg.length + 1, parseCsv(dcsv.text).length);
  await page.fill('#drg-search', drg[0][0]);
  const filtered = await page.$$eval('#table-drgs tbody tr', rs => rs.length);
  ok('drgs: the search narrows the table', filtered >= 1 && filtered < drg.length, filtered);
  await page.fill('#drg-search', '');
  await shot('07-drgs');

  // ---- QC ----
  await openView('#/qc', 'qc');
  await noError('qc');
  await checkCharts('qc', 1);
  const rules = await page.$$eval('#table-qc-rules tbody tr', rs => rs.map(r => r.children[0].textContent));
  ok(`qc: the rules failing most (${rules.length})`, rules.length > 3 && rules.every(r => /^QC-/.test(r)), rules.slice(0, 3));
  const qh = await page.$$eval('#table-qc-hospitals tbody tr', rs => rs.length);
  ok('qc: the effect per hospital', qh === X.nhospitals, qh);
  await page.click('#table-qc-rules tbody tr:first-child');
  await page.waitForSelector('#table-qc-rejects tbody tr');
  const rj = await page.$$eval('#table-qc-rejects tbody tr', rs => rs.length);
  ok(`qc: a rule's recent rejects (${rj})`, rj > 0, rj);
  await shot('08-qc');

  // ---- the command centre (大屏) ----
  const wallMs = await openView('#/wall', 'wall');
  await noError('wall');
  ok('wall: the dark full-screen layout without the top bar', await page.$('.wall') !== null && await page.$('.topbar') === null);
  await checkTiles('wall', X.kpi_consortium);
  await checkCharts('wall', 3);
  await shot('09-wall', false);
  const r0 = await page.$eval('#wall', w => Number(w.dataset.refreshes));
  const t1 = Date.now();
  await page.waitForFunction(n => Number(document.getElementById('wall').dataset.refreshes) > n, r0, { timeout: 40000 });
  // Its period is REFRESH_MS (30 s); the time is printed, never asserted.
  console.log(`# the wall refreshed itself after ${Math.round((Date.now() - t1 + wallMs) / 1000)} s`);
  ok('wall: refreshes itself', true);
  await checkCharts('wall after a refresh', 3);
  await page.click('#wall-exit');
  await page.waitForSelector('#view[data-view="overview"]');

  // ---- the operations command centre (live, from the HL7 feed) ----
  if (process.env.CB_MLLP) {
    await openView('#/live', 'live');
    await noError('live');
    // The cards equal the API's summary, hospital by hospital.
    const liveMatches = async () => page.evaluate(async () => {
      const r = await (await fetch('/api/live/summary')).json();
      const cards = [...document.querySelectorAll('#live-cards .lcard')]
        .map(c => [c.dataset.hospital, Number(c.dataset.census)]);
      const api = r.hospitals.map(h => [h.hospital, h.census]);
      return { same: JSON.stringify(cards) === JSON.stringify(api), cards, api, version: r.version };
    });
    let m = await liveMatches();
    ok(`live: a card per hospital with the API's census (${m.cards.length})`,
      m.same && m.cards.length === X.nhospitals && m.cards.some(c => c[1] > 0), m);
    await checkCharts('live', 3);
    const beds = await page.$$eval('#live-beds .bed', b => b.length);
    const board = await page.evaluate(async () => {
      const sel = document.querySelector('#live-cards .lcard.sel').dataset.hospital;
      const r = await (await fetch('/api/live/wards?hospital=' + encodeURIComponent(sel))).json();
      return r.wards.reduce((n, w) => n + w.beds.length, 0);
    });
    ok(`live: the bed board shows every bed of the hospital (${beds})`, beds === board && beds > 0, { beds, board });
    const fresh = await page.$$eval('#view .fresh', f => f.length);
    ok(`live: freshness on every card and panel (${fresh})`, fresh >= X.nhospitals + 5, fresh);
    ok('live: the event stream is connected', await page.$eval('#live-status', s => s.className) === 'ok');
    await shot('12-live');
    // Pushed: more messages over MLLP, and the screen follows without a reload.
    const v0 = Number(await page.$eval('#view', v => v.dataset.version || 0));
    const { execFileSync } = await import('node:child_process');
    const t2 = Date.now();
    execFileSync(process.env.CB_BIN, ['--quiet', '--db', process.env.CB_DB, 'simulate', '--to', process.env.CB_MLLP,
      '--start', process.env.CB_LIVE_START, '--days', '0.05', '--seed', '77', '--malformed', '0'], { stdio: 'ignore' });
    const tAck = Date.now();
    await page.waitForFunction(v => Number(document.getElementById('view').dataset.version) > v, v0, { timeout: 15000 * Number(process.env.CB_TIMEOUT_MULT || 1) });
    // (a page function that returns a promise is truthy at once: poll from here)
    const deadline = Date.now() + 15000 * Number(process.env.CB_TIMEOUT_MULT || 1);
    while (!(m = await liveMatches()).same && Date.now() < deadline) await page.waitForTimeout(250);
    console.log(`# live: ${tAck - t2} ms to send the stream, then ${Date.now() - tAck} ms until the screen showed its last ACK`);
    ok(`live: pushed by the server, the cards follow the feed (version ${v0} -> ${m.version})`, m.same && m.version > v0, m);
  }

  // ---- logout ----
  await page.click('#logout');
  await page.waitForSelector('#login-form', { timeout: 10000 });
  const me = await page.evaluate(async () => (await fetch('/api/me')).status);
  ok('logout: back to the login page, the session ended', me === 401, me);

  ok('no JavaScript errors in the page', !pageErrors.length, pageErrors);
  ok('no Content-Security-Policy violations', !cspErrors.length, cspErrors);
  ok('no other console errors', !consoleErrors.length, consoleErrors);
} catch (e) {
  ok(`the browser test ran to the end`, false, `${e.stack || e}`);
  try { await shot('zz-failure'); } catch { /* no page */ }
} finally {
  await browser.close();
}
console.log(`# screenshots in ${artDir}`);
console.log(`${passes} passed, ${fails} failed`);
process.exit(fails ? 1 : 0);
