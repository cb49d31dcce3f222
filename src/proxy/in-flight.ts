import { performance } from 'node:perf_hooks';

/** An exchange (or tunnel) a listener is still serving, as shutdown describes it to the person waiting. */
export interface InFlight {
  /** `GET /delay/30000`: the method and the path; the query is left out, as it may carry a token. */
  readonly what: string;
  /** performance.now() when the request arrived. */
  readonly startedPerf: number;
}

export function describeRequest(method: string | undefined, url: string | undefined): string {
  const u = url ?? '';
  const q = u.indexOf('?');
  // A request line is the client's text: keep it printable and short on a terminal.
  let path = printable(q === -1 ? u : u.slice(0, q));
  if (path.length > 80) path = path.slice(0, 79) + '…';
  return `${printable(method ?? '')} ${path}${q === -1 ? '' : '?…'}`;
}

/** `waiting for 2 exchanges: GET /delay/30000 (3 s), POST /upload (1 s)` — the oldest first, at most five. */
export function waitingLine(active: Iterable<InFlight>, now = performance.now()): string | undefined {
  const all = [...active].sort((a, b) => a.startedPerf - b.startedPerf);
  if (all.length === 0) return undefined;
  const shown = all.slice(0, 5).map((x) => `${x.what} (${Math.floor((now - x.startedPerf) / 1000)} s)`);
  const more = all.length > shown.length ? `, and ${all.length - shown.length} more` : '';
  return `waiting for ${all.length} exchange${all.length === 1 ? '' : 's'}: ${shown.join(', ')}${more}`;
}

function printable(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '·');
}
