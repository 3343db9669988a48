import { launchBrowser, newPage, closeAll } from './lib/browser.mjs';
import { startServer, stopAll } from './lib/server.mjs';
import { readdirSync, readFileSync } from 'node:fs';
const dead = { v: 0 }; const seen = new Map();
function cpu() { // ticks of live chromium processes + those seen before that died
  let s = 0; const now = new Map();
  for (const p of readdirSync('/proc')) { if (!/^\d+$/.test(p)) continue;
    try { const st = readFileSync(`/proc/${p}/stat`, 'utf8'); if (!/\((chromium|chrome)/.test(st)) continue;
      const f = st.slice(st.lastIndexOf(')') + 2).split(' '); const t = Number(f[11]) + Number(f[12]); now.set(p, t); s += t; } catch {} }
  for (const [p, t] of seen) if (!now.has(p)) dead.v += t; // approximates: died since last sample
  seen.clear(); for (const [p, t] of now) seen.set(p, t);
  return (s + dead.v) / 100;
}
const srv = await startServer({});
const b = await launchBrowser();
let c0 = cpu(); await new Promise(r => setTimeout(r, 5000)); console.log('browser idle 5s', (cpu() - c0).toFixed(2));
const page = await newPage(b);
await page.goto(srv.url + '/'); await page.waitForSelector('html.ready');
c0 = cpu(); await new Promise(r => setTimeout(r, 5000)); console.log('page idle 5s', (cpu() - c0).toFixed(2));
c0 = cpu();
await page.getByTestId('line-auto').check();
await page.getByTestId('fill-example').click();
await page.getByTestId('get-quotes').click();
await page.waitForURL(/\/q\//);
console.log('quote', (cpu() - c0).toFixed(2));
c0 = cpu(); await new Promise(r => setTimeout(r, 5000)); console.log('results idle 5s', (cpu() - c0).toFixed(2));
c0 = cpu(); for (let i = 0; i < 100; i++) await page.getByTestId('get-quotes').count(); console.log('100 locator counts', (cpu() - c0).toFixed(2));
for (let k = 0; k < 3; k++) {
c0 = cpu(); const p2 = await newPage(b); console.log('new context+page', (cpu() - c0).toFixed(2));
c0 = cpu(); await p2.goto(srv.url + '/'); await p2.waitForSelector('html.ready'); console.log('goto', (cpu() - c0).toFixed(2));
c0 = cpu(); await p2.goto(srv.url + '/'); await p2.waitForSelector('html.ready'); console.log('goto again', (cpu() - c0).toFixed(2));
c0 = cpu(); await p2.context().close(); await new Promise(r => setTimeout(r, 1000)); console.log('close ctx + 1s', (cpu() - c0).toFixed(2));
}
await closeAll(); await stopAll();
