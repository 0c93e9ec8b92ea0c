// Community work at phone width, end to end: a point lead files today's report with a photo;
// the community's page shows who has not reported; the week's summary is drafted from the
// records and submitted to the street; a volunteer registered by the community signs in and
// out of a Tuesday activity by its QR link and, once the organiser confirms, the hours appear
// in the community's figures; a resident's suggestion at a meeting is routed to a unit, the
// unit answers, and the answer shows on the public page. Called by tests/api/ui.rs:
// node community.mjs BASE OUT_DIR PASSWORD PHOTO POINT_CODE WEEKDAYS UNIT_ID
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';

const [base, outDir, password, photoPath, pointCode, weekdays, unitId] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
function check(cond, message) { if (!cond) throw new Error(message); }
const phoneSize = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
const outside = [];
const watch = (p) => p.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) outside.push(r.url()); });
const fits = async (p, what) => {
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `${what} fits the phone (${width}px)`);
};

async function staff(username) {
  const ctx = await browser.newContext(phoneSize);
  const p = await ctx.newPage();
  watch(p);
  await p.goto(`${base}/login`);
  await p.fill('#username', username);
  await p.fill('#password', password);
  await Promise.all([p.waitForURL(`${base}/`), p.click('button[type=submit]')]);
  return p;
}

