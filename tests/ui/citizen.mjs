// A resident's report at phone width, end to end: 随手拍 with the phone's position and a photo,
// the grid worker verifies it from the 市民反映 queue, the unit acknowledges and fixes it, the
// supervisor closes it, the resident sees it closed on the private link and answers "没有解决",
// and the problem is back in the unit's list as rework; the public page shows it without the
// resident's name or phone. Called by tests/api/ui.rs:
// node citizen.mjs BASE OUT_DIR PASSWORD PHOTO_DIR LNG LAT UNIT_USER
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, outDir, password, photoDir, lng, lat, unitUser] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const photo = (n) => ({ name: `scene${n}.jpg`, mimeType: 'image/jpeg', buffer: readFileSync(`${photoDir}/photo${n}.jpg`) });
function check(cond, message) { if (!cond) throw new Error(message); }
const phoneSize = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const outside = [];
const watch = (p) => p.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) outside.push(r.url()); });

async function staff(username) {
  const ctx = await browser.newContext(phoneSize);
  const p = await ctx.newPage();
  watch(p);
  p.on('dialog', (d) => d.accept());
  await p.goto(`${base}/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
  return p;
}

try {
  // The resident: position from the phone, a category found by a word, a photo, a phone number.
  const resident = await browser.newContext({ ...phoneSize, geolocation: { longitude: Number(lng), latitude: Number(lat) }, permissions: ['geolocation'] });
  const r = await resident.newPage();
  watch(r);
  await r.goto(`${base}/public/report`);
  await r.click('#locate');
  await r.waitForFunction(() => document.getElementById('lat').value !== '');
  check(Math.abs(Number(await r.inputValue('#lat')) - Number(lat)) < 0.0001, 'the phone position is taken');
  // Everyday words find the standard's items: 厕所 is 公厕, 遛狗 is 文明养犬.
  for (const [word, item] of [['厕所', '公厕'], ['遛狗', '文明养犬'], ['乱停车', '车辆停放'], ['摆摊', '占道经营']]) {
    await r.fill('#category-search', word);
    const found = await r.locator('.category-hits').innerText();
    check(found.includes(item), `searching ${word} offers ${item}: ${found}`);
  }
  await r.fill('#category-search', '垃圾');
  await r.locator('.category-hits button').first().click();
  check(await r.inputValue('#service_code'), 'a category is chosen from the search');
  await r.fill('#description', '人行道上堆着装修垃圾，没人清理');
  await r.setInputFiles('#photos', photo(1));
  await r.fill('#name', '李阿姨');
  // A mistyped phone: the form comes back with the reason and what was typed, and still works.
  await r.fill('#phone', '12345');
  await Promise.all([r.waitForURL(`${base}/public/report`), r.click('#report-form button[type=submit]')]);
  check((await r.textContent('.flash.err')).includes('手机号应为11位'), 'the mistyped phone is refused in Chinese');
  check((await r.inputValue('#description')).includes('装修垃圾'), 'what was typed is kept');
  await r.fill('#category-search', '垃圾');
  check(await r.locator('.category-hits button').count(), 'the search still works after a refusal');
  await r.fill('#category-search', '');
  await r.setInputFiles('#photos', photo(1));
  await r.fill('#phone', '13912345678');
  await r.screenshot({ path: `${outDir}/citizen-1-report.png`, fullPage: true });
  // Filed: the private status page opens with the receipt (a reload or Back keeps it).
  await Promise.all([r.waitForURL(/\/public\/s\/[0-9a-f]{32}\?new=1$/), r.click('#report-form button[type=submit]')]);
  const code = (await r.textContent('.receipt-code')).trim();
  const link = await r.getAttribute('#private-link', 'href');
  check(/^R\d{12}$/.test(code), `a receipt code: ${code}`);
  await r.screenshot({ path: `${outDir}/citizen-2-receipt.png`, fullPage: true });
  await r.reload();
  check((await r.textContent('.receipt-code')).trim() === code, 'the receipt survives a reload');
  const width = await r.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `the receipt fits the phone (${width}px)`);

  // The grid worker verifies it from the queue (left menu → 市民反映).
  const grid = await staff('grid');
  await grid.goto(`${base}/reports`);
  await Promise.all([grid.waitForURL(/\/reports\/[0-9a-f-]{36}$/), grid.click(`a:has-text("${code}")`)]);
  check((await grid.textContent('main')).includes('139****5678'), 'staff see the phone masked');
  await grid.screenshot({ path: `${outDir}/citizen-3-triage.png`, fullPage: true });
  await Promise.all([grid.waitForURL(/\/problems\/[0-9a-f-]{36}$/), grid.click('form[action$="/verify"] button')]);
  const problemUrl = grid.url();
  check((await grid.textContent('.props')).includes('市民上报'), 'filed as 市民上报');

  // The unit: 收到, then the fix with a photo; the supervisor closes it.
  const unit = await staff(unitUser);
  await unit.goto(problemUrl);
  await Promise.all([unit.waitForURL(problemUrl), unit.click('form[action$="/act/acknowledge"] button')]);
  const fix = unit.locator('form[action$="/act/submit_fix"]');
  await fix.locator('input[name=note]').fill('已清运装修垃圾');
  await fix.locator('input[name=photos]').setInputFiles(photo(2));
  await Promise.all([unit.waitForURL(problemUrl), fix.locator('button').click()]);
  const sup = await staff('supervisor');
  await sup.goto(problemUrl);
  await Promise.all([sup.waitForURL(problemUrl), sup.click('form[action$="/act/pass"] button.primary')]);
  check((await sup.textContent('.props')).includes('已销号'), 'closed');

  // The resident sees it closed with the unit's reply, and answers 没有解决 / 不满意.
  await r.goto(link);
  const closed = await r.textContent('main');
  check(closed.includes('已核查办结') && closed.includes('已清运装修垃圾'), 'the status page shows the close and the reply');
  check(await r.locator('img[alt="整改后照片"]').count(), 'and the after-photo');
  await r.screenshot({ path: `${outDir}/citizen-4-closed.png`, fullPage: true });
  await r.check('input[name=fixed][value=false]');
  await r.check('input[name=satisfaction][value="2"]');
  await r.fill('#note', '第二天又堆上了');
  await Promise.all([r.waitForURL(/\?ok=reopened$/), r.click('.feedback button[type=submit]')]);
  check((await r.textContent('main')).includes('重新整改'), 'told it went back to the unit');
  await r.screenshot({ path: `${outDir}/citizen-5-reopened.png`, fullPage: true });

  // Back in the unit's list as rework (返工), waiting for 收到 again.
  await unit.goto(`${base}/problems`);
  const row = unit.locator('tr', { hasText: '人行道上堆着装修垃圾' }).first();
  check(await row.count(), "the problem is in the unit's list");
  const rowText = await row.textContent();
  check(rowText.includes('待签收') && rowText.includes('返工'), `as rework waiting for 收到: ${rowText}`);
  await unit.screenshot({ path: `${outDir}/citizen-6-unit-list.png`, fullPage: true });

  // The public page: the report with its state, never the resident's name or phone.
  const anyone = await (await browser.newContext(phoneSize)).newPage();
  watch(anyone);
  await anyone.goto(`${base}/public`);
  const publicText = await anyone.textContent('main');
  check(publicText.includes(code), 'the public page lists the report');
  check(!publicText.includes('李阿姨') && !publicText.includes('13912345678') && !publicText.includes('5678'), 'no personal data');
  await anyone.screenshot({ path: `${outDir}/citizen-7-public.png`, fullPage: true });
  check(outside.length === 0, `no outside requests: ${outside.join(', ')}`);
  console.log(`ui citizen: ok ${code}`);
} finally {
  await browser.close();
}
