// 互评互查 on the inspector's phone: the bank's user opens the round from the left menu, takes
// one of its points, scores every item (one failure with a note and a photo) and submits; the
// round shows the point done and ranked. Called by tests/api/ui.rs:
// node mutual.mjs BASE OUT_DIR PASSWORD PHOTO ROUND_ID
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, outDir, password, photoPath, roundId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
function check(cond, message) { if (!cond) throw new Error(message); }
const photo = { name: 'finding.jpg', mimeType: 'image/jpeg', buffer: readFileSync(photoPath) };
try {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p = await ctx.newPage();
  const outside = [];
  p.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });
  await p.goto(`${base}/login`);
  await p.fill('#username', 'bank');
  await p.fill('#password', password);
  await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
  await p.goto(`${base}/mutual`);
  await Promise.all([p.waitForURL(`${base}/mutual/${roundId}`), p.click(`a[href="/mutual/${roundId}"]`)]);
  await Promise.all([p.waitForURL(/\/mutual\/tasks\//), p.click('.task-list a')]);
  const items = await p.locator('fieldset.check-item').count();
  check(items >= 2, `a checklist of the point's type (${items} items)`);
  for (let i = 0; i < items; i++) {
    const fs = p.locator('fieldset.check-item').nth(i);
    await fs.locator(`input[value=${i === 0 ? 'fail' : 'pass'}]`).check();
  }
  const first = p.locator('fieldset.check-item').first();
  await first.locator('input[name^=note_]').fill('门口台阶破损未修复');
  await first.locator('input[type=file]').setInputFiles(photo);
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the checklist fits the phone (${width}px)`);
  await p.screenshot({ path: `${outDir}/mutual-1-checklist.png`, fullPage: true });
  await Promise.all([p.waitForURL(new RegExp(`/mutual/${roundId}\\?ok=saved$`)), p.click('#checklist button[type=submit]')]);
  check((await p.textContent('#round-progress')).includes('已检查 1 /'), 'the point is done');
  check(await p.locator('#ranking tbody tr').count() === 1, 'and ranked');
  await p.screenshot({ path: `${outDir}/mutual-2-round.png`, fullPage: true });
  check(outside.length === 0, `no outside requests: ${outside.join(', ')}`);
  console.log('ui mutual: ok');
} finally {
  await browser.close();
}
