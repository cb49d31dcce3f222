import type { Config } from '../config/types.js';

/** What a masked value reads as. */
export const MASKED = '[masked]';

/** Keys whose string values are credentials wherever they appear (admin.token, a TLS key, a password). */
const SECRET_KEY = /token|secret|password|passphrase|credential|authorization|cookie|(^|_)key$/i;

/**
 * The running config as /api/config shows it: every credential masked — values under a secret-looking key, and
 * every header value written in the config (a net writer's headers, say), whatever the header is called.
 */
export function maskedConfig(config: Config): unknown {
  return mask(config, false);
}

function mask(value: unknown, underHeaders: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mask(v, underHeaders));
  if (value === null || typeof value !== 'object') return underHeaders && value !== undefined ? MASKED : value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' && SECRET_KEY.test(k)) out[k] = MASKED;
    else out[k] = mask(v, underHeaders || /headers$/i.test(k));
  }
  return out;
}
