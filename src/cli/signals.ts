import { stopOnSignals, type Stoppable } from './stop-signals.js';

/** What one running kflog — a single process, or the primary of listener processes — does on each signal. */
export interface SignalTarget extends Stoppable {
  /** SIGHUP: load the config again and switch to it (failures are reported, never thrown). */
  reload(): void;
  /** SIGUSR1: reopen every file, for an external logrotate. */
  reopen(): void;
}

/**
 * The signals of `kflog run`, wired in one place so a single process and a cluster's primary cannot drift apart:
 * SIGINT/SIGTERM stop (stop-signals.ts), SIGHUP reloads, SIGUSR1 reopens. (A listener process wires its own: the
 * primary acts for it on a terminal's signals.)
 */
export function handleSignals(target: SignalTarget): void {
  stopOnSignals(target);
  process.on('SIGUSR1', () => target.reopen());
  process.on('SIGHUP', () => target.reload());
}
