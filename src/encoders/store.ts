import type { Entry, HeaderMap } from '../core/entry.js';
import { frameEntry } from '../core/store-frame.js';
import type { Encoder, EncoderContext, EncoderModule } from './encoder.js';
import { isCredentialHeader } from './redact.js';
import { registerEncoder } from './registry.js';

/**
 * The store writer's format: each request and access entry as one frame (core/store-frame.ts), the entry's own
 * fields as JSON and its captured body texts raw after them, so the writer can fill its columns from the
 * structured entry without writers ever seeing entry objects (the queue, its byte bound and the log thread carry
 * bytes).
 * Credentials are redacted here, as every format redacts them, unless the log sets log_credentials.
 * Process entries have no exchange to store.
 */
export class StoreEncoder implements Encoder {
  constructor(private readonly ctx: EncoderContext) {}

  encode(entry: Entry): string | null {
    if (entry.kind === 'process') return null;
    if (this.ctx.logCredentials) return frameEntry(entry);
    const request = { ...entry.request, headers: redacted(entry.request.headers) };
    return frameEntry(entry.kind === 'access' ? { ...entry, request, resp_headers: redacted(entry.resp_headers) } : { ...entry, request });
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
