// Browser test: a real Chromium drives the real server. Called by tests/api/ui.rs with the
// server's base URL and a folder for screenshots. Exits non-zero with a message on failure.
import { chromium } from 'playwright-core';

const [base, outDir, password] = process.argv.slice(2);
if (!base || !outDir || !password) {
  console.error('usage: node smoke.mjs BASE_URL OUT_DIR PASSWORD');
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

function check(cond, message) {
  if (!cond) throw new Error(message);
}

async function login(page, username) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')]);
}

const outside = [];
function watchRequests(page) {
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) outside.push(r.url());
  });
}

try {
  // Phone width: a supervisor opens the menu and finds the units.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p = await phone.newPage();
  watchRequests(p);
  await login(p, 'supervisor');
  check(await p.isVisible('.menu-toggle'), 'the menu button shows at phone width');
  check(await p.isVisible('.bottombar'), 'the bottom bar shows at phone width');
  const bar = await p.locator('.bottombar a').allTextContents();
  check(bar.join(',') === '待办,登记,今日,台账', `a supervisor's bottom bar: ${bar}`);
  const tap = await p.locator('.bottombar a').first().boundingBox();
  check(tap && tap.height >= 44, `bottom bar targets are at least 44 px high (${tap && tap.height})`);
  check((await p.textContent('h1')).includes('我的待办'), 'the start page is the to-do list');
  check(!(await p.isVisible('#sidemenu')), 'the side menu is folded away at phone width');
  await p.click('.menu-toggle');
  check(await p.isVisible('#sidemenu'), 'the menu opens');
  await Promise.all([p.waitForURL(`${base}/units`), p.click('#sidemenu >> text=责任单位')]);
  check((await p.textContent('h1')).includes('责任单位'), 'units page title');
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 390, `no sideways scrolling at phone width (page is ${width}px wide)`);
  await p.screenshot({ path: `${outDir}/phone-units.png`, fullPage: false });

  // The morning scan on a phone: find the point, pick the standard item, photograph, file.
  const png = await (await p.request.get(`${base}/static/vendor/leaflet/images/marker-icon-2x.png`)).body();
  await p.goto(`${base}/problems/new?q=${encodeURIComponent('解放西路')}`);
  await Promise.all([p.waitForURL(/point_id=/), p.click('text=在此登记 >> nth=0')]);
  const options = await p.locator('#standard_item_id option').allTextContents();
  const garbage = options.findIndex((o) => o.includes('暴露垃圾'));
  check(garbage > 0, 'the checklist offers 暴露垃圾');
  await p.selectOption('#standard_item_id', { index: garbage });
  await p.fill('#description', '绿化带内有积存垃圾');
  await p.setInputFiles('#photos', { name: 'scene.png', mimeType: 'image/png', buffer: png });
  await Promise.all([p.waitForURL(/\/problems\/[0-9a-f-]+$/), p.click('form.stack button[type=submit]')]);
  check((await p.textContent('.props')).includes('待签收'), 'filed and dispatched');
  check(await p.isVisible('.compare img'), 'the before-photo shows');
  await p.screenshot({ path: `${outDir}/phone-problem.png`, fullPage: true });
  // The next point has nothing wrong: the supervisor says so and goes on to the next.
  await p.goto(`${base}/problems/new?q=${encodeURIComponent('解放西路')}`);
  await Promise.all([p.waitForURL(/point_id=/), p.click('text=在此登记 >> nth=1')]);
  await p.fill('#clean-form input[name=note]', '环境整洁');
  await Promise.all([p.waitForURL(/\/problems\/new\?ok=clean$/), p.click('#clean-form button[type=submit]')]);
  check((await p.textContent('.flash.ok')).includes('检查无问题'), 'the clean inspection is recorded');
  // The year-end assessment reads on a phone without sideways scrolling.
  await p.goto(`${base}/scores/annual?class=unit`);
  check((await p.locator('#annual tbody tr').count()) > 10, 'the year-end assessment lists the units');
  const annualWidth = await p.evaluate(() => document.documentElement.scrollWidth);
  check(annualWidth <= 390, `no sideways scrolling on the assessment (page is ${annualWidth}px wide)`);
  await p.screenshot({ path: `${outDir}/phone-annual.png`, fullPage: false });
  // The find time's picker stops at now (kept current by the page, not the server's render).
  await p.goto(`${base}/problems/new?q=${encodeURIComponent('解放西路')}`);
  await Promise.all([p.waitForURL(/point_id=/), p.click('text=在此登记 >> nth=0')]);
  const found = await p.$eval('input[name=found_at]', (i) => ({ value: i.value, max: i.max, min: i.min }));
  check(found.max && found.max >= found.value && found.min && found.min < found.value, `发现时间 bounds: ${JSON.stringify(found)}`);
  await p.fill('input[name=found_at]', '2099-01-01T07:00');
  check(await p.$eval('input[name=found_at]', (i) => i.validity.rangeOverflow), 'a find time in the future is refused by the picker');

  // A unit answers a resident's suggestion on a phone: the answer box spans the card.
  const unitPhone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const u = await unitPhone.newPage();
  watchRequests(u);
  await login(u, 'unit');
  await u.goto(`${base}/deliberation`);
  const box = await u.locator('textarea[name=answer]').first().boundingBox();
  check(box && box.width >= 300, `the answer box is wide enough to write in (${box && box.width} px)`);
  await unitPhone.close();

  // Desktop: the office adds a unit through the form, meeting its field errors first.
  const desk = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const d = await desk.newPage();
  watchRequests(d);
  await login(d, 'admin');
  await d.goto(`${base}/units/new`);
  await d.click('form.stack button[type=submit]');
  await d.waitForSelector('.field-error');
  const errors = await d.textContent('form.stack');
  check(errors.includes('请填写单位名称') && errors.includes('请选择单位类型'), 'field errors in Chinese');
  await d.screenshot({ path: `${outDir}/desktop-unit-form-errors.png` });
  await d.fill('#name', '沧州市运河区图书馆');
  await d.selectOption('#kind', 'institution');
  await d.fill('#phone', '0317-2999999');
  await Promise.all([d.waitForURL(/\/units\/[0-9a-f-]+\?ok=created/), d.click('form.stack button[type=submit]')]);
  check((await d.textContent('h1')).includes('沧州市运河区图书馆'), 'the new unit page opens');
  check((await d.textContent('.flash.ok')).includes('已新增'), 'a success message');
  await d.goto(`${base}/org?level=community`);
  await d.screenshot({ path: `${outDir}/desktop-org.png` });
  await d.goto(`${base}/audit`);
  check((await d.textContent('table')).includes('沧州市运河区图书馆'), 'the audit log lists the new unit');
  await d.screenshot({ path: `${outDir}/desktop-audit.png` });
  // The map draws the demo grids and points with no tile server and no network.
  await d.goto(`${base}/map`);
  await d.waitForFunction(() => document.getElementById('map-status').textContent.startsWith('共'));
  const status = await d.textContent('#map-status');
  check(/共 1\d\d 个点位，28 个网格/.test(status), `map status: ${status}`);
  const markers = await d.locator('.leaflet-overlay-pane path').count();
  check(markers >= 136 + 28, `points and grids drawn (${markers} shapes)`);
  await d.screenshot({ path: `${outDir}/desktop-map.png` });
  // Area names show where they fit and never run into each other, at desk and phone width.
  const labels = (page) => page.evaluate(() => {
    const r = [...document.querySelectorAll('.leaflet-tooltip.area-label')]
      .filter((e) => e.style.display !== 'none').map((e) => e.getBoundingClientRect());
    let overlaps = 0;
    for (let i = 0; i < r.length; i++) {
      for (let j = i + 1; j < r.length; j++) {
        const [a, b] = [r[i], r[j]];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
      }
    }
    return { shown: r.length, overlaps };
  });
  const deskLabels = await labels(d);
  check(deskLabels.shown >= 10 && deskLabels.overlaps === 0, `desk map labels: ${JSON.stringify(deskLabels)}`);
  await p.goto(`${base}/map`);
  await p.waitForFunction(() => document.getElementById('map-status').textContent.startsWith('共'));
  const phoneLabels = await labels(p);
  check(phoneLabels.overlaps === 0, `phone map labels: ${JSON.stringify(phoneLabels)}`);
  await p.screenshot({ path: `${outDir}/phone-map.png` });
  // A unit's responsibility ledger prints without the menu, header or buttons.
  const unitLink = await d.getAttribute('#sidemenu a[href="/units"]', 'href');
  check(unitLink === '/units', 'units menu entry');
  await d.goto(`${base}/units`);
  await Promise.all([d.waitForURL(/\/units\/[0-9a-f-]+$/), d.click('table.grid tbody tr:first-child a')]);
  await d.emulateMedia({ media: 'print' });
  check(!(await d.isVisible('#sidemenu')) && !(await d.isVisible('.topbar')), 'print hides the menu and header');
  check(await d.isVisible('#unit-tasks'), 'print keeps the task list');
  await d.screenshot({ path: `${outDir}/print-unit-ledger.png`, fullPage: true });
  await d.emulateMedia({ media: 'screen' });
  // A point page shows its checklist from the published standard.
  await d.goto(`${base}/points`);
  await Promise.all([d.waitForURL(/\/points\/[0-9a-f-]+$/), d.click('table.grid tbody tr:first-child td:nth-child(2) a')]);
  check((await d.textContent('#checklist')).includes('暴露垃圾'), 'the point checklist lists the standard');
  await d.screenshot({ path: `${outDir}/desktop-point.png`, fullPage: true });
  // Scoring: the office drafts a rule change, sees its what-if preview and publishes it from
  // the week the page proposes; the version history lists it.
  await d.goto(`${base}/scores/rules?class=unit`);
  await d.fill('input[name=rework_points]', '-6');
  await Promise.all([d.waitForURL(/\/scores\/rules\?class=unit$/), d.click('form.form button[type=submit]')]);
  check(await d.isVisible('#preview'), 'the draft shows its what-if preview');
  await d.screenshot({ path: `${outDir}/desktop-rules.png`, fullPage: true });
  await Promise.all([d.waitForURL(/\/scores\?class=unit$/), d.click('form[action="/scores/rules/publish"] button')]);
  await d.goto(`${base}/scores/rules?class=unit`);
  const versions = await d.textContent('#versions');
  check(versions.includes('第2版') && versions.includes('现行') && versions.includes('已归档'), `the version history: ${versions}`);
  // Logout through the header button.
  await Promise.all([d.waitForURL(`${base}/login`), d.click('.topbar button[type=submit]')]);

  check(outside.length === 0, `pages requested outside resources: ${outside.join(', ')}`);
  console.log('ui smoke: ok');
} catch (e) {
  console.error(`ui smoke failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
