import type { Config } from '../config/types.js';

/** What a masked value reads as. */
export const MASKED = '[masked]';

/**
 * Keys whose string values are credentials wherever they appear (admin.token, a client key or password a future
 * writer takes). Not "…_key" in general: the json encoder's message_key and level_key name fields.
 */
const SECRET_KEY = /token|secret|password|passphrase|credential|authorization|cookie|client_key|private_key|api_key/i;

/**
 * A PEM private key, wherever it sits: a forward's `tls` holds the client key it read from client_key_file (as
 * `key`, the name node's TLS options give it), and a key is masked by what it is, not by the name it is kept under.
 */
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/**
 * The running config as /api/config shows it, every credential masked: values under a secret-looking key, every
 * value of a header map written in the config, a PEM private key, and the password of a URL (a target
 * `http://user:pass@host`).
 */
export function maskedConfig(config: Config): unknown {
  return mask(config, false);
}

function mask(value: unknown, underHeaders: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => mask(v, underHeaders));
  if (typeof value === 'string') return underHeaders || PEM_PRIVATE_KEY.test(value) ? MASKED : maskUrlPassword(value);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'string' && SECRET_KEY.test(k) ? MASKED : mask(v, underHeaders || /headers$/i.test(k));
  }
  return out;
}

function maskUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = MASKED;
    return url.href;
  } catch {
    return text;
  }
}