try {
  // The point lead: today's report with a photo, in one form.
  const lead = await staff('lead');
  await lead.goto(`${base}/daily-reports`);
  const item = lead.locator(`details.daily-point[data-point="${pointCode}"]`);
  check((await item.locator('summary').textContent()).includes('今日未汇报'), 'the point is not reported yet');
  check(await lead.locator('details.daily-point').first().getAttribute('data-point') !== null, 'points are listed');
  await item.locator('summary').click();
  const form = item.locator('form.daily-form');
  await form.locator('textarea[name=done]').fill('清理卫生死角3处，劝导占道经营2起');
  await form.locator('textarea[name=help]').fill('路灯两盏不亮，需城管协调维修');
  await form.locator('input[name=photos]').setInputFiles({ name: 'scene.jpg', mimeType: 'image/jpeg', buffer: readFileSync(photoPath) });
  await Promise.all([lead.waitForURL(`${base}/daily-reports?ok=saved`), form.locator('button[type=submit]').click()]);
  check((await lead.locator(`details.daily-point[data-point="${pointCode}"] summary`).textContent()).includes('已汇报'), 'reported');
  await fits(lead, 'the daily report');
  await lead.screenshot({ path: `${outDir}/community-1-lead.png`, fullPage: false });

  // The community: who has not reported today.
  const grid = await staff('grid');
  await grid.goto(`${base}/daily-reports?state=missing`);
  const missing = Number(await grid.textContent('#missing-count'));
  check(missing > 0, `some points have not reported (${missing})`);
  check(await grid.locator('#daily-status tbody tr.missing').count() === missing, 'the list shows each missing point');
  check(await grid.locator(`#daily-status tr[data-point="${pointCode}"]`).count() === 0, 'the reported point is not missing');
  await fits(grid, 'the community status');
  await grid.screenshot({ path: `${outDir}/community-2-missing.png`, fullPage: false });

  // The week's summary: drafted from the reports and problems, edited, submitted.
  await grid.goto(`${base}/daily-reports/weekly`);
  await Promise.all([grid.waitForURL(/\/daily-reports\/weekly\/[0-9a-f-]{36}$/), grid.click('#week-rollup button:has-text("生成周汇总")')]);
  const draft = await grid.inputValue('#body');
  check(draft.includes('路灯两盏不亮') && draft.includes('汇报率'), 'drafted from the records');
  await grid.fill('#body', `${draft}1. 协调城管修复路灯；2. 组织志愿者清理楼道。`);
  await Promise.all([grid.waitForURL(/\?ok=saved$/), grid.click('#summary-form button[value=submit]')]);
  check((await grid.textContent('#summary-state')).includes('已报街道'), 'submitted to the street');
  await grid.screenshot({ path: `${outDir}/community-3-summary.png`, fullPage: false });

  // The community registers a volunteer and sets up a Tuesday activity (and today's, to sign now).
  await grid.goto(`${base}/volunteers`);
  await grid.click('#roster summary');
  await grid.fill('#new-volunteer input[name=name]', '刘桂芳');
  await grid.fill('#new-volunteer input[name=phone]', '13911112222');
  await Promise.all([grid.waitForURL(/ok=created/), grid.click('#new-volunteer button[type=submit]')]);
  await grid.click('#activities summary');
  await grid.fill('#new-activity input[name=title]', '学雷锋便民服务');
  await grid.fill('#new-activity input[name=weekdays]', weekdays);
  await grid.fill('#new-activity input[name=starts_at]', '00:00');
  await grid.fill('#new-activity input[name=ends_at]', '23:59');
  await grid.fill('#new-activity input[name=first_day]', '2026-01-01');
  await grid.fill('#new-activity input[name=last_day]', '2030-12-31');
  await Promise.all([grid.waitForURL(/\/volunteers\/activities\/[0-9a-f-]{36}\?ok=created$/), grid.click('#new-activity button[type=submit]')]);
  check(await grid.locator('#sign-qr svg').count() === 1, 'the QR code for today is shown');
  const signUrl = await grid.getAttribute('#sign-url', 'href');
  await fits(grid, 'the activity page');
  await grid.screenshot({ path: `${outDir}/community-4-qr.png`, fullPage: false });

  // The volunteer scans the QR: sign in; a second scan at once (a double tap) is not a sign-out;
  // past the repeat window (2 s in this test's configuration, 5 minutes by default) it is.
  const vctx = await browser.newContext(phoneSize);
  const v = await vctx.newPage();
  watch(v);
  await v.goto(signUrl);
  await v.fill('#name', '刘桂芳');
  await v.fill('#phone', '13911112222');
  await v.click('#serve-form button[type=submit]');
  await v.waitForSelector('#serve-message');
  check((await v.textContent('#serve-message')).includes('签到成功！'), 'signed in');
  await v.fill('#name', '刘桂芳');
  await v.fill('#phone', '13911112222');
  await v.click('#serve-form button[type=submit]');
  await v.waitForFunction(() => document.getElementById('serve-message')?.textContent.includes('再次扫码不算签退'));
  check((await v.textContent('#serve-message')).includes('签到成功，活动结束时再扫码签退'), 'a double tap is not a sign-out');
  await v.waitForTimeout(2500);
  await v.fill('#name', '刘桂芳');
  await v.fill('#phone', '13911112222');
  await v.click('#serve-form button[type=submit]');
  await v.waitForFunction(() => document.getElementById('serve-message')?.textContent.includes('签退成功'));
  check((await v.textContent('#serve-message')).includes('签退成功'), 'signed out');
  await fits(v, 'the sign-in page');
  await v.screenshot({ path: `${outDir}/community-5-volunteer.png`, fullPage: false });

  // The organiser confirms 90 minutes; the community's figures show 1.5 hours.
  await grid.reload();
  const row = grid.locator('#service-records tr[data-volunteer="刘桂芳"]');
  await row.locator('input[name=minutes]').fill('90');
  await Promise.all([grid.waitForURL(/ok=saved/), row.locator('button:has-text("确认时长")').click()]);
  await grid.goto(`${base}/volunteers`);
  const community = await grid.locator('#volunteer-figures tbody tr').filter({ has: grid.locator('td.hours:text-is("1.5")') }).count();
  check(community === 1, 'the hours are in the community figures');
  await grid.screenshot({ path: `${outDir}/community-6-figures.png`, fullPage: false });

  // A residents' meeting: a suggestion routed to a unit.
  await grid.goto(`${base}/deliberation`);
  await grid.click("details:has(#new-meeting) > summary");
  await grid.fill('#new-meeting input[name=held_on]', '2026-12-01');
  await grid.fill('#new-meeting input[name=place]', '金狮社区居民议事亭');
  await grid.fill('#new-meeting input[name=topic]', '小区环境和停车秩序');
  await grid.fill('#new-meeting input[name=residents]', '23');
  await Promise.all([grid.waitForURL(/\/deliberation\/meetings\/[0-9a-f-]{36}\?ok=created$/), grid.click('#new-meeting button[type=submit]')]);
  await grid.fill('#new-suggestion textarea[name=content]', '小区门口路灯不亮，晚上出行不便');
  await grid.fill('#new-suggestion input[name=raised_by]', '张师傅');
  await Promise.all([grid.waitForURL(/ok=created/), grid.click('#new-suggestion button[type=submit]')]);
  const handle = grid.locator('form.handle-form').first();
  await handle.locator('select[name=unit_id]').selectOption(unitId);
  const due = new Date(Date.now() + 7 * 86400000).toISOString().slice(0, 10);
  await handle.locator('input[name=due_on]').fill(due);
  await Promise.all([grid.waitForURL(/ok=saved/), handle.locator('button[value=route]').click()]);
  check((await grid.textContent('#suggestion-list')).includes('已转单位办理'), 'routed to the unit');
  await fits(grid, 'the meeting page');
  await grid.screenshot({ path: `${outDir}/community-7-meeting.png`, fullPage: false });

  // The unit answers it from its own list.
  const unit = await staff('unit');
  await unit.goto(`${base}/deliberation`);
  const task = unit.locator('form.handle-form').first();
  await task.locator('textarea[name=answer]').fill('已安排维修班组，三天内修复路灯');
  await Promise.all([unit.waitForURL(/ok=saved/), task.locator('button[value=answer]').click()]);
  await unit.screenshot({ path: `${outDir}/community-8-unit.png`, fullPage: false });

  // The public page shows the answer, never the resident's name.
  const pctx = await browser.newContext(phoneSize);
  const pub = await pctx.newPage();
  watch(pub);
  await pub.goto(`${base}/public/deliberation`);
  const text = await pub.textContent('#suggestions');
  check(text.includes('已安排维修班组，三天内修复路灯') && text.includes('小区门口路灯不亮'), 'the answer is public');
  check(!text.includes('张师傅'), 'the resident is not named');
  await fits(pub, 'the public page');
  await pub.screenshot({ path: `${outDir}/community-9-public.png`, fullPage: false });
  check(outside.length === 0, `no request left the server: ${outside.join(', ')}`);
  console.log('ui community: ok');
} finally {
  await browser.close();
}
