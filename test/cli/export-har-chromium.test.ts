import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { kflogCli, startStoreKflog, stopAndFlush } from '../store/helpers.js';
import { BINARY, JSON_BODY, sendHarTraffic } from './har-traffic.js';

/**
 * The HAR kflog exports loads in a real browser: Debian's Chromium, driven by playwright-core, answers a page's
 * requests from it with routeFromHAR. kflog is stopped before the browser starts and a URL the HAR lacks is
 * aborted, so every answer the page gets came from the HAR.
 */

/** Debian's package (.ci/run installs it); CHROMIUM_PATH points elsewhere on a developer's machine. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
/** In CI a missing Chromium is a failure, never a skip. */
const IN_CI = Boolean(process.env.CI);
/** Every browser step's deadline: a launch is ~0.3 s and an answer from the HAR a few ms here. */
const STEP_MS = 20_000;

if (!HAS_CHROMIUM && !IN_CI) {
  console.warn(`\n*** SKIPPED: the HAR replay through Chromium: no ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH) ***\n`);
}

/** What a fetch in the page got: its status and its body's bytes. */
interface Fetched {
  status: number;
  bytes: number[];
}

/** fetch() in the page, same origin as the captured URLs, with a deadline of its own. */
function fetchInPage(page: Page, path: string, init: { method?: string; contentType?: string; body?: number[] | string } = {}): Promise<Fetched> {
  return page.evaluate(
    async ({ path, init, ms }) => {
      const body = Array.isArray(init.body) ? new Uint8Array(init.body) : init.body;
      const headers = init.contentType !== undefined ? { 'Content-Type': init.contentType } : undefined;
      const res = await fetch(path, { method: init.method ?? 'GET', headers, body, signal: AbortSignal.timeout(ms) });
      return { status: res.status, bytes: [...new Uint8Array(await res.arrayBuffer())] };
    },
    { path, init, ms: STEP_MS },
  );
}

const text = (f: Fetched): string => Buffer.from(f.bytes).toString('utf8');

// With CI set, a missing Chromium fails in beforeAll instead of skipping.
describe.skipIf(!HAS_CHROMIUM && !IN_CI)('a HAR from kflog export, replayed in Chromium by Playwright\'s routeFromHAR', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let browser: Browser | undefined;
  let page: Page;
  let navigated: { status: number; body: string };

  beforeAll(async () => {
    if (!HAS_CHROMIUM) throw new Error(`no Chromium at ${CHROMIUM}: .ci/run installs Debian's chromium package`);
    const k = await startStoreKflog(undo);
    await sendHarTraffic(k.base);
    await stopAndFlush(k);
    const { dir, cleanup } = tempDir('har-chromium');
    undo.push(cleanup);
    const har = join(dir, 'exchanges.har');
    const exported = kflogCli(['export', '--har', '--store', k.db, '-o', har]);
    expect(exported.code, exported.stderr).toBe(0);

    // Headless, and without the sandbox, which needs user namespaces a root CI run does not give it.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], timeout: STEP_MS });
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP_MS);
    await context.routeFromHAR(har, { notFound: 'abort' });
    page = await context.newPage();
    const res = await page.goto(`${k.base}/api/users?page=2`, { timeout: STEP_MS });
    navigated = { status: res!.status(), body: await res!.text() };
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    while (undos.length > 0) await undos.pop()!();
  });

  it('a page opened at a captured URL gets its captured status and text body', () => {
    expect(navigated).toEqual({ status: 200, body: '{"users":[{"id":1,"name":"John"}]}' });
  });

  it('a JSON POST gets the answer captured for that body', async () => {
    const got = await fetchInPage(page, '/echo', { method: 'POST', contentType: 'application/json', body: JSON_BODY });
    expect([got.status, text(got)]).toEqual([200, JSON_BODY]);
  });

  it('a binary POST to the same URL gets its binary answer back byte for byte, from the base64 in the HAR', async () => {
    const got = await fetchInPage(page, '/echo', { method: 'POST', contentType: 'application/octet-stream', body: [...BINARY] });
    expect(got).toEqual({ status: 200, bytes: [...BINARY] });
  });

  it('the captured server error comes back with its status and body', async () => {
    const got = await fetchInPage(page, '/status/503');
    expect([got.status, text(got)]).toEqual([503, 'status 503\n']);
  });

  it('a URL the HAR does not have is aborted, so no answer came from anywhere else', async () => {
    await expect(fetchInPage(page, '/api/users?page=3')).rejects.toThrow(/Failed to fetch/);
  });
});
