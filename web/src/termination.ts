/**
 * HAProxy's termination state in words (its "Session state at disconnection"), for the two characters kflog sets:
 * who or what ended the exchange, and how far it had got. The last two (persistence cookies) are always "--".
 */

const CAUSE: Readonly<Record<string, string>> = {
  '-': 'ended normally',
  C: 'the client aborted',
  S: 'the server aborted or refused it',
  P: 'kflog (the proxy) ended it: it refused the request or found the response invalid',
  R: 'a resource of kflog ran out',
  I: 'an internal error in kflog',
  D: 'the server was marked down',
  K: 'kflog was stopping or reloading and cut it',
  c: 'the client timed out',
  s: 'the server timed out',
};

const PHASE: Readonly<Record<string, string>> = {
  '-': '',
  R: 'while the client was still sending its request',
  Q: 'while it waited in a queue',
  C: 'while connecting to the server',
  H: 'while waiting for the response headers',
  D: 'while the response body was being sent (data phase)',
  L: 'while the last data was being sent',
  T: 'while it was held back (tarpit)',
};

/** "CD--" → "the client aborted while the response body was being sent (data phase)". */
export function terminationWords(state: string): string {
  if (state === '----' || state === '') return 'ended normally';
  const cause = CAUSE[state[0] ?? ''] ?? `unknown cause "${state[0] ?? ''}"`;
  const phase = PHASE[state[1] ?? ''] ?? `in an unknown phase "${state[1] ?? ''}"`;
  return phase === '' ? cause : `${cause} ${phase}`;
}
