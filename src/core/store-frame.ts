import type { AccessEntry, CapturedBody, RequestEntry } from './entry.js';

/**
 * How the store encoder hands an exchange entry to the store writer: the entry as JSON, except the text of its
 * captured bodies, which follow it raw, their lengths in a first line:
 *
 *   <head length> <request body length> <response body length>\n<head JSON><request body><response body>\n
 *
 * Lengths are in UTF-16 units (a string's length); -1 means that body's text is in the head (a short one, or one
 * holding a NUL), or there is none.
 * A body in JSON is mostly escapes (a JSON body's every quote becomes \"): writing it there and reading it back
 * was most of what the store cost the log thread for exchanges with bodies, and a slice of the frame costs
 * nothing. The lengths say where everything ends, so no body, whatever it holds, can end a frame early or start
 * another. A body holding a NUL stays in the head, escaped: no encoder's output holds a raw NUL (pieces.ts).
 */

export type StoreFrameEntry = RequestEntry | AccessEntry;

/** Shorter texts stay in the head: escaping a few hundred characters costs less than framing them apart. */
const RAW_BODY_MIN = 256;

/** The body text that goes raw after the head, or undefined when it stays in the head (or there is none). */
function rawText(body: CapturedBody | undefined): string | undefined {
  const text = body?.text;
  return text !== undefined && text.length >= RAW_BODY_MIN && text.indexOf('\u0000') < 0 ? text : undefined;
}

/** A body without its text, which the frame carries after the head (JSON leaves out an undefined). */
function withoutText(body: CapturedBody): Omit<CapturedBody, 'text'> & { text: undefined } {
  return { ...body, text: undefined };
}

/** One entry's frame. `entry` is left as it is. */
export function frameEntry(entry: StoreFrameEntry): string {
  const reqBody = entry.request.body;
  const req = rawText(reqBody);
  const respBody = entry.kind === 'access' ? entry.resp_body : undefined;
  const resp = rawText(respBody);
  let head: object = entry;
  if (req !== undefined || resp !== undefined) {
    const request = req !== undefined ? { ...entry.request, body: withoutText(reqBody!) } : entry.request;
    head = entry.kind === 'access' && resp !== undefined ? { ...entry, request, resp_body: withoutText(respBody!) } : { ...entry, request };
  }
  const json = JSON.stringify(head);
  return `${json.length} ${req !== undefined ? req.length : -1} ${resp !== undefined ? resp.length : -1}\n${json}${req ?? ''}${resp ?? ''}\n`;
}

/** A frame the store encoder did not write (a bug, or a file fed to the store by hand). */
export class StoreFrameError extends Error {
  override name = 'StoreFrameError';
}

/** Every entry of `text`, one or more frames one after another (a batch as the log joins them). */
export function readFrames(text: string): StoreFrameEntry[] {
  const out: StoreFrameEntry[] = [];
  let at = 0;
  while (at < text.length) {
    const eol = text.indexOf('\n', at);
    if (eol < 0) throw new StoreFrameError(`a store frame without its length line at ${at}`);
    const space1 = text.indexOf(' ', at);
    const space2 = space1 < 0 ? -1 : text.indexOf(' ', space1 + 1);
    const headLength = space1 < 0 || space1 > eol ? NaN : Number(text.slice(at, space1));
    const reqLength = space2 < 0 || space2 > eol ? NaN : Number(text.slice(space1 + 1, space2));
    const respLength = Number(text.slice(space2 + 1, eol));
    if (!(headLength > 0) || !(reqLength >= -1) || !(respLength >= -1)) {
      throw new StoreFrameError(`not a store frame's length line at ${at}: ${JSON.stringify(text.slice(at, Math.min(eol, at + 40)))}`);
    }
    let next = eol + 1;
    const entry = JSON.parse(text.slice(next, next + headLength)) as StoreFrameEntry;
    next += headLength;
    if (reqLength >= 0) {
      (entry.request.body as { text?: string }).text = text.slice(next, next + reqLength);
      next += reqLength;
    }
    if (respLength >= 0) {
      ((entry as AccessEntry).resp_body as { text?: string }).text = text.slice(next, next + respLength);
      next += respLength;
    }
    if (text.charCodeAt(next) !== 10) throw new StoreFrameError(`a store frame cut short at ${at}`);
    out.push(entry);
    at = next + 1;
  }
  return out;
}
