import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StaticFiles, VIEWER_CSP } from '../../src/admin/static-files.js';
import { undoAfterEach } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';

const undo = undoAfterEach();

interface Got {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A folder of built files with a secret beside it, served by StaticFiles on a loopback port; `get` sends the path
 * exactly as written (node's client does not resolve dot segments), as a hostile client would.
 */
async function served(): Promise<(path: string, method?: string) => Promise<Got>> {
  const { dir, cleanup } = tempDir('static');
  undo.push(cleanup);
  const root = join(dir, 'web');
  mkdirSync(join(root, 'img'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>kflog</title>');
  writeFileSync(join(root, 'viewer.js'), 'console.log(1);');
  writeFileSync(join(root, 'style.css'), 'body{}');
  writeFileSync(join(root, 'img', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, 'data.bin'), Buffer.from([0, 1, 2]));
  writeFileSync(join(dir, 'secret.txt'), 'the token');
  const files = new StaticFiles(root);
  const server = createServer((req, res) => {
    if (!files.serve(req, res, req.url ?? '/')) {
      res.writeHead(404);
      res.end('none');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  undo.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  return (path, method = 'GET') =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method, agent: false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer for ${path} within 10 s`)));
      req.on('error', reject);
      req.end();
    });
}

describe('StaticFiles', () => {
  it('serves / as index.html and each file with its content type, the CSP and nosniff', async () => {
    const get = await served();
    const expected: Array<[string, string, string]> = [
      ['/', 'text/html; charset=utf-8', '<!doctype html><title>kflog</title>'],
      ['/index.html', 'text/html; charset=utf-8', '<!doctype html><title>kflog</title>'],
      ['/viewer.js', 'text/javascript; charset=utf-8', 'console.log(1);'],
      ['/style.css', 'text/css; charset=utf-8', 'body{}'],
      ['/img/logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg"/>'],
      ['/data.bin', 'application/octet-stream', '\u0000\u0001\u0002'],
    ];
    for (const [path, type, body] of expected) {
      const r = await get(path);
      expect([path, r.status, r.headers['content-type'], r.body]).toEqual([path, 200, type, body]);
      expect(r.headers['content-security-policy']).toBe(VIEWER_CSP);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
    }
    expect(VIEWER_CSP).toContain("script-src 'self'");
    expect(VIEWER_CSP).not.toContain('unsafe-inline');
  });

  it('answers HEAD with the headers and no body', async () => {
    const get = await served();
    const r = await get('/viewer.js', 'HEAD');
    expect([r.status, r.headers['content-length'], r.body]).toEqual([200, '15', '']);
  });

  it('a name that is not one of the files is not served, whatever dot segments or encodings it holds', async () => {
    const get = await served();
    for (const path of ['/nothing.js', '/../secret.txt', '/img/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/img/..%5c..%5csecret.txt', '//secret.txt', '/img', '/img/', '/viewer.js/', '/VIEWER.JS']) {
      const r = await get(path);
      expect([path, r.status, r.body]).toEqual([path, 404, 'none']);
    }
  });

  it('a folder that was never built serves nothing and says so through built', async () => {
    const { dir, cleanup } = tempDir('static-none');
    undo.push(cleanup);
    const files = new StaticFiles(join(dir, 'missing'));
    expect(files.built).toBe(false);
    expect(new StaticFiles(join(dir)).built).toBe(false);
  });
});
