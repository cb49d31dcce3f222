import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UndoList } from '../helpers/cleanup.js';
import { launchChromium, skipWithoutChromium, STEP_MS } from '../helpers/chromium.js';
import { harProblems } from '../helpers/har.js';
import { waitFor } from '../helpers/wait.js';
import { send } from './helpers.js';
import { JSON_ANSWER, SCRIPT_BODY, SCRIPT_HEADER, startViewerKflog, type ViewerKflog } from './viewer-kflog.js';

/**
 * The viewer at the admin listener's /, in Debian's Chromium driven by playwright-core, against a real kflog:
 * requests go through its forwards with node's http client and the page must show them as they happen.
 */

const SKIP = skipWithoutChromium('the viewer in Chromium');

type Row = { trace_id: string; path: string; forward: string; status: number | null; replay_of: string | null };

/** The store's rows (newest first), as GET /api/exchanges answers them. */
async function stored(k: ViewerKflog, query = ''): Promise<Row[]> {
  const r = await send(`${k.admin}/api/exchanges${query}`);
  if (r.status !== 200) throw new Error(`GET /api/exchanges${query}: ${r.status} ${r.body}`);
  return (JSON.parse(r.body) as { exchanges: Row[] }).exchanges;
}

/** The trace ID of the stored exchange of `path`, once its response is in the store. */
async function traceOf(k: ViewerKflog, path: string): Promise<string> {
  const row = await waitFor(`${path} in the store`, async () => (await stored(k, '?limit=500')).find((r) => r.path === path && r.status !== null));
  return row.trace_id;
}

/** A name no other test uses, so a test finds its own rows among the others'. */
function unique(name: string): string {
  return `${name}-${Math.random().toString(36).slice(2, 10)}`;
}

