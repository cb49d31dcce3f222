import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isLoopbackHost } from '../config/admin.js';
import type { AdminConfig } from '../config/types.js';

/** Why a request is refused before it reaches a route: its status and the one line the client is told. */
export interface Refused {
  status: 401 | 403;
  reason: string;
}

/**
 * The request's URL as the routes read it (dot segments resolved): the guard judges the very path that is served,
 * so `/x/../api/exchanges` is an /api/ path here too.
 */
export function requestUrl(req: IncomingMessage): URL {
  return new URL(req.url ?? '/', 'http://admin.invalid');
}

/** Methods that change something: their Origin must be the admin listener's own, as Caddy's admin enforces. */
const CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The checks every admin request passes first. Host defeats DNS rebinding (a page of evil.example whose name
 * now resolves to 127.0.0.1 sends `Host: evil.example`); Origin defeats a cross-site form or fetch that changes
 * something; the token, when set, is required of every request.
 */
export class AdminGuard {
  private readonly hosts: Set<string>;
  private readonly origins: Set<string>;
  private readonly token: Buffer | undefined;

  constructor(cfg: AdminConfig, port: number) {
    const names = isLoopbackHost(cfg.host) ? ['localhost', '127.0.0.1', '[::1]'] : [];
    // A wildcard host (every interface) has no one name to hold requests to: the token guards it (config/admin.ts).
    const any = cfg.host === '' || cfg.host === '0.0.0.0' || cfg.host === '::';
    if (!any) names.push(cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host.toLowerCase());
    this.hosts = any ? new Set() : new Set(names.map((n) => `${n}:${port}`));
    this.origins = new Set([...this.hosts].map((h) => `http://${h}`));
    this.token = cfg.token === undefined ? undefined : Buffer.from(cfg.token);
  }

  /** undefined when the request may go on. */
  check(req: IncomingMessage): Refused | undefined {
    const host = (req.headers.host ?? '').toLowerCase();
    if (this.hosts.size > 0 && !this.hosts.has(host)) {
      return { status: 403, reason: `host "${host}" is not this admin listener's (allowed: ${[...this.hosts].join(', ')})` };
    }
    // The viewer's own files hold no traffic: a browser loads them by navigating, which sends no token, and the
    // page then asks for it and sends it with every /api/ request.
    const path = requestUrl(req).pathname;
    const data = path === '/metrics' || path.startsWith('/api/');
    if (this.token !== undefined && data && !this.tokenMatches(req.headers.authorization)) {
      return { status: 401, reason: 'this admin listener needs "Authorization: Bearer <admin.token>"' };
    }
    if (CHANGING.has(req.method ?? '')) {
      const origin = req.headers.origin;
      if (origin === undefined) return { status: 403, reason: `${req.method} needs an Origin header naming this admin listener` };
      if (this.hosts.size > 0 && !this.origins.has(origin.toLowerCase())) {
        return { status: 403, reason: `origin "${origin}" is not this admin listener's` };
      }
    }
    return undefined;
  }

  private tokenMatches(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    if (!m) return false;
    const given = Buffer.from(m[1]!);
    // Equal lengths first: timingSafeEqual throws otherwise, and the length alone says nothing of the token.
    return given.length === this.token!.length && timingSafeEqual(given, this.token!);
  }
}
