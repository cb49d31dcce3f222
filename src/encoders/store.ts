import type { Entry, HeaderMap } from '../core/entry.js';
import type { Encoder, EncoderContext, EncoderModule } from './encoder.js';
import { isCredentialHeader } from './redact.js';
import { registerEncoder } from './registry.js';

/**
 * The store writer's format: each request and access entry as one line of JSON, the entry's own fields unchanged
 * (bodies as captured: text, or base64 with decoded_from), so the writer can fill its columns from the structured
 * entry without writers ever seeing entry objects (the queue, its byte bound and the log thread carry bytes).
 * Credentials are redacted here, as every format redacts them, unless the log sets log_credentials.
 * Process entries have no exchange to store.
 */
export class StoreEncoder implements Encoder {
  constructor(private readonly ctx: EncoderContext) {}

  encode(entry: Entry): string | null {
    if (entry.kind === 'process') return null;
    if (this.ctx.logCredentials) return JSON.stringify(entry) + '\n';
    const request = { ...entry.request, headers: redacted(entry.request.headers) };
    const out = entry.kind === 'access' ? { ...entry, request, resp_headers: redacted(entry.resp_headers) } : { ...entry, request };
    return JSON.stringify(out) + '\n';
  }
}

const REDACTED_VALUES: readonly string[] = ['REDACTED'];

/** A copy with every credential header's values replaced, as the json format writes them. */
function redacted(headers: HeaderMap): HeaderMap {
  let out: HeaderMap | undefined;
  for (const name in headers) {
    if (!isCredentialHeader(name)) continue;
    out ??= { ...headers };
    out[name] = [...REDACTED_VALUES];
  }
  return out ?? headers;
}

export const storeEncoder: EncoderModule<null> = {
  name: 'store',
  defaults: {},
  settings: () => null,
  create: (_settings, ctx) => new StoreEncoder(ctx),
};

registerEncoder(storeEncoder);
