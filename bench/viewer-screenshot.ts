/**
 * docs/viewer.png: the viewer with real traffic, as the README shows it. Starts kflog (two forwards to the builtin
 * sample API, bodies captured, a store log), sends a mix of requests through it, opens the viewer in Debian's
 * Chromium at 1280×720 with one exchange's detail open, and saves the page. Not a test: nothing is asserted.
 *
 *   npm run build && node dist/bench/viewer-screenshot.js [out.png]      (CHROMIUM_PATH: default /usr/bin/chromium)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startKflog } from './kflog-process.js';
import { ROOT } from './lib.js';

const out = process.argv[2] ?? join(ROOT, 'docs', 'viewer.png');
const dir = mkdtempSync(join(tmpdir(), 'kflog-viewer-shot-'));
const capture = { request_body: true, response_body: true };
const kflog = await startKflog(join(dir, 'kflog.json'), {
  forwards: [
    { id: 'users', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture },
    { id: 'orders', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture },
  ],
  admin: { listen: '127.0.0.1:0' },
  logging: { logs: { default: { exclude: ['http.log'] }, store: { writer: { output: 'store', path: join(dir, 'exchanges.db') } } } },
}, 2);
try {
  const admin = /^kflog: viewer: (http:\/\/\S+?)\/?$/m.exec(kflog.stderr())?.[1];
  if (admin === undefined) throw new Error(`no viewer line in kflog's start:\n${kflog.stderr()}`);
  const [users, orders] = kflog.ports.map((p) => `http://127.0.0.1:${p}`);
  const send = async (url: string, init: RequestInit = {}): Promise<void> => {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
  };
  const json = { 'Content-Type': 'application/json' };
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'], timeout: 20_000 });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(20_000);
    await page.goto(`${admin}/`);
    await page.locator('[data-connected="true"]').waitFor();
    // Sent with the page open: they arrive through the live stream, as a user sees them.
    await send(`${users}/api/users?page=1`);
    await send(`${users}/api/users?page=2`, { headers: { Authorization: 'Bearer a-secret-the-viewer-never-shows' } });
    await send(`${orders}/echo`, { method: 'POST', headers: json, body: JSON.stringify({ order: 1042, items: [{ sku: 'KF-7', qty: 2 }], note: 'leave at the door' }) });
    await send(`${orders}/status/404`);
    await send(`${users}/delay/180`);
    await send(`${orders}/bytes/48`);
    await send(`${users}/status/503`);
    await send(`${orders}/echo`, { method: 'PUT', headers: json, body: JSON.stringify({ order: 1042, status: 'paid' }) });
    await send(`${users}/api/users?page=3`);
    await page.locator('tr[data-trace]').nth(8).waitFor();
    await page.locator('tr[data-trace]', { hasText: '/echo' }).last().click();
    await page.locator('aside.detail pre[data-body=response]').waitFor();
    await page.locator('aside.detail pre[data-body=response]').scrollIntoViewIfNeeded();
    await page.locator('aside.detail').evaluate((el) => el.scrollTo(0, 0));
    await page.screenshot({ path: out });
    process.stdout.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
  }
} finally {
  await kflog.stop();
  rmSync(dir, { recursive: true, force: true });
}
