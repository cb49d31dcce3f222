import type { Entry } from '../core/entry.js';
import type { Exchange } from './har.js';

/** A log's entries as exchanges: each access entry with the request entry of its trace ID, in the log's order. */
export interface JoinedExchanges {
  exchanges: Exchange[];
  /** Request entries no access entry answered (in flight when the log ended, or its access entry went elsewhere). */
  unanswered: number;
}

export function joinExchanges(entries: Iterable<Entry>): JoinedExchanges {
  const requests = new Map<string, Exchange['request']>();
  const exchanges: Exchange[] = [];
  for (const e of entries) {
    if (e.kind === 'request') requests.set(e.trace_id, e);
    else if (e.kind === 'access') {
      const request = requests.get(e.trace_id);
      requests.delete(e.trace_id);
      exchanges.push(request !== undefined ? { request, access: e } : { access: e });
    }
  }
  return { exchanges, unanswered: requests.size };
}
