import { launchBrowser, newPage, closeAll } from './lib/browser.mjs';
import { startServer, stopAll } from './lib/server.mjs';
import { readdirSync, readFileSync } from 'node:fs';
function snap() { const m = new Map();
  for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue;
    try { const st = readFileSync(`/proc/${p}/stat`, 'utf8'); if (!/\((chromium|chrome)/.test(st)) continue;
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8'); const ty = (cmd.match(/--type=([a-z-]+)/) || [0, 'browser'])[1] + ((cmd.match(/--utility-sub-type=([\w.]+)/) || [0, ''])[1]);
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); m.set(p, [ty, Number(f[11]) + Number(f[12])]); } catch {} }
  return m; }
function diff(a, b) { const o = {}; for (const [p, [ty, t]] of b) { const t0 = a.has(p) ? a.get(p)[1] : 0; o[ty] = (o[ty] || 0) + (t - t0) / 100; } return JSON.stringify(o); }
const srv = await startServer({});
const b = await launchBrowser();
const page = await newPage(b);
await page.goto(srv.url + '/'); await page.waitForSelector('html.ready');
await new Promise(r => setTimeout(r, 2000));
for (let k = 0; k < 3; k++) {
  let s = snap(); await page.goto(srv.url + '/'); await page.waitForSelector('html.ready'); console.log('goto', diff(s, snap()));
  s = snap(); await new Promise(r => setTimeout(r, 2000)); console.log('after 2s', diff(s, snap()));
}
console.log(await page.evaluate(() => document.querySelectorAll('*').length), 'elements');
await closeAll(); await stopAll();
