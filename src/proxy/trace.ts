import { v4, v7 } from 'uuid';

export type TraceIdFactory = () => string;

/** v7 sorts with time, so a log's trace IDs are in the order exchanges began. */
export function traceIdFactory(version: 'v7' | 'v4'): TraceIdFactory {
  return version === 'v4' ? () => v4() : () => v7();
}
