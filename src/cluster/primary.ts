import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config/types.js';
import { LogServer } from '../handover/log-server.js';
import { Pipeline, type ProcessLogger } from '../emit/pipeline.js';
import type { LogStats } from '../emit/log.js';
import { RetiredStats } from '../emit/retired-stats.js';
import { sumCounts, type ForwardCounts } from '../proxy/meter.js';
import type { ReloadSummary } from '../proxy/reload-summary.js';
import { WriterPool } from '../writers/pool.js';
import type { FromListener, FromPrimary } from './protocol.js';

export interface ListenerReload {
  /** The listener process, 1…N. */
  n: number;
  summary?: ReloadSummary;
  error?: string;
}

interface ListenerSlot {
  n: number;
  worker: Worker;
  server: LogServer;
  ready: boolean;
  /** Answers awaited from reloads, in the order they were sent. */
  reloads: Array<(r: { summary?: ReloadSummary; error?: string }) => void>;
  /** The counts the process reported as it stopped (undefined when it died instead). */
  finalStats: LogStats[] | undefined;
  /** Answers awaited to `counts`, by request id. */
  counts: Map<number, (forwards: ForwardCounts[]) => void>;
  exited: Promise<void>;
}

/**
 * The primary of a cluster (`listener_processes` > 1): forks the listener processes, which share every
 * listening port through node:cluster, and encodes and writes the logs of all of them — one LogServer per
 * listener process, one WriterPool for all — so each file is written by this process alone, whole lines in the
 * order they arrive, and every entry a listener process sent is written or counted here.
 *
 * A listener process that dies is replaced; the entries of its last batch (at most 20 ms of them) are lost
 * with it, as are its in-flight exchanges.
 */
export class ClusterPrimary {
  private readonly pool = new WriterPool();
  private readonly slots = new Map<number, ListenerSlot>();
  /** Final counts of listener processes that ended and of the own pipelines of earlier configs. */
  private readonly retired = new RetiredStats();
  private stopping: Promise<LogStats[]> | undefined;
  private nextCountsId = 1;
  /** The primary's own entries (logger "kflog": a listener process ended, came back), through the same logs. */
  private own: Pipeline;
  /** Closing of the own pipelines of earlier configs. */
  private retiring: Promise<void> = Promise.resolve();

  private constructor(private config: Config) {
    this.own = new Pipeline(config.logs, this.pool);
  }

