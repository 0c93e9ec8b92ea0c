// A window's 好差评 at phone width, end to end: a resident scans the window's QR page and rates
// 非常不满意 with two tags and a phone; the bank calls back and puts it on the ledger; the fix is
// made and passed; the resident reads the reply and rates the fix; the monthly ranking and the
// unit's 千分制 ledger show it. Then an anonymous 不满意 is appealed with evidence, the office
// upholds it, and the rating stays on record marked "不计入". Called by tests/api/ui.rs:
// node window.mjs BASE OUT_DIR PASSWORD PHOTO CODE UNIT_ID
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, outDir, password, photoPath, code, unitId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const photo = { name: 'evidence.jpg', mimeType: 'image/jpeg', buffer: readFileSync(photoPath) };
function check(cond, message) { if (!cond) throw new Error(message); }
const phoneSize = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const outside = [];
const watch = (p) => p.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url()); });
const fits = async (p, what) => {
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `${what} fits the phone (${width}px)`);
};

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

async function rate(level, tags, phone) {
  const ctx = await browser.newContext(phoneSize);
  const r = await ctx.newPage();
  watch(r);
  await r.goto(`${base}/rate/${code}`);
  check((await r.textContent('main')).includes('您对本次服务满意吗'), 'the QR page asks');
  check(await r.locator('fieldset.tags:visible').count() === 0, 'no tags before a level is chosen');
  await r.click(`label.level-${level}`);
  check(await r.locator('fieldset.tags:visible').count() === 1, "only the level's tags show");
  for (const t of tags) await r.click(`fieldset.tags:visible label:has-text("${t}")`);
  if (phone) await r.fill('#phone', phone);
  await fits(r, 'the rating page');
  return r;
}

