// ECharts (the vendored build, /app/vendor/echarts.min.js: the global
// `echarts`) with the instances of the current view, so that leaving a view
// disposes them and a window resize resizes them.

import { h } from './ui.js';

const live = new Set();
const PALETTE = ['#1f6fc5', '#16a3a3', '#f0a020', '#8e5bd0', '#e0564f', '#5b8c2a', '#d4679b', '#6c7a89'];

export function chartBox(cls = 'chart', attrs = {}) {
  return h('div', { class: cls, ...attrs });
}

// Draws option into el (a chartBox already in the document).
export function draw(el, option, dark = false) {
  let c = window.echarts.getInstanceByDom(el);
  if (!c) {
    c = window.echarts.init(el, dark ? 'dark' : null, { renderer: 'canvas' });
    live.add(c);
  }
  c.setOption({
    color: PALETTE,
    backgroundColor: 'transparent',
    textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
    animationDuration: 400,
    ...option,
  }, true);
  return c;
}

// Text for an HTML tooltip (names come from the data).
export function esc(s) {
  return window.echarts.format.encodeHTML(String(s ?? ''));
}

export function disposeAll() {
  for (const c of live) if (!c.isDisposed()) c.dispose();
  live.clear();
}

let timer = null;
window.addEventListener('resize', () => {
  clearTimeout(timer);
  timer = setTimeout(() => { for (const c of live) if (!c.isDisposed()) c.resize(); }, 120);
});
