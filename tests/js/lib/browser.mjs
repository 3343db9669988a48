// browser.mjs -- Debian's headless Chromium, driven by playwright-core, for
// the browser tests.
//
// launchBrowser() starts /usr/bin/chromium (or $MQ_CHROMIUM) headless with
// no sandbox, GPU or background traffic; newPage() opens a page in a fresh
// context (its own storage) that records the page's uncaught errors and its
// failed requests; screenshot() saves a PNG under <repo>/build/screenshots/.
// Every browser launched is remembered: closeAll() (for after() hooks) closes
// what is still open; playwright itself kills the browsers it launched when
// the process exits.
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startServer, stopAll } from './server.mjs';

export const CHROMIUM = process.env.MQ_CHROMIUM || '/usr/bin/chromium';
// The omnibox's popups: headless Chromium 156 opens a window per context,
// and each window loads two WebUI pages for its address bar's popup
// (chrome://omnibox-popup.top-chrome/ and its omnibox_popup_aim.html) in a
// renderer of their own, which never shows here: about 1.8 s of CPU a
// context, half of what a context that loads our page costs (measured with
// /proc/stat over ten contexts: 3.4 s of CPU each with them, 1.6 without).
export const LAUNCH_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup',
];
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'build', 'screenshots');

const open = new Set(); // browsers not yet closed

/** Headless Chromium; close it with browser.close() or closeAll(). */
export async function launchBrowser({ timeoutMs = 30000 } = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    timeout: timeoutMs,
  });
  open.add(browser);
  browser.on('disconnected', () => open.delete(browser));
  return browser;
}

/** Closes every browser still open. */
export async function closeAll() {
  await Promise.all([...open].map((b) => b.close().catch(() => {})));
  open.clear();
}

/**
 * A page in a new context of `browser` (contextOptions: viewport...), with
 * page.errors (uncaught exceptions and Content-Security-Policy violations,
 * as messages) and page.failedResponses
 * ([{status, url}] of every response >= 400) filled as the page runs.
 * Closing page.context() closes it.
 */
export async function newPage(browser, contextOptions = {}) {
  // Reduced motion: app.css scrolls smoothly otherwise; instant scrolls keep
  // anything from moving under a click.
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    reducedMotion: 'reduce',
    ...contextOptions,
  });
  // Generous: `make test` builds and runs other suites on the same machine.
  context.setDefaultTimeout(30000);
  context.setDefaultNavigationTimeout(30000);
  const page = await context.newPage();
  page.errors = [];
  page.failedResponses = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  // Chromium reports what the server's CSP blocked (an inline script or
  // style, a foreign resource) as a console error, not as an exception.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.errors.push(`CSP: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) page.failedResponses.push({ status: r.status(), url: r.url() });
  });
  return page;
}

/** build/screenshots/<name>.png, the name made file-safe. */
export function screenshotPath(name) {
  return path.join(SCREENSHOT_DIR, `${name.replace(/[^A-Za-z0-9_.-]+/g, '-')}.png`);
}

/**
 * Saves a screenshot of `page` as build/screenshots/<name>.png; returns its path.
 *
 * A full-page shot resizes the view for a moment, and Chromium answers a
 * resize by scrolling the focused text field back into view at the next
 * mouse press: the page then jumps between mousedown and mouseup and the
 * click is lost. So the focused element is blurred for the shot and focused
 * again after it (without scrolling).
 */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = screenshotPath(name);
  const focused = fullPage
    ? await page.evaluateHandle(() => {
      const a = document.activeElement;
      if (!a || a === document.body || a === document.documentElement) return null;
      a.blur();
      return a;
    })
    : null;
  try {
    await page.screenshot({ path: file, fullPage, animations: 'disabled' });
  } finally {
    if (focused) {
      await focused.evaluate((a) => a && a.isConnected && a.focus({ preventScroll: true })).catch(() => {});
      await focused.dispose();
    }
  }
  return file;
}

/** Removes build/screenshots/<name>.png if it is there (a stale failure's). */
export function removeScreenshot(name) {
  rmSync(screenshotPath(name), { force: true });
}

/**
 * The accessibility tree Chromium gives assistive technology for `page`, as
 * CDP Accessibility.getFullAXTree has it: its nodes not ignored, each as
 * {id, parent, children, role, name, description, props} (props: the node's
 * properties by name: level, invalid, focused...).
 */
export async function axTree(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    return nodes.filter((n) => !n.ignored).map((n) => ({
      id: n.nodeId,
      parent: n.parentId,
      children: n.childIds || [],
      role: n.role ? n.role.value : '',
      name: n.name ? String(n.name.value) : '',
      description: n.description ? String(n.description.value) : '',
      props: Object.fromEntries((n.properties || []).map((p) => [p.name, p.value && p.value.value])),
    }));
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/**
 * One server and one browser for the calling test file (started before its
 * tests, stopped after them), and browserIt: it() with a page opener, whose
 * pages are closed after the test; a failure saves a screenshot of the
 * first page, and no page may throw. Call it once, at the file's top level.
 * Options: server (startServer's options, e.g. {plans}), timeout (each
 * test's, default 120 s; browserIt's own option overrides it).
 * browserIt(name, fn, {timeout}) calls fn(openPage, t): openPage(contextOptions)
 * opens a page in a new context, t is node:test's context (t.skip...).
 * Returns {browserIt, server()}.
 */
/** A saved quote's page: /q/{id}, the id's group captured. */
export const QUOTE_PATH = /\/q\/(q_[0-9A-HJKMNP-TV-Z]{36})$/;

export function browserSuite({ server: serverOptions = {}, timeout: suiteTimeout = 120000 } = {}) {
  let server;
  let browser;
  const pages = new Set();
  before(async () => {
    server = await startServer(serverOptions);
    browser = await launchBrowser();
  });
  after(async () => {
    await closeAll();
    await stopAll();
  });
  afterEach(async () => {
    await Promise.all([...pages].map((p) => p.context().close().catch(() => {})));
    pages.clear();
  });
  function browserIt(name, fn, { timeout = suiteTimeout } = {}) {
    it(name, { timeout }, async (t) => {
      removeScreenshot(`FAILED-${name}`);
      const mine = [];
      const openPage = async (opts) => {
        const p = await newPage(browser, opts);
        pages.add(p);
        mine.push(p);
        return p;
      };
      try {
        await fn(openPage, t);
      } catch (e) {
        if (mine[0] && !mine[0].isClosed()) await screenshot(mine[0], `FAILED-${name}`).catch(() => {});
        // what the page threw often explains a timeout
        const thrown = mine.flatMap((p) => p.errors);
        if (thrown.length) e.message += `\nuncaught in the page: ${thrown.join(' | ')}`;
        throw e;
      }
      for (const p of mine) assert.deepEqual(p.errors, [], `uncaught errors on ${p.url()}`);
    });
  }
  /** Opens path `p` of the suite's server in `page`, once its script is ready. */
  async function goto(page, p = '/') {
    await page.goto(server.url + p);
    await page.waitForSelector('html.ready');
  }
  return { browserIt, goto, server: () => server };
}
