/**
 * How a replayed request says which exchange it replays: `kflog replay` sends this header, and the proxy takes it
 * off before forwarding (the upstream never sees it) and records its value as the request's `replay_of`.
 */
export const REPLAY_OF_HEADER = 'kflog-replay-of';

/** A trace ID as kflog makes them (uuid v7 or v4, lower-case hex): the only shape `replay_of` takes. */
const TRACE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The header's value when it is one trace ID, else undefined: anything else a client sends (a repeated header,
 * which node joins with ", ", text, control bytes) is ignored, so no client writes into the log what it likes.
 */
export function replayOf(header: string | undefined): string | undefined {
  return header !== undefined && TRACE_ID.test(header) ? header : undefined;
}
