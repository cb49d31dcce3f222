import { send } from '../store/helpers.js';

/** Bytes no UTF-8 decoder takes for text (a PNG signature after NUL, 0xFF, 0xFE), so kflog keeps them as base64. */
export const BINARY = Uint8Array.from([0x00, 0x01, 0xff, 0xfe, 0x89, 0x50, 0x4e, 0x47]);

export const JSON_BODY = '{"name":"Ada Lovelace"}';

/**
 * The traffic the HAR tests capture through a running kflog: a text body with a query, a JSON POST with a
 * credential, a binary POST to the same URL, a server error and a slow answer. Sent one after the other, so their
 * order in the store is known.
 */
export async function sendHarTraffic(base: string): Promise<void> {
  await send(`${base}/api/users?page=2`);
  await send(`${base}/echo`, { method: 'POST', headers: { Authorization: 'Bearer s3cret', 'Content-Type': 'application/json' }, body: JSON_BODY });
  await send(`${base}/echo`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: BINARY });
  await send(`${base}/status/503`);
  await send(`${base}/delay/150`);
}