describe.skipIf(SKIP)('the viewer', () => {
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let browser: Browser;
  let k: ViewerKflog;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    k = await startViewerKflog(undo);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true });
    context.setDefaultTimeout(STEP_MS);
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    await page.goto(`${k.admin}/`, { timeout: STEP_MS });
    await page.locator('[data-connected="true"]').waitFor();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    while (undos.length > 0) await undos.pop()!();
  });

  /** The list's row of the exchange of `path` (the newest one). */
  const rowOf = (path: string) => page.locator('tr[data-trace]').filter({ has: page.locator('td.path', { hasText: new RegExp(`${path}$`) }) }).first();

  /** No filter, not paused, the first page read, then an empty list: each test sees only what it sends. */
  async function resetPage(): Promise<void> {
    for (const name of ['slower_than', 'grep']) await page.locator(`input[name=${name}]`).fill('');
    await page.locator('select[name=forward]').selectOption('');
    await page.locator('select[name=method]').selectOption('');
    await page.locator('select[name=status]').selectOption('');
    if ((await page.locator('[name=pause]').getAttribute('aria-pressed')) === 'true') await page.locator('[name=pause]').click();
    await page.locator('.list[data-settled="true"]').waitFor();
    await page.locator('[name=clear]').click();
    // The server's clear answered: what the test sends next comes after it.
    await page.locator('.list[data-clearing="false"]').waitFor();
  }

  it('loads from the admin listener with a strict CSP, only its own script, and no error, at 1280x720', async () => {
    const res = await send(`${k.admin}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(await page.title()).toBe('kflog');
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(await page.locator('table.exchanges th').allTextContents()).toEqual(['time', 'forward', 'method', 'path', 'status', 'duration', 'size']);
    // Nothing wider than the window: no horizontal scrolling at 1280.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(1280);
    expect(pageErrors).toEqual([]);
  });

  it('shows an exchange sent through kflog at the top of the list within a second of its response', async () => {
    await resetPage();
    const path = `/json/${unique('live')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(200);
    const answered = Date.now();
    await page.locator('tr[data-trace]').first().filter({ hasText: path }).waitFor({ timeout: 1000 });
    const shownAfter = Date.now() - answered;
    expect(shownAfter).toBeLessThan(1000);
    const cells = await page.locator('tr[data-trace]').first().locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual(['api', 'GET', path, '200']);
    expect(cells[6]).toBe(`${JSON.stringify(JSON_ANSWER).length} B`);
  });

  it('a filter narrows the list, both the first page read from the store and the live feed', async () => {
    await resetPage();
    const onDemo = `/api/users?${unique('demo')}`;
    const onApi = `/json/${unique('api')}`;
    expect((await send(`${k.demo}${onDemo}`)).status).toBe(200);
    expect((await send(`${k.api}${onApi}`)).status).toBe(200);
    await traceOf(k, onApi);
    expect(await page.locator('select[name=forward] option').allTextContents()).toEqual(['any', 'api', 'demo']);
    await page.locator('select[name=forward]').selectOption('demo');
    // The first page comes from the store, filtered there.
    await waitFor('the list to be demo only', async () => {
      const forwards = await page.locator('tr[data-trace] td:nth-child(2)').allTextContents();
      return forwards.length > 0 && forwards.every((f) => f === 'demo');
    });
    expect(await rowOf(onApi.replace(/[?]/g, '\\?')).count()).toBe(0);
    // Live: an api exchange stays out, a demo one comes in.
    const laterApi = `/json/${unique('later')}`;
    const laterDemo = `/status/201`;
    expect((await send(`${k.api}${laterApi}`)).status).toBe(200);
    expect((await send(`${k.demo}${laterDemo}`)).status).toBe(201);
    await page.locator('tr[data-trace]').first().filter({ hasText: laterDemo }).waitFor();
    expect(await page.locator('tr[data-trace]', { hasText: laterApi }).count()).toBe(0);
    // The status class narrows further.
    await page.locator('select[name=status]').selectOption('2xx');
    await waitFor('2xx demo rows only', async () => {
      const statuses = await page.locator('tr[data-trace] td.status').allTextContents();
      return statuses.length > 0 && statuses.every((s) => /^2\d\d$/.test(s));
    });
  });

  it('slower than keeps only the exchanges that took longer', async () => {
    await resetPage();
    const fast = `/api/users?${unique('fast')}`;
    expect((await send(`${k.demo}/delay/300`)).status).toBe(200);
    expect((await send(`${k.demo}${fast}`)).status).toBe(200);
    await page.locator('tr[data-trace]', { hasText: fast }).waitFor();
    await page.locator('input[name=slower_than]').fill('250ms');
    await waitFor('only slow rows', async () => {
      const paths = await page.locator('tr[data-trace] td.path').allTextContents();
      return paths.length > 0 && paths.every((p) => p === '/delay/300');
    });
  });

  it('the text filter searches the store\'s full text, headers included', async () => {
    await resetPage();
    const needle = unique('needle').replace('-', '');
    const tagged = `/json/${unique('tagged')}`;
    expect((await send(`${k.api}${tagged}`, { headers: { 'X-Tag': needle } })).status).toBe(200);
    expect((await send(`${k.api}/json/${unique('other')}`)).status).toBe(200);
    await traceOf(k, tagged);
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('grep');
    await page.keyboard.type(needle);
    await waitFor('the one tagged row', async () => {
      const paths = await page.locator('tr[data-trace] td.path').allTextContents();
      return paths.length === 1 && paths[0] === tagged;
    });
  });

  it('the detail pane shows the request and response headers and the JSON body pretty-printed', async () => {
    await resetPage();
    const path = `/json/${unique('detail')}`;
    expect((await send(`${k.api}${path}`, { headers: { 'X-Asked': 'by-the-test' } })).status).toBe(200);
    await rowOf(path).click();
    const pane = page.locator('aside.detail');
    await expect.poll(() => pane.locator('pre[data-body=response]').textContent(), { timeout: STEP_MS }).toBe(JSON.stringify(JSON_ANSWER, null, 2));
    expect(await pane.locator('table[data-headers=request] tr', { hasText: 'X-Asked' }).locator('td').textContent()).toBe('by-the-test');
    expect(await pane.locator('table[data-headers=response] tr', { hasText: 'Content-Type' }).locator('td').textContent()).toBe('application/json');
    expect(await pane.locator('.facts').textContent()).toContain('ended normally');
    expect(await pane.locator('.waterfall .wf-label').allTextContents()).toEqual(['Tq', 'Tw', 'Tc', 'Tr', 'data', 'Tt']);
  });

  it('an image body is drawn from the captured bytes, and a binary one shown as hex', async () => {
    await resetPage();
    expect((await send(`${k.api}/image.png`)).status).toBe(200);
    expect((await send(`${k.api}/bytes`)).status).toBe(200);
    await rowOf('/image.png').click();
    const img = page.locator('aside.detail img.body-image');
    await img.waitFor();
    expect(await img.getAttribute('src')).toMatch(/^blob:/);
    await waitFor('the image decoded', () => img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth === 1));
    await rowOf('/bytes').click();
    const hex = page.locator('aside.detail pre.hex');
    await hex.waitFor();
    expect((await hex.textContent())!.split('\n')[0]).toBe('00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  ................');
    expect(await page.locator('aside.detail .note').allTextContents()).toContain('binary (application/octet-stream), 256 bytes kept');
  });

  it('a header and a body holding <script> and <img onerror> are shown as text and run nothing', async () => {
    await resetPage();
    const path = `/html`;
    expect((await send(`${k.api}${path}?${unique('x')}`, { method: 'POST', headers: { 'X-Evil': SCRIPT_HEADER, 'Content-Type': 'text/html' }, body: SCRIPT_BODY })).status).toBe(200);
    await page.locator('tr[data-trace]', { hasText: '/html?' }).first().click();
    const pane = page.locator('aside.detail');
    await pane.locator('pre[data-body=response]').waitFor();
    expect(await pane.locator('pre[data-body=response]').textContent()).toBe(SCRIPT_BODY);
    expect(await pane.locator('pre[data-body=request]').textContent()).toBe(SCRIPT_BODY);
    expect(await pane.locator('table[data-headers=request] tr', { hasText: 'X-Evil' }).locator('td').textContent()).toBe(SCRIPT_HEADER);
    // Text nodes only: no element came of what was captured, and nothing ran.
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await pane.locator('script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: string }).__pwned)).toBeUndefined();
  });

  it('copy as curl shows the command kflog show --curl builds, through the forward', async () => {
    await resetPage();
    const path = `/json/${unique('curl')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(200);
    const trace = await traceOf(k, path);
    await rowOf(path).click();
    await page.locator('aside.detail [name=copy-curl]').click();
    const curl = await page.locator('aside.detail pre[data-curl]').textContent();
    const fromApi = await send(`${k.admin}/api/exchanges/${trace}/curl`);
    expect(curl).toBe(fromApi.body);
    expect(curl).toContain(`curl ${k.api}${path}`);
  });

  it('replay sends the request again through its forward and the replay appears in the list linked to the original', async () => {
    await resetPage();
    const path = `/json/${unique('replay')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(200);
    const original = await traceOf(k, path);
    await rowOf(path).click();
    await page.locator('aside.detail textarea[name=replay-headers]').fill('X-Replayed: from-the-viewer');
    await page.locator('aside.detail [name=replay-send]').click();
    await expect.poll(() => page.locator('aside.detail .replay-answer').textContent(), { timeout: STEP_MS }).toContain('200');
    const replayRow = page.locator(`tr[data-replay-of="${original}"]`);
    await replayRow.waitFor();
    expect(await replayRow.locator('td.path').textContent()).toBe(`↻${path}`);
    // In the store too, with the edited header sent.
    const replay = await waitFor('the replay in the store', async () => (await stored(k, '?limit=500')).find((r) => r.replay_of === original && r.status !== null));
    const one = JSON.parse((await send(`${k.admin}/api/exchanges/${replay.trace_id}`)).body) as { req_headers: Record<string, string[]> };
    expect(one.req_headers['X-Replayed']).toEqual(['from-the-viewer']);
    // The link leads back to the original.
    await replayRow.locator('.replay-mark').click();
    await expect.poll(() => page.locator('aside.detail .facts dd.mono').first().textContent(), { timeout: STEP_MS }).toBe(original);
  });

  it('a pane opened for another exchange shows none of the last one, not even in the render before it loads', async () => {
    await resetPage();
    const first = `/json/${unique('pane-a')}`;
    const second = `/json/${unique('pane-b')}`;
    for (const p of [first, second]) expect((await send(`${k.api}${p}`)).status).toBe(200);
    await rowOf(first).click();
    await page.locator('aside.detail textarea[name=replay-headers]').fill('X-Typed: for-the-first');
    const secondTrace = await rowOf(second).getAttribute('data-trace');
    // Clicked and read inside the page: the render the click causes has run (Preact renders in a microtask), the
    // pane's loading effect and the fetch have not. A reused pane showed the first exchange and its typed form here.
    const seen = await page.evaluate(async (trace) => {
      document.querySelector<HTMLElement>(`tr[data-trace="${trace}"]`)!.click();
      await Promise.resolve();
      await Promise.resolve();
      const pane = document.querySelector('aside.detail')!;
      return { title: pane.querySelector('h2')!.textContent, forms: pane.querySelectorAll('textarea[name=replay-headers]').length };
    }, secondTrace);
    expect(seen).toEqual({ title: secondTrace, forms: 0 });
    await expect.poll(() => page.locator('aside.detail h2').textContent(), { timeout: STEP_MS }).toBe(`GET ${second}`);
    expect(await page.locator('aside.detail textarea[name=replay-headers]').inputValue()).toBe('');
  });

  it('Export HAR downloads the filtered exchanges as a file har-validator accepts', async () => {
    await resetPage();
    const path = `/missing/${unique('har')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(404);
    await traceOf(k, path);
    await page.locator('select[name=status]').selectOption('4xx');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[name=export-filter]').click()]);
    expect(download.suggestedFilename()).toMatch(/^kflog-.*\.har$/);
    const har = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { log: { entries: Array<{ request: { url: string }; response: { status: number } }> } };
    expect(await harProblems(har)).toEqual([]);
    const in4xx = await stored(k, '?status=4xx&limit=500');
    expect(har.log.entries.map((e) => e.response.status)).toEqual(in4xx.map(() => 404));
    expect(har.log.entries.map((e) => e.request.url)).toContain(`${k.api}${path}`);
  });

  it('the HAR button of the detail pane downloads that one exchange', async () => {
    await resetPage();
    const path = `/json/${unique('one-har')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(200);
    await rowOf(path).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('aside.detail [name=export-one]').click()]);
    const har = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { log: { entries: Array<{ request: { url: string } }> } };
    expect(await harProblems(har)).toEqual([]);
    expect(har.log.entries.map((e) => e.request.url)).toEqual([`${k.api}${path}`]);
  });

  it('j and k move the selection, Enter opens it in the detail pane', async () => {
    await resetPage();
    const paths = [1, 2, 3].map((i) => `/json/${unique(`key${i}`)}`);
    for (const p of paths) expect((await send(`${k.api}${p}`)).status).toBe(200);
    await page.locator('tr[data-trace]').first().filter({ hasText: paths[2]! }).waitFor();
    await waitFor('three rows', async () => (await page.locator('tr[data-trace]').count()) === 3);
    await page.locator('h1').click();
    const selected = () => page.locator('tr.selected td.path').textContent();
    await page.keyboard.press('j');
    expect(await selected()).toBe(paths[2]);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    expect(await selected()).toBe(paths[0]);
    await page.keyboard.press('k');
    expect(await selected()).toBe(paths[1]);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('aside.detail h2').textContent(), { timeout: STEP_MS }).toBe(`GET ${paths[1]}`);
    await page.keyboard.press('Escape');
    expect(await page.locator('aside.detail').count()).toBe(0);
  });

  it('remembers a clear: neither a filter changed after it nor a reload brings back what was cleared', async () => {
    await resetPage();
    const before = `/json/${unique('cleared')}`;
    expect((await send(`${k.api}${before}`)).status).toBe(200);
    await rowOf(before).waitFor();
    await page.locator('[name=clear]').click();
    await page.locator('.list[data-clearing="false"]').waitFor();
    const after = `/json/${unique('kept')}`;
    expect((await send(`${k.api}${after}`)).status).toBe(200);
    await rowOf(after).waitFor();
    await traceOf(k, after);
    const paths = (): Promise<string[]> => page.locator('tr[data-trace] td.path').allTextContents();
    // A new filter reads the first page from the store again.
    await page.locator('select[name=forward]').selectOption('api');
    await page.locator('.list[data-settled="true"]').waitFor();
    expect(await paths()).toEqual([after]);
    // The first page after a reload brings whatever the store lists at once: the kept row with any cleared one.
    await page.reload();
    await page.locator('[data-connected="true"]').waitFor();
    await rowOf(after).waitFor();
    expect(await paths()).toEqual([after]);
  });

  it('pause holds new exchanges and counts them, resume shows them, clear empties the list', async () => {
    await resetPage();
    await page.locator('[name=pause]').click();
    const held = [1, 2].map((i) => `/json/${unique(`held${i}`)}`);
    for (const p of held) expect((await send(`${k.api}${p}`)).status).toBe(200);
    await page.locator('[data-waiting="2"]').waitFor();
    expect(await page.locator('.waiting').textContent()).toBe('2 new while paused');
    expect(await page.locator('tr[data-trace]').count()).toBe(0);
    await page.locator('[name=pause]').click();
    expect(await page.locator('tr[data-trace] td.path').allTextContents()).toEqual([held[1], held[0]]);
    await page.locator('[name=clear]').click();
    expect(await page.locator('tr[data-trace]').count()).toBe(0);
  });
});

