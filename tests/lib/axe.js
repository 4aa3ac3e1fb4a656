'use strict';
// Accessibility audit of the page as it is now, with axe-core (npm; injected through the DevTools
// protocol, which the page's Content-Security-Policy does not govern).

const fs = require('node:fs');

let source = null;

/**
 * The serious and critical findings of axe-core's WCAG 2.x A/AA rules (and its best practices),
 * as lines "rule: help (elements)". Empty when there are none.
 */
async function audit(page) {
  source ??= fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(source);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })));
  return {
    serious: violations.filter((v) => ['serious', 'critical'].includes(v.impact))
      .map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 5).join(', ')})`),
    all: violations.map((v) => `${v.impact} ${v.id} (${v.nodes.length})`),
  };
}

module.exports = { audit };
