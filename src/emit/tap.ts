import type { AccessEntry, Entry } from '../core/entry.js';
import type { EntrySink, ProcessLogger } from './pipeline.js';
import type { LogStats } from './log.js';

export type AccessListener = (entry: AccessEntry) => void;

/**
 * The access entries of a running kflog, for whoever listens now (the admin listener's live stream). Not a log:
 * it keeps nothing, has no queue, and each listener bounds what it holds itself. While nobody listens it costs
 * the emit one comparison.
 */
export class ExchangeTap {
  private readonly listeners = new Set<AccessListener>();
  /** Read on every emit: a field, not a getter over the set, to keep that a load and a compare. */
  listening = false;

  subscribe(listener: AccessListener): () => void {
    this.listeners.add(listener);
    this.listening = true;
    return () => {
      this.listeners.delete(listener);
      this.listening = this.listeners.size > 0;
    };
  }

  deliver(entry: AccessEntry): void {
    for (const l of this.listeners) l(entry);
  }
}

/**
 * A pipeline that also hands each access entry to a tap, after its logs took it. The tap sees what some log
 * admits (an exchange no log wants has no entry built at all), on the proxy's thread, before the log thread.
 */
export class TappedSink implements EntrySink {
  constructor(
    private readonly inner: EntrySink,
    private readonly tap: ExchangeTap,
  ) {}

  wants(logger: string): boolean {
    return this.inner.wants(logger);
  }

  emit(entry: Entry): void {
    this.inner.emit(entry);
    if (this.tap.listening && entry.kind === 'access') this.tap.deliver(entry);
  }

  logger(name: string): ProcessLogger {
    return this.inner.logger(name);
  }

  ready(): Promise<void> {
    return this.inner.ready();
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  stats(): LogStats[] {
    return this.inner.stats();
  }

  reopen(): Promise<void> {
    return this.inner.reopen();
  }
}
