// 模拟测评 on the evaluator's phone: the evaluator signs in, finds the round's points on the
// start page, opens one, marks every item (one 不达标 with a note and a photo), submits, and the
// round shows the point done with its score rate. Called by tests/api/ui.rs:
// node evaluation.mjs BASE OUT_DIR PASSWORD PHOTO ROUND_ID
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
  await p.fill('#username', 'evaluator');
  await p.fill('#password', password);
  await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
  const home = await p.textContent('body');
  check(home.includes('模拟测评待测点位'), 'the start page lists the points to evaluate');
  await p.screenshot({ path: `${outDir}/evaluation-1-home.png`, fullPage: true });
  await Promise.all([p.waitForURL(/\/evaluations\/visits\//), p.click('a[href^="/evaluations/visits/"]')]);
  const items = await p.locator('fieldset.check-item').count();
  check(items >= 2, `a checklist of the point's type (${items} items)`);
  // Submitting a failure without its photo is refused and keeps the choices.
  for (let i = 0; i < items; i++) {
    await p.locator('fieldset.check-item').nth(i).locator(`input[value=${i === 0 ? 'fail' : 'pass'}]`).check();
  }
  await p.locator('fieldset.check-item').first().locator('input[name^=note_]').fill('路面有破损坑洼');
  await p.click('#checklist button[type=submit]');
  await p.waitForLoadState('load');
  check((await p.textContent('body')).includes('请拍照留证'), 'a failure without a photo is refused');
  check(await p.locator('fieldset.check-item').first().locator('input[value=fail]').isChecked(), 'the choice is kept');
  check(await p.locator('fieldset.check-item').first().locator('input[name^=note_]').inputValue() === '路面有破损坑洼', 'the note is kept');
  await p.locator('fieldset.check-item').first().locator('input[type=file]').setInputFiles(photo);
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the checklist fits the phone (${width}px)`);
  await p.screenshot({ path: `${outDir}/evaluation-2-checklist.png`, fullPage: true });
  await Promise.all([p.waitForURL(new RegExp(`/evaluations/${roundId}\\?ok=saved$`)), p.click('#checklist button[type=submit]')]);
  check((await p.textContent('#round-progress')).includes('已测评 1 /'), 'the point is done');
  check((await p.textContent('#my-visits')).includes('已测评'), 'and marked in the evaluator\'s list');
  await p.screenshot({ path: `${outDir}/evaluation-3-round.png`, fullPage: true });
  check(outside.length === 0, `no outside requests: ${outside.join(', ')}`);
  console.log('ui evaluation: ok');
} finally {
  await browser.close();
}
