import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the viewer (web/build.mjs): dist/web beside dist/src, which this module is in. */
export const VIEWER_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page may run only its own script and style (no inline script, no eval), fetch only this listener, show
 * images from itself and from the blob: and data: URLs it makes of captured bytes, and be framed by nobody.
 */
export const VIEWER_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' blob: data:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

interface StaticFile {
  type: string;
  bytes: Buffer;
}

/**
 * The viewer's built files, read into memory when the admin listener starts: a few hundred KB, so serving them
 * touches no file (no await without a deadline), and a path is answered only when it is one of these names —
 * `..`, encoded or not, or any other name is a 404, never a read outside the folder.
 */
export class StaticFiles {
  private readonly files = new Map<string, StaticFile>();

  constructor(readonly root: string) {
    if (existsSync(root)) this.read(root, '/');
  }

  /** Whether the folder held a page at all (`npm run build` writes it). */
  get built(): boolean {
    return this.files.has('/index.html');
  }

  private read(dir: string, prefix: string): void {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) this.read(path, `${prefix}${name}/`);
      else this.files.set(prefix + name, { type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream', bytes: readFileSync(path) });
    }
  }

  /** Answers GET or HEAD of `path` (`/` is index.html); false when there is no such file, for the caller's 404. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const file = this.files.get(path === '/' ? '/index.html' : path);
    if (file === undefined) return false;
    res.writeHead(200, {
      'Content-Type': file.type,
      'Content-Length': file.bytes.length,
      'Content-Security-Policy': VIEWER_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      // Built files change only with kflog itself: a browser asks again, and the answer is small.
      'Cache-Control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : file.bytes);
    return true;
  }
}
