import { STATUS_CODES } from 'node:http';
import { guardBlockText as guard } from '../encoders/block-guard.js';
import { viewBody } from '../encoders/body.js';
import { displayBlock, displayText, displayWire } from '../encoders/escape.js';
import { isCredentialHeader, REDACTED } from '../encoders/redact.js';
import { Rfc3339Micro } from '../encoders/time.js';
import type { ReplayResponse } from './replay-send.js';

/** How `kflog replay` prints the response it got: a kftray response block, credentials redacted. */

const SEPARATOR = '----------------------------------------';

export function responseBlock(res: ReplayResponse, replayOf: string): string {
  const reason = res.statusText !== '' ? res.statusText : (STATUS_CODES[res.status] ?? '');
  let headers = '';
  for (const name in res.headers) {
    const shownName = displayWire(name);
    if (isCredentialHeader(name)) headers += shownName + ': ' + REDACTED + '\n';
    else for (const v of res.headers[name]!) headers += shownName + ': ' + displayWire(v) + '\n';
  }
  const body = viewBody(res.body, res.headers, res.body.bytes);
  let bodyText = '';
  if (body.text !== undefined) bodyText += guard(displayBlock(body.text)) + '\n';
  if (body.marker !== undefined) bodyText += displayWire(body.marker) + '\n';
  return SEPARATOR + '\nReplay of: ' + replayOf + '\nResponse at: ' + new Rfc3339Micro().format(res.at) +
    '\nTook: ' + Math.floor(res.tookMs) + ' ms\nStatus: ' + res.status + (reason ? ' ' + displayText(reason) : '') + '\n' +
    '\nHeaders:\n' + guard(headers) + '\nBody:\n' + bodyText + '\n';
}

export function differencesBlock(lines: string[] | undefined): string {
  if (lines === undefined) return SEPARATOR + '\nNo captured response to compare with (the exchange had not ended when it was stored).\n';
  if (lines.length === 0) return SEPARATOR + '\nThe same as the captured response (Date, Age and Expires not compared).\n';
  return SEPARATOR + '\nDifferences from the captured response:\n' + lines.map((l) => guard(l) + '\n').join('');
}
