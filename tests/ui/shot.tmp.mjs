import { chromium } from 'playwright-core';
const [base, user, width, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync'] });
const page = await browser.newPage({ viewport: { width: Number(width), height: 900 } });
await page.goto(base + '/login');
await page.fill('input[name=username]', user);
await page.fill('input[name=password]', 'Demo2026');
await page.click('button[type=submit]');
await page.waitForLoadState('networkidle');
for (const p of paths) {
  await page.goto(base + p);
  const name = '/tmp/shots/' + user + '_' + width + p.replace(/[^a-z0-9]/gi, '_') + '.png';
  await page.screenshot({ path: name, fullPage: true });
  console.log(name);
}
await browser.close();
