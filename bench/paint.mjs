// First paint of the web application (issue 5 floor: "the first page paints
// in < 1 s on localhost"), measured in Debian's chromium through
// playwright-core (from tests/browser/node_modules), against a running
// `carebase serve`. Each run uses a fresh browser context (no cache):
//   login_fcp_ms   first contentful paint of the login page;
//   login_form_ms  navigation start to the login form present;
//   overview_ms    login button click to the overview's KPI tiles drawn
//                  with their values (the dashboard's first screen);
//   overview_charts_ms  ... to its charts drawn as well.
// Prints one JSON object with every run and the medians.
//
//   node bench/paint.mjs URL USER PASSWORD [RUNS]
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/browser/package.json'));
const { chromium } = require('playwright-core');
const [url, user, password, runsArg] = process.argv.slice(2);
const RUNS = Number(runsArg || 7);
const browser = await chromium.launch({ executablePath: process.env.CB_CHROMIUM || '/usr/bin/chromium' });
const runs = [];
try {
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const t0 = Date.now();
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForSelector('#login-form');
    const loginForm = Date.now() - t0;
    const fcp = await page.evaluate(() => new Promise(resolve => {
      const e = performance.getEntriesByName('first-contentful-paint')[0];
      if (e) return resolve(e.startTime);
      new PerformanceObserver(l => resolve(l.getEntries()[0].startTime)).observe({ type: 'paint', buffered: true });
    }));
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    const t1 = Date.now();
    await page.click('#login-submit');
    await page.waitForFunction(() => document.querySelectorAll('#view .kpi[data-value]').length >= 8);
    const overview = Date.now() - t1;
    await page.waitForFunction(() => [...document.querySelectorAll('#view canvas')].filter(c => c.width > 0).length >= 2);
    const charts = Date.now() - t1;
    runs.push({ login_fcp_ms: Math.round(fcp), login_form_ms: loginForm, overview_ms: overview, overview_charts_ms: charts });
    await ctx.close();
  }
} finally {
  await browser.close();
}
const median = k => { const v = runs.map(r => r[k]).sort((a, b) => a - b); return v[v.length >> 1]; };
console.log(JSON.stringify({ runs, median: Object.fromEntries(Object.keys(runs[0]).map(k => [k, median(k)])) }));
