import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Keeps relayed bytes from piling up in memory between garbage collections.
 *
 * Every socket read allocates a fresh buffer (64 KiB at a time) that dies as soon as it is written on. V8 frees a
 * dead buffer only when it collects the young generation, and it schedules that by JS heap growth and an external
 * memory allowance of tens of MiB — a proxy streaming at hundreds of MiB/s allocates little JS and a lot of
 * buffers, so dead ones accumulate up to that allowance, and the allocator's free lists keep it resident. Asking
 * for a young-generation collection (a scavenge: sub-millisecond at this heap size) every SCAVENGE_EVERY relayed
 * bytes bounds that pile whatever the transfer size, at a cost well under one per cent of the relaying time.
 */
const SCAVENGE_EVERY = 4 * 1024 * 1024;

type GcFunction = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

function exposeGc(): GcFunction | undefined {
  const existing = (globalThis as { gc?: GcFunction }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    // A fresh context sees the flag; the function it returns collects this whole isolate.
    const gc = runInNewContext('gc') as GcFunction | undefined;
    setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? gc : undefined;
  } catch {
    return undefined;
  }
}

const gc = exposeGc();
let relayed = 0;

/** Counts body bytes relayed (either way, any exchange); past the threshold, asks for a young-generation GC. */
export function relayedBytes(n: number): void {
  relayed += n;
  if (relayed < SCAVENGE_EVERY) return;
  relayed = 0;
  if (gc !== undefined) gc({ type: 'minor', execution: 'async' });
}
