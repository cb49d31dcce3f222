import { parseConfigText } from '../../src/config/load.js';
import type { Config, RawConfig, RawForward } from '../../src/config/types.js';
import type { AccessEntry, Entry, RequestEntry } from '../../src/core/entry.js';
import { registerEncoder } from '../../src/encoders/registry.js';
import { Kflog } from '../../src/kflog.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Entries as the pipeline delivers them to a log: a test-only encoder keeps the typed entry (every field, even
 * those a text format leaves out) and writes nothing. Each harness has its own sink.
 */
const sinks = new Map<string, Entry[]>();
registerEncoder({
  name: 'test-collect',
  defaults: {},
  settings: (options) => String(options.sink),
  create: (name) => {
    const sink = sinks.get(name)!;
    return { encode: (entry: Entry) => (sink.push(entry), null) };
  },
});
let sinkSeq = 0;

export interface Harness {
  app: Kflog;
  /** http://127.0.0.1:port of the forward "f1". */
  url: string;
  port: number;
  entries: Entry[];
  access(): AccessEntry[];
  requests(): RequestEntry[];
  /** Waits until at least n access entries are in (deadline), and returns them. */
  waitAccess(n: number, ms?: number): Promise<AccessEntry[]>;
  stop(): Promise<void>;
}

export type ForwardSpec = Omit<RawForward, 'id' | 'listen'> & { id?: string; listen?: string };

/** A validated config whose forwards default to id "f1" on a free loopback port, plus a collecting log. */
export function buildConfig(forwards: ForwardSpec[], extra: Partial<RawConfig> = {}): { config: Config; entries: Entry[] } {
  const raw: RawConfig = {
    forwards: forwards.map((f, i) => ({ id: `f${i + 1}`, listen: '127.0.0.1:0', ...f })),
    logging: { logs: { default: { writer: { output: 'discard' }, encoder: { format: 'json' } } } },
    ...extra,
  };
  const config = withCollector(parseConfigText(JSON.stringify(raw), 'test'));
  return { config, entries: sinks.get(config.logs.at(-1)!.encoder.sink as string)! };
}

/** Starts kflog in-process from a validated config with one forward "f1" on a free port. */
export async function startProxy(forward: ForwardSpec, extra: Partial<RawConfig> = {}): Promise<Harness> {
  const { config, entries } = buildConfig([forward], extra);
  const app = await Kflog.start(config);
  const port = Number(app.address('f1').split(':').at(-1));
  const access = (): AccessEntry[] => entries.filter((e): e is AccessEntry => e.kind === 'access');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    port,
    entries,
    access,
    requests: () => entries.filter((e): e is RequestEntry => e.kind === 'request'),
    waitAccess: async (n, ms = 10_000) => {
      await waitFor(() => `${access().length} of ${n} access entries`, () => access().length >= n, ms);
      return access();
    },
    stop: async () => {
      await app.stop(1000);
    },
  };
}

/**
 * Adds a collecting log (level debug, admits everything) to a resolved config. The collector keeps typed entries
 * in this thread's memory, so the config's pipeline runs on this thread (the log thread has its own registry).
 */
export function withCollector(config: Config): Config {
  config.logThread = false;
  const sink = `s${++sinkSeq}`;
  sinks.set(sink, []);
  config.logs.push({
    name: 'collect', writer: { output: 'discard' }, encoder: { format: 'test-collect', sink }, level: 'debug',
    include: [], exclude: [], logCredentials: true, queueBytes: 1 << 24, outputDeadlineMs: 5000,
  });
  return config;
}
