import { chromium } from 'playwright-core';
const base = process.argv[2];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true, geolocation: { latitude: 38.3003, longitude: 116.8325 }, permissions: ['geolocation'] });
const p = await ctx.newPage();
for (const [name, path] of [['pub', '/public'], ['closed', '/public/closed'], ['exposure', '/public/exposure'], ['report', '/public/report'], ['notices', '/public/notices'], ['poster', '/public/report/poster']]) {
  await p.goto(base + path); await p.waitForTimeout(500);
  await p.screenshot({ path: `/tmp/shot-${name}.png`, fullPage: name !== 'closed' && name !== 'exposure' });
}
await p.goto(base + '/public/report');
await p.click('#locate'); await p.waitForTimeout(800);
await p.fill('#category-search', '垃圾'); await p.waitForTimeout(300);
await p.screenshot({ path: '/tmp/shot-report2.png', fullPage: true });
await browser.close();