  /** Starts every listener process; rejects (having stopped the others) when one cannot start its config. */
  static async start(config: Config): Promise<{ primary: ClusterPrimary; tryLines: string }> {
    cluster.setupPrimary({ serialization: 'advanced' });
    const primary = new ClusterPrimary(config);
    try {
      await primary.own.ready();
    } catch (err) {
      await primary.own.close();
      throw err;
    }
    const started = Array.from({ length: config.listenerProcesses }, (_, i) => primary.fork(i + 1));
    const results = await Promise.allSettled(started);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await primary.stop();
      throw failed.reason;
    }
    return { primary, tryLines: (results[0] as PromiseFulfilledResult<string>).value };
  }

  /** The config running (the last one sent, with the process count fixed at start). */
  get current(): Config {
    return this.config;
  }

  /** The primary's own messages (logger "kflog"), through the logs of the config running. */
  get kflog(): ProcessLogger {
    return this.own.logger('kflog');
  }

  /** Process IDs of the listener processes, in order. */
  get pids(): number[] {
    return [...this.slots.values()].sort((a, b) => a.n - b.n).map((s) => s.worker.process.pid ?? 0);
  }

  /** Sends the new config to every listener process; each reloads on its own and answers. */
  reload(config: Config): Promise<ListenerReload[]> {
    if (this.stopping) return Promise.reject(new Error('kflog is stopping'));
    // The number of processes is fixed at start; replacements start with the latest config.
    this.config = { ...config, listenerProcesses: this.config.listenerProcesses };
    const previous = this.own;
    this.own = new Pipeline(this.config.logs, this.pool);
    void this.own.ready().catch(() => undefined);
    const retired = this.retired.retire(previous);
    this.retiring = Promise.all([this.retiring, retired]).then(() => undefined);
    const ready = [...this.slots.values()].filter((s) => s.ready);
    return Promise.all(
      ready.map(
        (s) =>
          new Promise<ListenerReload>((resolve) => {
            s.reloads.push((r) => resolve({ n: s.n, ...r }));
            send(s.worker, { op: 'reload', config: this.config });
          }),
      ),
    );
  }

  /** SIGUSR1: reopen every file (they are all open here). */
  reopen(): Promise<void> {
    return this.pool.reopenAll();
  }

  /** Stops every listener process (each finishes its exchanges and closes its logs); the summed final counts. */
  stop(): Promise<LogStats[]> {
    this.stopping ??= (async () => {
      const slots = [...this.slots.values()];
      for (const s of slots) send(s.worker, { op: 'stop' });
      await Promise.all(slots.map((s) => s.exited));
      await this.own.close();
      await this.retiring;
      return this.retired.total(this.own.stats());
    })();
    return this.stopping;
  }

  /** A second Ctrl-C: every listener process cuts its in-flight exchanges now, then stops as stop() does. */
  cutInFlight(reason: string): Promise<LogStats[]> {
    for (const s of this.slots.values()) send(s.worker, { op: 'cut', reason });
    return this.stop();
  }

  /**
   * Every listener process's forward counts, summed per forward, for the admin listener's /metrics. A process that
   * does not answer within `deadlineMs` (busy, or just replaced) is left out of this scrape; one that was replaced
   * starts from zero, which Prometheus' rate() reads as a counter reset.
   */
  async forwardCounts(deadlineMs = COUNTS_DEADLINE_MS): Promise<ForwardCounts[]> {
    const id = this.nextCountsId++;
    const answers = [...this.slots.values()].filter((s) => s.ready).map((s) =>
      new Promise<ForwardCounts[]>((resolve) => {
        const timer = setTimeout(() => {
          s.counts.delete(id);
          resolve([]);
        }, deadlineMs);
        s.counts.set(id, (forwards) => {
          clearTimeout(timer);
          resolve(forwards);
        });
        send(s.worker, { op: 'counts', id });
      }));
    return sumCounts((await Promise.all(answers)).flat());
  }

  /** The per-log counts so far (what the exit summary prints when the flush cannot wait). */
  statsNow(): LogStats[] {
    return this.retired.total(this.own.stats());
  }

  /** Starts listener process `n`; resolves with its try lines once it listens on every forward. */
  private fork(n: number): Promise<string> {
    const worker = cluster.fork();
    // A send to a process that just ended fails with EPIPE here; the end itself is handled on 'exit'.
    worker.on('error', () => undefined);
    const server = new LogServer((m) => send(worker, m), this.pool, acknowledger(worker));
    let exited!: () => void;
    const slot: ListenerSlot = {
      n,
      worker,
      server,
      ready: false,
      reloads: [],
      finalStats: undefined,
      counts: new Map(),
      exited: new Promise((resolve) => (exited = resolve)),
    };
    this.slots.set(n, slot);
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromListener) => {
        switch (m.op) {
          case 'hello':
            send(worker, { op: 'start', config: this.config });
            return;
          case 'ready':
            slot.ready = true;
            resolve(m.tryLines);
            return;
          case 'failed':
            reject(new Error(m.error));
            return;
          case 'reloaded':
            slot.reloads.shift()?.(m);
            return;
          case 'stopped':
            slot.finalStats = m.stats;
            return;
          case 'counts':
            slot.counts.get(m.id)?.(m.forwards);
            slot.counts.delete(m.id);
            return;
          default:
            server.handle(m);
        }
      });
      worker.once('exit', (code, signal) => {
        const why = signal !== null ? `signal ${signal}` : `code ${code}`;
        reject(new Error(`listener process ${n} exited before it was ready (${why})`));
        void this.ended(slot, why).finally(exited);
      });
    });
  }

  /** A listener process ended: its logs are closed here, its counts kept, and (unless stopping) it is replaced. */
  private async ended(slot: ListenerSlot, why: string): Promise<void> {
    for (const answer of slot.reloads.splice(0)) answer({ error: `listener process ${slot.n} exited (${why})` });
    await slot.server.closeAll();
    this.retired.keep(slot.finalStats ?? slot.server.closedStats);
    if (this.slots.get(slot.n) === slot) this.slots.delete(slot.n);
    if (this.stopping || !slot.ready) return;
    const kflog = this.kflog;
    const pid = slot.worker.process.pid;
    process.stderr.write(`kflog: listener process ${slot.n} (pid ${pid}) exited (${why}); starting another\n`);
    kflog.warn('listener process exited, starting another', { listener: slot.n, pid, reason: why });
    this.fork(slot.n).then(
      () => {
        const back = this.slots.get(slot.n)?.worker.process.pid;
        process.stderr.write(`kflog: listener process ${slot.n} is back (pid ${back})\n`);
        kflog.info('listener process replaced', { listener: slot.n, pid: back });
      },
      (err: Error) => {
        process.stderr.write(`kflog: listener process ${slot.n} could not start again: ${err.message}\n`);
        kflog.error('listener process could not start again', { listener: slot.n, error: err.message });
      },
    );
  }
}

/** How long a scrape waits for a listener process's counts: within Prometheus' default 10 s scrape timeout. */
const COUNTS_DEADLINE_MS = 1000;

/** Bytes consumed are told once a mebibyte has gathered, not per batch: each message wakes the listener process. */
const ACK_BYTES = 1024 * 1024;

/**
 * What a listener process is told of the bytes consumed, which only bounds what it may have in flight (64 MiB):
 * being up to ACK_BYTES late costs nothing, and each message spared is a wake-up of a busy process spared.
 */
function acknowledger(worker: Worker): (bytes: number) => void {
  let unacked = 0;
  return (bytes) => {
    unacked += bytes;
    if (unacked < ACK_BYTES) return;
    send(worker, { op: 'consumed', bytes: unacked });
    unacked = 0;
  };
}

/** A listener process that is gone cannot be told anything: its exit is handled where it is heard. */
function send(worker: Worker, msg: FromPrimary): void {
  if (!worker.isConnected()) return;
  try {
    worker.send(msg);
  } catch {
    // The channel closed between the check and the send.
  }
}