describe.skipIf(SKIP)('the viewer, fed a stream of its own', () => {
  let browser: Browser;
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: ViewerKflog;

  beforeAll(async () => {
    k = await startViewerKflog(undo);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    while (undos.length > 0) await undos.pop()!();
  });

  /** A page whose first /api/stream is answered with `events` (then the real stream). */
  async function pageFed(events: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(STEP_MS);
    let first = true;
    await page.route('**/api/stream', async (route) => {
      if (!first) return route.continue();
      first = false;
      await route.fulfill({ status: 200, contentType: 'text/event-stream', body: ': kflog exchanges\n\n' + events });
    });
    await page.goto(`${k.admin}/`, { timeout: STEP_MS });
    return page;
  }

  it('says how many exchanges the stream dropped for it', async () => {
    const page = await pageFed('event: missed\ndata: {"missed":7}\n\n');
    const banner = page.locator('[data-missed]');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('kflog dropped 7 exchanges for it');
    await page.close();
  });

  it('the detail pane says the upstream pod, the termination state in words and what was truncated', async () => {
    const trace = '01900000-0000-7000-8000-00000000abcd';
    const entry = { trace_id: trace, start: 1_800_000_000, forward: { id: 'kube' }, request: { method: 'GET', uri: '/orders' }, status: 503, duration: 0.004, size: 0 };
    const page = await pageFed(`event: exchange\ndata: ${JSON.stringify(entry)}\n\n`);
    const exchange = {
      trace_id: trace, time: '2027-01-15T08:00:00.000Z', forward: 'kube', method: 'GET', host: 'orders', path: '/orders', query: null,
      proto: 'HTTP/1.1', remote_ip: '127.0.0.1', remote_port: '50000', replay_of: null, status: 503, duration_ms: 4,
      tq: 0, tw: 0, tc: -1, tr: -1, tt: 4, termination_state: 'SC--', bytes_read: 0, size: 0, bytes_sent: 120,
      upstream: '10.1.2.3:8080', pod: 'orders-7d9f8c6b5-x2k4q', error: 'connect ECONNREFUSED 10.1.2.3:8080',
      req_headers: { Host: ['orders'] }, resp_headers: { 'Content-Type': ['text/plain'] },
      req_body: null, req_body_encoding: null, req_body_meta: null,
      resp_body: 'upstream refused', resp_body_encoding: 'text', resp_body_meta: { bytes: 5000, truncated: true, content_type: 'text/plain' },
    };
    await page.route(`**/api/exchanges/${trace}`, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(exchange) }));
    await page.locator(`tr[data-trace="${trace}"]`).click();
    const pane = page.locator('aside.detail');
    await pane.locator('[data-pod]').waitFor();
    expect(await pane.locator('[data-pod]').textContent()).toBe('orders-7d9f8c6b5-x2k4q');
    expect(await pane.locator('.facts').textContent()).toContain('SC-- — the server aborted or refused it while connecting to the server');
    expect(await pane.locator('.note').allTextContents()).toContain('truncated: 5000 bytes on the wire, only the first part was kept (max_body_bytes)');
    expect(await pane.locator('.wf-ms').allTextContents()).toEqual(['0 ms', '0 ms', '–', '–', '4 ms', '4 ms']);
    await page.close();
  });

  it('follows the system\'s light or dark theme', async () => {
    const background = async (colorScheme: 'light' | 'dark'): Promise<string> => {
      const page = await browser.newPage({ colorScheme });
      await page.goto(`${k.admin}/`, { timeout: STEP_MS });
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.close();
      return bg;
    };
    expect(await background('light')).toBe('rgb(255, 255, 255)');
    expect(await background('dark')).toBe('rgb(15, 18, 23)');
  });

  it('keeps the newest 1000 rows of a long session and lets older ones go', async () => {
    let events = '';
    for (let i = 0; i < 1200; i++) {
      const entry = { trace_id: `0190${String(i).padStart(4, '0')}-0000-7000-8000-000000000000`, start: 1_800_000_000 + i, forward: { id: 'fed' }, request: { method: 'GET', uri: `/n/${i}` }, status: 200, duration: 0.001, size: 1 };
      events += `event: exchange\ndata: ${JSON.stringify(entry)}\n\n`;
    }
    const page = await pageFed(events);
    await page.locator('tr[data-trace]', { hasText: '/n/1199' }).waitFor();
    await waitFor('the list to be cut to 1000', async () => (await page.locator('tr[data-trace]').count()) === 1000);
    expect(await page.locator('tr[data-trace] td.path').first().textContent()).toBe('/n/1199');
    expect(await page.locator('tr[data-trace] td.path').last().textContent()).toBe('/n/200');
    await page.close();
  });
});

