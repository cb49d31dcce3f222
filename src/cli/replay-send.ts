import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { BodyCapture, decodableCoding } from '../proxy/capture.js';
import { forwardableHeaders, headerMap, rawHeaderStrings } from '../proxy/headers.js';
import { nowMs } from '../core/clock.js';
import type { CapturedBody, HeaderMap } from '../core/entry.js';
import { firstHeader } from '../encoders/headers.js';

/** Sends one request and reads its response as kflog would have logged it, every socket step under a deadline. */

/** Connecting: as a forward's default connect timeout. */
const CONNECT_TIMEOUT_MS = 10_000;
/** Waiting for the response head, then between body chunks: as a forward's default headers and body timeouts. */
const HEADERS_TIMEOUT_MS = 60_000;
const BODY_TIMEOUT_MS = 60_000;
/** The whole exchange, so a body trickled in just under the body timeout still ends. */
const TOTAL_TIMEOUT_MS = 120_000;
/** Response bytes kept for display and comparison; the rest are counted. */
export const MAX_RESPONSE_BYTES = 1 << 20;

export interface SentRequest {
  url: string;
  method: string;
  headers: Array<[string, string]>;
  body: Buffer | undefined;
  /** A CA file to trust besides node's roots (kflog's local CA, for a forward with `listen_tls: "internal"`). */
  caFile?: string;
}

export interface ReplayResponse {
  status: number;
  statusText: string;
  /** As a forward logs them: hop-by-hop headers left out. */
  headers: HeaderMap;
  /** Captured as a forward captures it (decoded from gzip, br, deflate), at most MAX_RESPONSE_BYTES kept. */
  body: CapturedBody;
  tookMs: number;
  at: number;
}

/** A replay that got no response: the message says where and why, for one line on stderr. */
export class ReplayFailed extends Error {
  override name = 'ReplayFailed';
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(err);
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message;
}

export async function sendRequest(req: SentRequest): Promise<ReplayResponse> {
  let ca: string[] | undefined;
  try {
    // node's `ca` replaces its roots: they are given again beside the extra one.
    ca = req.caFile === undefined ? undefined : [...rootCertificates, readFileSync(req.caFile, 'utf8')];
  } catch (err) {
    throw new ReplayFailed(`cannot read ${req.caFile!}, the CA of ${req.url}: ${reason(err)}`);
  }
  const agent = new Agent({ connect: { timeout: CONNECT_TIMEOUT_MS, ...(ca !== undefined ? { ca } : {}) }, headersTimeout: HEADERS_TIMEOUT_MS, bodyTimeout: BODY_TIMEOUT_MS });
  const started = performance.now();
  try {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers.flat(),
      body: req.body ?? null,
      dispatcher: agent,
      signal: AbortSignal.timeout(TOTAL_TIMEOUT_MS),
      // The raw list: names as sent and repeated values kept apart, as a forward logs them (undici's typings give
      // the object form whatever this option says).
      responseHeaders: 'raw',
    });
    const raw = rawHeaderStrings(res.headers as unknown as string[]);
    const headers = headerMap(forwardableHeaders(raw));
    const capture = new BodyCapture(MAX_RESPONSE_BYTES, firstHeader(headers, 'Content-Type'), decodableCoding(firstHeader(headers, 'Content-Encoding')));
    for await (const chunk of res.body) capture.add(chunk as Buffer);
    return {
      status: res.statusCode,
      statusText: res.statusText ?? '',
      headers,
      body: capture.result(),
      tookMs: performance.now() - started,
      at: nowMs(),
    };
  } catch (err) {
    throw new ReplayFailed(`cannot send ${req.method} ${req.url}: ${reason(err)}`);
  } finally {
    await agent.destroy();
  }
}
