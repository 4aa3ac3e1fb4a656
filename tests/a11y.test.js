'use strict';
// Keyboard-only use and screen readers (issue 19): an automated audit (axe-core) of the page in
// light and dark mode and in a phone-sized window finds nothing serious; every control is
// reached with Tab in reading order and shows where the focus is; the file chooser opens from the
// keyboard; progress is announced (an ARIA live region). The editor's states are audited in
// editor.test.js. Screenshots: tests/artifacts/page-{light,dark,phone}.png.
//
// Run: tests/run-e2e tests/a11y.test.js

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const { REPO_ROOT, ensureSite } = require('./lib/suite');
const { openSite } = require('./lib/site');
const { audit } = require('./lib/axe');

const ARTIFACTS = path.join(REPO_ROOT, 'tests/artifacts');

test('accessibility: no serious audit findings (light, dark, phone); Tab reaches every control in order with a visible focus; the file chooser opens from the keyboard', { timeout: 5 * 60 * 1000 }, async (t) => {
  await ensureSite('a11y');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const { page } = await openSite(t, REPO_ROOT);
  // File choosers the page opens (listening from the start: Playwright turns the interception on
  // asynchronously, so a listener added at the key press may miss it).
  const choosers = [];
  page.on('filechooser', (c) => choosers.push(c));

  // The audit sees what it should: a button without a name is a serious finding.
  await page.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<button id="nameless"></button>'));
  const planted = await audit(page);
  assert.ok(planted.serious.some((f) => f.startsWith('button-name') && f.includes('#nameless')), JSON.stringify(planted));
  await page.evaluate(() => document.getElementById('nameless').remove());

  for (const [name, setup] of [
    ['light', async () => {}],
    ['dark', async () => page.emulateMedia({ colorScheme: 'dark' })],
    ['phone', async () => {
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width: 390, height: 844 });
    }],
  ]) {
    await setup();
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(ARTIFACTS, `page-${name}.png`), fullPage: true });
    const found = await audit(page);
    assert.deepEqual(found.serious, [], `${name}: serious findings`);
    t.diagnostic(`${name}: ${found.all.length ? found.all.join('; ') : 'no findings'}`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  // Tab from the top: each stop is a visible control, with a focus ring, in document order.
  await page.evaluate(() => document.activeElement?.blur());
  const stops = [];
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      // A visually hidden file input shows its focus on its label.
      const seen = el.type === 'file' && el.classList.contains('visually-hidden') ? el.labels[0] : el;
      const style = getComputedStyle(seen);
      const r = seen.getBoundingClientRect();
      return {
        id: el.id || `${el.tagName.toLowerCase()}${el.value ? `[${el.value}]` : ''}`,
        ring: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none',
        shown: r.width > 0 && r.height > 0,
        focusVisible: el.matches(':focus-visible'),
      };
    });
    if (!stop || stops.some((s) => s.id === stop.id)) break;
    stops.push(stop);
  }
  const ids = stops.map((s) => s.id);
  t.diagnostic(`tab order: ${ids.join(' > ')}`);
  for (const want of ['file-input', 'ratio', 'mode', 'model', 'profile']) {
    assert.ok(ids.includes(want), `${want} is reached with Tab: ${ids.join(' > ')}`);
  }
  assert.ok(ids.indexOf('file-input') < ids.indexOf('ratio') && ids.indexOf('ratio') < ids.indexOf('mode'), 'reading order');
  for (const s of stops) {
    assert.ok(s.shown && s.focusVisible && s.ring, `visible focus on ${s.id}: ${JSON.stringify(s)}`);
  }
  // The file chooser opens from the keyboard (its focus ring on the label: screenshot).
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'file-input');
  await page.locator('#drop-zone').screenshot({ path: path.join(ARTIFACTS, 'page-focus.png') });
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => true); // a round trip: the chooser event arrives before the next
  for (let i = 0; i < 100 && !choosers.length; i++) await page.waitForTimeout(100);
  assert.equal(choosers.length, 1, 'Enter on "Choose files" opens the file chooser');
  assert.ok(choosers[0].isMultiple(), 'several files at once (a queue)');
  // Progress is announced politely; errors at once.
  assert.equal(await page.getAttribute('#progress-panel', 'aria-live'), 'polite');
  assert.equal(await page.getAttribute('#error', 'role'), 'alert');
});