try {
  // The resident: 非常不满意, two tags, a phone.
  const r = await rate(1, ['推诿扯皮', '等候太久'], '13912340000');
  await r.screenshot({ path: `${outDir}/window-1-rate.png`, fullPage: true });
  await Promise.all([r.waitForURL(/\/rate\/r\/[0-9a-f]{32}\?new=1$/), r.click('#rate-form button[type=submit]')]);
  const caseCode = (await r.textContent('.receipt-code')).trim();
  const link = await r.getAttribute('#private-link', 'href');
  check(/^C\d{12}$/.test(caseCode), `a case code: ${caseCode}`);
  check((await r.textContent('#case-stage')).includes('待回访'), 'waiting for the callback');
  await r.screenshot({ path: `${outDir}/window-2-receipt.png`, fullPage: true });

  // The bank: 差评工单 in the left menu, the callback, then the ledger.
  const bank = await staff('bank');
  await bank.goto(`${base}/rating-cases`);
  await Promise.all([bank.waitForURL(/\/rating-cases\/[0-9a-f-]{36}$/), bank.click(`a:has-text("${caseCode}")`)]);
  const caseUrl = bank.url();
  check((await bank.textContent('main')).includes('实名'), 'a real-name callback is due');
  await bank.check('#callback-form input[name=result][value=reached]');
  await bank.fill('#callback-form #note', '已电话致歉，评价人反映排队一小时');
  await Promise.all([bank.waitForURL(/\?ok=saved$/), bank.click('#callback-form button[type=submit]')]);
  await bank.fill('#resolve-form #finding', '高峰时段只开一个窗口');
  await bank.check('#resolve-form input[name=outcome][value=ledger]');
  await Promise.all([bank.waitForURL(/\?ok=saved$/), bank.click('#resolve-form button[type=submit]')]);
  check((await bank.textContent('#case-state')).includes('整改中'), 'on the ledger');
  await bank.screenshot({ path: `${outDir}/window-3-case.png`, fullPage: true });
  await fits(bank, 'the case page');
  await Promise.all([bank.waitForURL(/\/problems\/[0-9a-f-]{36}$/), bank.click('.props a[href^="/problems/"]')]);
  const problemUrl = bank.url();
  check((await bank.textContent('.props')).includes('窗口差评'), 'a problem of source 窗口差评');
  await Promise.all([bank.waitForURL(problemUrl), bank.click('form[action$="/act/acknowledge"] button')]);
  const fix = bank.locator('form[action$="/act/submit_fix"]');
  await fix.locator('input[name=note]').fill('高峰时段增开两个窗口');
  await fix.locator('input[name=photos]').setInputFiles(photo);
  await Promise.all([bank.waitForURL(problemUrl), fix.locator('button').click()]);
  const sup = await staff('supervisor');
  await sup.goto(problemUrl);
  await Promise.all([sup.waitForURL(problemUrl), sup.click('form[action$="/act/pass"] button.primary')]);

  // The resident reads the reply and rates the fix once.
  await r.goto(link);
  check((await r.textContent('#case-stage')).includes('已答复'), 'answered');
  check((await r.textContent('#case-reply')).includes('增开两个窗口'), 'the reply is the fix');
  await r.check('.feedback input[name=level][value="4"]');
  await r.fill('.feedback textarea[name=comment]', '中午也能很快办完了');
  await Promise.all([r.waitForURL(/\?ok=1$/), r.click('.feedback button[type=submit]')]);
  check((await r.textContent('#fix-level')).includes('满意'), 'the fix rating is kept');
  check((await r.textContent('#fix-comment')).includes('中午也能很快办完了'), 'with what the resident said');
  check(await r.locator('.feedback').count() === 0, 'and cannot be given twice');
  await r.screenshot({ path: `${outDir}/window-4-answered.png`, fullPage: true });

  // The office: the monthly ranking and the unit's 千分制 ledger.
  const admin = await staff('admin');
  await admin.goto(`${base}/windows/figures?by=unit`);
  const ranking = await admin.textContent('main');
  check(ranking.includes('中国工商银行沧州运河支行'), 'the unit is in the monthly ranking');
  await admin.screenshot({ path: `${outDir}/window-5-ranking.png`, fullPage: true });
  await admin.goto(`${base}/scores/window/${unitId}`);
  check((await admin.textContent('main')).includes('窗口服务'), "the 千分制 ledger shows the 窗口差评 problem");

  // An anonymous 不满意, appealed with evidence and upheld: kept, not counted.
  const r2 = await rate(2, ['态度生硬'], '');
  await Promise.all([r2.waitForURL(/\/rate\/r\/[0-9a-f]{32}\?new=1$/), r2.click('#rate-form button[type=submit]')]);
  const code2 = (await r2.textContent('.receipt-code')).trim();
  await bank.goto(`${base}/rating-cases`);
  await Promise.all([bank.waitForURL(/\/rating-cases\/[0-9a-f-]{36}$/), bank.click(`a:has-text("${code2}")`)]);
  const case2 = bank.url();
  await bank.fill('#appeal-form #reason', '监控显示评价时该窗口无人办理业务，系恶意差评');
  await bank.setInputFiles('#appeal-form #photos', photo);
  await Promise.all([bank.waitForURL(/\?ok=saved$/), bank.click('#appeal-form button[type=submit]')]);
  check((await bank.textContent('#case-state')).includes('申诉中'), 'appealed');
  await admin.goto(case2);
  await admin.check('#decide-form input[name=uphold][value=true]');
  await admin.fill('#decide-form #dnote', '监控证据充分，申诉成立');
  await Promise.all([admin.waitForURL(/\?ok=saved$/), admin.click('#decide-form button[type=submit]')]);
  check((await admin.textContent('#case-state')).includes('申诉成立'), 'upheld');
  await admin.goto(`${base}/ratings?bad=1&level=2`);
  check((await admin.textContent('main')).includes('申诉成立，不计入'), 'the rating stays on record, marked not counted');
  await admin.screenshot({ path: `${outDir}/window-6-ratings.png`, fullPage: true });
  check(outside.length === 0, `no outside requests: ${outside.join(', ')}`);
  console.log(`ui window: ok ${caseCode} ${code2}`);
} finally {
  await browser.close();
}
