import { constants } from 'node:os';
import type { LogStats } from '../emit/log.js';
import { formatSummary } from '../kflog.js';
import { waitingLine, type InFlight } from '../proxy/in-flight.js';

/** What the signal handlers stop: one kflog process, or the primary of listener processes. */
export interface Stoppable {
  /** The running config's shutdown_timeout. */
  shutdownTimeoutMs(): number;
  /** The running config's logging.output_deadline: how long flushing and closing the outputs may take. */
  outputDeadlineMs(): number;
  /** Orderly stop: in-flight exchanges finish (up to the timeout), logs flush; the final counts. */
  stop(): Promise<LogStats[]>;
  /** Cut the in-flight exchanges now (each logged as killed, with `reason`), then stop. */
  cutInFlight(reason: string): Promise<LogStats[]>;
  /** The counts so far, for a summary that cannot wait for the flush. */
  statsNow(): LogStats[];
  /** The exchanges being waited for, when this process serves them. */
  inFlight?(): InFlight[];
}

/** How long a second Ctrl-C lets the logs flush the entries of the exchanges it cut. */
export const CUT_FLUSH_MS = 1000;
/** How often the first Ctrl-C says what it waits for. */
const WAITING_EVERY_MS = 1000;

/**
 * SIGINT/SIGTERM, as a terminal user meets them. The first: stop accepting, let in-flight exchanges finish
 * within shutdown_timeout while saying once a second what is still running, flush, print the counts, exit 0.
 * The second: cut what is still running now — each exchange logged as killed (K…) — flush for at most
 * CUT_FLUSH_MS, print the counts, exit 128+signal (130 for Ctrl-C). The third exits at once.
 */
export function stopOnSignals(target: Stoppable): void {
  let received = 0;
  let waiting: NodeJS.Timeout | undefined;
  // The first stop() and the second signal's cut end together: one summary, with the later signal's code.
  let exitCode = 0;
  let exiting = false;
  const exit = (stats: LogStats[]): void => {
    if (exiting) return;
    exiting = true;
    clearInterval(waiting);
    process.stderr.write(formatSummary(stats) + '\n', () => process.exit(exitCode));
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    received++;
    const code = 128 + constants.signals[signal];
    if (received === 1) {
      process.stderr.write(
        `kflog: ${signal}: finishing in-flight exchanges (up to ${target.shutdownTimeoutMs()} ms) and flushing logs;` +
        ` ${signal === 'SIGINT' ? 'Ctrl-C' : signal} again cuts them\n`);
      if (target.inFlight !== undefined) {
        const inFlight = target.inFlight.bind(target);
        const say = (): void => {
          const line = waitingLine(inFlight());
          if (line !== undefined) process.stderr.write(`kflog: ${line}\n`);
        };
        say();
        waiting = setInterval(say, WAITING_EVERY_MS);
        waiting.unref();
      }
      // Every output operation has its deadline; should the stop still not end (a log thread held by a hung
      // file operation), kflog exits anyway once the shutdown timeout and the flush deadline are over.
      const backstop = setTimeout(() => {
        process.stderr.write(`kflog: ${signal}: logs not closed within the output deadline; exiting with what was counted\n`);
        exit(target.statsNow());
      }, target.shutdownTimeoutMs() + target.outputDeadlineMs() + 1000);
      backstop.unref();
      void target.stop().then(exit);
      return;
    }
    if (received === 2) {
      clearInterval(waiting);
      const cut = target.inFlight?.().length;
      process.stderr.write(
        `kflog: ${signal} again: cutting ${cut === undefined ? 'the in-flight exchanges' : `${cut} in-flight exchange${cut === 1 ? '' : 's'}`}` +
        ` and flushing logs (up to ${CUT_FLUSH_MS} ms); once more exits at once\n`);
      exitCode = code;
      const late = setTimeout(() => exit(target.statsNow()), CUT_FLUSH_MS);
      void target.cutInFlight(`cut by a second ${signal}`).then((stats) => {
        clearTimeout(late);
        exit(stats);
      });
      return;
    }
    process.exit(code);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
