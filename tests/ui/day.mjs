// One day per role at phone width, through the start pages only (no typed addresses after
// signing in): the supervisor files from today's round, the lead acknowledges and fixes from its
// start page, the office approves an extension from its queue, the supervisor re-checks from its
// start page, the discipline office reads the problem's audit entries in Chinese. Then the
// dashboard and the big screen, and a filing made with the network cut, which arrives once when
// the network returns. Called by tests/api/ui.rs: node day.mjs BASE OUT_DIR PASSWORD PHOTO_DIR.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, outDir, password, photoDir] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const photo = (n) => ({ name: `scene${n}.jpg`, mimeType: 'image/jpeg', buffer: readFileSync(`${photoDir}/photo${n}.jpg`) });
function check(cond, message) { if (!cond) throw new Error(message); }
const phoneSize = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const outside = [];

async function phone(username) {
  const ctx = await browser.newContext(phoneSize);
  const p = await ctx.newPage();
  p.on('dialog', (d) => d.accept());
  p.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) outside.push(r.url()); });
  await p.goto(`${base}/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
  return { ctx, p };
}
const LEAD_UNIT = '运河区城市管理综合行政执法局';

async function fileFromRound(p, description, n) {
  // Today's round on the start page: a point of the lead's unit not yet inspected today.
  let link = p.locator('#todo-round li', { hasText: LEAD_UNIT }).locator('a.todo-main').first();
  if (!(await link.count())) {
    await Promise.all([p.waitForURL(/\/rounds/), p.click('#todo-round a.more')]);
    link = p.locator('tr, li', { hasText: LEAD_UNIT }).locator('a[href^="/problems/new?point_id="]').first();
  }
  await Promise.all([p.waitForURL(/\/problems\/new\?point_id=/), link.click()]);
  const options = await p.locator('#standard_item_id option').allTextContents();
  await p.selectOption('#standard_item_id', { index: Math.max(1, options.findIndex((o) => o.includes('暴露垃圾'))) });
  await p.fill('#description', description);
  await p.setInputFiles('#photos', photo(n));
  await Promise.all([p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), p.click('form.stack button[type=submit]')]);
  check((await p.textContent('.props')).includes('待签收'), `filed and dispatched: ${description}`);
  return (await p.title()).split(' ')[1];
}

try {
  // 07:00 the supervisor's round.
  const sup = await phone('supervisor');
  check(await sup.p.isVisible('#todo-round'), "the supervisor's start page holds today's round");
  await sup.p.screenshot({ path: `${outDir}/day-1-supervisor-start.png`, fullPage: true });
  const first = await fileFromRound(sup.p, '人行道绿化带积存垃圾', 1);
  await Promise.all([sup.p.waitForURL(`${base}/`), sup.p.click('.bottombar a:has-text("待办")')]);
  const second = await fileFromRound(sup.p, '路口垃圾桶满溢', 2);

  // The lead: 收到 with one tap, then the fix for one and an extension request for the other.
  const lead = await phone('lead');
  await lead.p.screenshot({ path: `${outDir}/day-2-lead-start.png`, fullPage: true });
  for (const title of [first, second]) {
    const item = lead.p.locator('#todo-to_acknowledge li', { hasText: title }).first();
    check(await item.count(), `${title} waits for 收到 on the lead's start page`);
    await Promise.all([lead.p.waitForURL(`${base}/`), item.locator('button:has-text("收到")').click()]);
  }
  const due = (title) => lead.p.locator('#todo-due_today li, #todo-overdue li, #todo-in_hand li', { hasText: title }).locator('a.todo-main').first();
  await Promise.all([lead.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), due(first).click()]);
  const fix = lead.p.locator('form[action$="/act/submit_fix"]');
  await fix.locator('input[name=note]').fill('已清理干净');
  await fix.locator('input[name=photos]').setInputFiles(photo(3));
  await Promise.all([lead.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), fix.locator('button').click()]);
  check((await lead.p.textContent('.props')).includes('待核查'), 'the fix is submitted');
  await Promise.all([lead.p.waitForURL(`${base}/`), lead.p.click('.bottombar a:has-text("待办")')]);
  await Promise.all([lead.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), due(second).click()]);
  const ext = lead.p.locator('form[action$="/act/request_extension"]');
  await ext.locator('input[name=days]').fill('2');
  await ext.locator('input[name=reason]').fill('需环卫车辆统一清运');
  await Promise.all([lead.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), ext.locator('button').click()]);
  check((await lead.p.textContent('.props')).includes('延期待审批'), 'the extension is requested');

  // The office approves the extension from its queue.
  const office = await phone('admin');
  const req = office.p.locator('#todo-requests li', { hasText: '需环卫车辆统一清运' }).first();
  check(await req.count(), "the request is in the office's queue");
  await office.p.screenshot({ path: `${outDir}/day-3-office-start.png`, fullPage: true });
  await Promise.all([office.p.waitForURL(`${base}/`), req.locator('button:has-text("批准延期")').click()]);
  check(!(await office.p.locator('#todo-requests li', { hasText: '需环卫车辆统一清运' }).count()), 'decided and gone from the queue');

  // 17:00 the supervisor re-checks from the start page.
  await Promise.all([sup.p.waitForURL(`${base}/`), sup.p.click('.bottombar a:has-text("待办")')]);
  const recheck = sup.p.locator('#todo-recheck li', { hasText: first }).first();
  check(await recheck.count(), 'the fix waits for the re-check on the start page');
  check(await recheck.locator('img.todo-thumb').count(), 'with its after-photo');
  await sup.p.screenshot({ path: `${outDir}/day-4-supervisor-recheck.png`, fullPage: true });
  await Promise.all([sup.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), recheck.locator('a.todo-main').click()]);
  // One re-check form: one photo picker, and the two outcomes as its buttons. Failing without a
  // reason is refused and keeps nothing; passing keeps the supervisor's photo.
  check((await sup.p.locator('#recheck-form input[type=file]').count()) === 1 && (await sup.p.locator('input[type=file]').count()) === 1, 'one photo picker for the re-check');
  await sup.p.locator('#recheck-form input[name=photos]').setInputFiles(photo(5));
  await Promise.all([sup.p.waitForURL(/\/act\/fail$/), sup.p.click('#recheck-form button[formaction$="/act/fail"]')]);
  check((await sup.p.textContent('main')).includes('理由'), 'failing asks for the reason');
  check((await sup.p.textContent('main')).includes('刚才选择的1张照片未保存，请重新选择'), 'and says the photo must be chosen again');
  check(!(await sup.p.locator('#recheck-photos').count()), 'the refused re-check kept no photo');
  await sup.p.screenshot({ path: `${outDir}/day-4b-recheck-refused.png`, fullPage: true });
  await sup.p.locator('#recheck-form input[name=photos]').setInputFiles(photo(5));
  await Promise.all([sup.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), sup.p.click('#recheck-form button.primary')]);
  check((await sup.p.textContent('.props')).includes('已销号'), 'closed');
  check((await sup.p.locator('#recheck-photos img').count()) === 1, 'the re-check photo is kept');

  // The discipline office reads that problem's audit entries, in Chinese.
  const dis = await phone('discipline');
  await dis.p.screenshot({ path: `${outDir}/day-5-discipline-start.png`, fullPage: true });
  await Promise.all([dis.p.waitForURL(/\/problems/), dis.p.click('.bottombar a:has-text("台账")')]);
  await dis.p.fill('input[name=q]', first);
  await Promise.all([dis.p.waitForURL(/q=/), dis.p.click('form.filters button[type=submit]')]);
  await Promise.all([dis.p.waitForURL(/\/problems\/[0-9a-f-]{36}$/), dis.p.click(`a:has-text("${first}") >> nth=0`)]);
  await Promise.all([dis.p.waitForURL(/\/audit\?object_id=/), dis.p.click('#audit-link')]);
  const audit = await dis.p.textContent('main');
  for (const words of ['核查通过', '收到', '提交整改', '登记']) check(audit.includes(words), `the audit says ${words}`);
  check(!/\b(acknowledged|submitted|closed|dispatched|state)\b/.test(audit), 'no English codes in the audit log');
  check(!/\b1[78]\d{11}\b/.test(audit), 'no epoch milliseconds in the audit log');
  await dis.p.screenshot({ path: `${outDir}/day-6-discipline-audit.png`, fullPage: true });

  // The office's dashboard at a desk, and the big screen.
  const desk = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const d = await desk.newPage();
  await d.goto(`${base}/login`);
  await d.fill('#username', 'admin');
  await d.fill('#password', password);
  await Promise.all([d.waitForURL(`${base}/`), d.click('button[type=submit]')]);
  await Promise.all([d.waitForURL(/\/dashboard/), d.click('#sidemenu a:has-text("数据看板")')]);
  await d.waitForSelector('#chart-trend canvas');
  await d.waitForSelector('#dash-map .leaflet-heatmap-layer, #dash-map canvas');
  await d.screenshot({ path: `${outDir}/dashboard.png`, fullPage: true });
  // A figure opens its records: the first recurring category.
  const cat = d.locator('.dash-cats table a').first();
  const name = await cat.textContent();
  await Promise.all([d.waitForURL(/\/problems\?/), cat.click()]);
  check((await d.textContent('main')).includes(`问题类别：${name}`), 'the category opens its problems');
  const screenCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, storageState: await desk.storageState() });
  const s = await screenCtx.newPage();
  await s.goto(`${base}/dashboard`);
  await Promise.all([s.waitForURL(/\/dashboard\/screen/), s.click('a:has-text("大屏模式")').then(() => null)]).catch(() => {});
  if (!s.url().includes('/dashboard/screen')) {
    const [popup] = await Promise.all([screenCtx.waitForEvent('page'), s.click('a:has-text("大屏模式")')]);
    await popup.waitForLoadState();
    await popup.setViewportSize({ width: 1920, height: 1080 });
    await popup.waitForSelector('#chart-trend canvas');
    await popup.screenshot({ path: `${outDir}/big-screen.png` });
  } else {
    await s.waitForSelector('#chart-trend canvas');
    await s.screenshot({ path: `${outDir}/big-screen.png` });
  }

  // Offline: the supervisor opens the filing page, the signal goes, the filing is kept on the
  // phone; the signal returns and it arrives, once.
  await Promise.all([sup.p.waitForURL(`${base}/`), sup.p.click('.bottombar a:has-text("待办")')]);
  await sup.p.waitForFunction(() => navigator.serviceWorker && navigator.serviceWorker.controller);
  const link = sup.p.locator('#todo-round li a.todo-main').first();
  await Promise.all([sup.p.waitForURL(/\/problems\/new\?point_id=/), link.click()]);
  await sup.p.waitForFunction(() => navigator.serviceWorker.controller);
  // The signal goes: every request of the phone fails, the service worker's included.
  await sup.ctx.setOffline(true);
  await sup.ctx.route('**/*', (route) => route.abort('internetdisconnected'));
  const options = await sup.p.locator('#standard_item_id option').allTextContents();
  await sup.p.selectOption('#standard_item_id', { index: Math.max(1, options.findIndex((o) => o.includes('暴露垃圾'))) });
  await sup.p.fill('#description', '地下车库入口积存垃圾（离线登记）');
  await sup.p.setInputFiles('#photos', photo(4));
  await sup.p.click('form.stack button[type=submit]');
  await sup.p.waitForSelector('text=已保存在本机');
  await sup.p.waitForSelector('#offline-drafts li');
  await sup.p.screenshot({ path: `${outDir}/offline-kept.png`, fullPage: true });
  const ledger = async () => { await d.goto(`${base}/problems?q=${encodeURIComponent('地下车库入口积存垃圾')}`); return d.textContent('main'); };
  check(!(await ledger()).includes('离线登记'), 'nothing arrives while the signal is gone');
  // The signal returns; the phone sends what it kept (at once when the page hears it, or when
  // the person taps 立即发送).
  await sup.ctx.unroute('**/*');
  await sup.ctx.setOffline(false);
  const now = sup.p.locator('[data-flush]');
  if (await now.count()) { await now.click(); }
  await sup.p.waitForSelector('text=已发送 1 条离线记录', { timeout: 30000 });
  check((await ledger()).includes('离线登记'), 'the offline filing is in the ledger');
  await sup.p.screenshot({ path: `${outDir}/offline-sent.png`, fullPage: true });

  check(outside.length === 0, `pages requested outside resources: ${outside.join(', ')}`);
  console.log(`ui day: ok ${first} ${second}`);
} catch (e) {
  console.error(`ui day failed: ${e.stack || e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
