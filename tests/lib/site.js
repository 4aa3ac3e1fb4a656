'use strict';
// A page of the built site in headless Chromium with its own profile, for tests that drive the
// page directly (clicks, several tabs, IndexedDB) rather than through tests/process-headless.

const fs = require('node:fs');
const path = require('node:path');
const { startHost } = require('./host');
const { launchBrowser, forwardPageLog } = require('./browser');
const { outDir } = require('./run-headless');

/** Starts the host and a browser, opens the page (URL + `query`), closes all after test `t`. */
async function openSite(t, root, query = '') {
  const host = await startHost(root);
  const browser = await launchBrowser();
  const dir = outDir(`site-${t.name.replace(/\W+/g, '-').slice(0, 40)}`);
  const logFd = fs.openSync(path.join(dir, 'browser.log'), 'w');
  forwardPageLog(browser.page, (line) => fs.writeSync(logFd, `${line}\n`));
  t.after(async () => {
    await browser.close();
    await host.stop();
    fs.closeSync(logFd);
  });
  const url = `${host.url}${query}`;
  const open = async (page) => {
    await page.goto(url, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: 120000 });
  };
  await open(browser.page);
  return { browser, page: browser.page, open, dir };
}

const state = (page) => page.evaluate(() => document.body.dataset.state);
const reframe = (page, key) => page.evaluate((k) => (window.__reframe || {})[k] || null, key);

/** Waits for the job to end; fails with the page's error when it ends in error. */
async function finishJob(page, assert, timeout = 600000) {
  await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout });
  assert.equal(await state(page), 'done', JSON.stringify(await reframe(page, 'error')));
  return reframe(page, 'summary');
}

module.exports = { openSite, state, reframe, finishJob };
