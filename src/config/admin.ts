import { parseListen, type ConfigProblem } from './validate.js';
import type { AdminConfig, RawConfig } from './types.js';

/** Where the admin listener binds when the config does not say: Caddy's admin address. */
export const DEFAULT_ADMIN_LISTEN = '127.0.0.1:2019';

/** A host only this machine can reach: the admin listener may bind it without a token. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * What the schema cannot say about `admin`: its listen address parses, and one that is not loopback has a token —
 * the listener shows captured traffic, secrets included when a log keeps them.
 */
export function adminProblems(doc: unknown): ConfigProblem[] {
  const admin = (doc as { admin?: unknown } | null)?.admin;
  if (admin === undefined || admin === false || typeof admin !== 'object' || admin === null) return [];
  const { listen, token } = admin as { listen?: unknown; token?: unknown };
  if (typeof listen !== 'string') return [];
  const parsed = parseListen(listen);
  if ('error' in parsed) return [{ pointer: '/admin/listen', reason: parsed.error }];
  if (!isLoopbackHost(parsed.host) && typeof token !== 'string') {
    const host = parsed.host === '' ? 'every interface' : `"${parsed.host}"`;
    return [{
      pointer: '/admin/listen',
      reason: `${host} is not loopback: set admin.token too, since whoever reaches the admin listener sees the captured traffic`,
    }];
  }
  return [];
}

/** The admin listener's settings, or undefined for `"admin": false`. */
export function resolveAdmin(raw: RawConfig['admin']): AdminConfig | undefined {
  if (raw === false) return undefined;
  const written = raw?.listen;
  const listen = parseListen(written ?? DEFAULT_ADMIN_LISTEN);
  if ('error' in listen) throw new Error(listen.error); // unreachable: validated before
  return { host: listen.host, port: listen.port, explicit: written !== undefined, token: raw?.token };
}
