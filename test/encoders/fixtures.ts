import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Encoder, EncoderContext, EncoderOptions } from '../../src/encoders/encoder.js';
import '../../src/modules.js';
import { createEncoder } from '../../src/encoders/registry.js';

/** ../shared/reference beside the repo (as CI lays it out), unless KFLOG_REFERENCE_DIR says otherwise. */
export const REFERENCE_DIR = process.env.KFLOG_REFERENCE_DIR ?? fileURLToPath(new URL('../../../shared/reference', import.meta.url));

export function referenceLines(name: string): string[] {
  return readFileSync(`${REFERENCE_DIR}/${name}`, 'utf8').split('\n').filter((l) => l !== '');
}

export function referenceText(name: string): string {
  return readFileSync(`${REFERENCE_DIR}/${name}`, 'utf8');
}

export const CTX: EncoderContext = { logCredentials: false, isTTY: false };

export function encoder(options: EncoderOptions, ctx: Partial<EncoderContext> = {}): Encoder {
  return createEncoder(options, { ...CTX, ...ctx });
}

/** encode() as a string (every kflog encoder returns strings). */
export function enc(e: Encoder, entry: Parameters<Encoder['encode']>[0]): string | null {
  const out = e.encode(entry);
  return out === null ? null : out.toString();
}

const MONTH: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** `21/Nov/2026:08:46:39 +0000` or `21/Nov/2026:08:48:19.732` → epoch ms. */
export function parseClfDate(s: string): number {
  const m = /^(\d{2})\/(\w{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?(?: ([+-])(\d{2})(\d{2}))?$/.exec(s);
  if (!m) throw new Error('bad date ' + s);
  const offset = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  return Date.UTC(Number(m[3]), MONTH[m[2]!]!, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0)) - offset * 60_000;
}