describe.skipIf(SKIP)('the viewer with admin.token', () => {
  const TOKEN = 'viewer-test-token-0123456789';
  let browser: Browser;
  const undos: Array<() => unknown> = [];
  const undo: UndoList = { push: (...u) => void undos.push(...u) };
  let k: ViewerKflog;

  beforeAll(async () => {
    k = await startViewerKflog(undo, { listen: '127.0.0.1:0', token: TOKEN });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    while (undos.length > 0) await undos.pop()!();
  });

  it('serves the page without the token but no data: every /api/ path, however written, needs it', async () => {
    expect((await send(`${k.admin}/`)).status).toBe(200);
    expect((await send(`${k.admin}/viewer.js`)).status).toBe(200);
    for (const path of ['/api/exchanges', '/api/stream', '/api/har', '/metrics', '/x/../api/exchanges', '/%2e%2e/api/health']) {
      const r = await send(`${k.admin}${path}`);
      expect([path, r.status]).toEqual([path, 401]);
    }
  });

  it('asks for the token once, refuses a wrong one, then lists and streams with it sent as a Bearer header', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.setDefaultTimeout(STEP_MS);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${k.admin}/`, { timeout: STEP_MS });
    await page.locator('input[name=token]').fill('not-the-token');
    await page.locator('.token-form button[type=submit]').click();
    await page.locator('.token-form [role=alert]').waitFor();
    await page.locator('input[name=token]').fill(TOKEN);
    await page.locator('.token-form button[type=submit]').click();
    await page.locator('[data-connected="true"]').waitFor();
    const path = `/json/${unique('token')}`;
    expect((await send(`${k.api}${path}`)).status).toBe(200);
    await page.locator('tr[data-trace]', { hasText: path }).waitFor({ timeout: 1000 });
    // The token is in no URL the page asked for (logs, history and Referer never see it).
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    // A reload in the same tab keeps it: asked once.
    await page.reload();
    await page.locator('[data-connected="true"]').waitFor();
    expect(await page.locator('input[name=token]').count()).toBe(0);
    await page.close();
  });
});
