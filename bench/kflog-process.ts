import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** dist/bench/x.js → dist/src/cli.js: the benches drive the real `kflog run` process, as a user would. */
export const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

export interface KflogProcess {
  child: ChildProcess;
  /** Ports of the forwards, in config order (as printed by `kflog run`). */
  ports: number[];
  stderr(): string;
  /** Resident set size now, in bytes (Linux /proc). */
  rss(): number;
  /** Peak resident set size since start, in bytes (VmHWM). */
  peakRss(): number;
  /** SIGTERM, then the exit code once kflog has flushed everything. */
  stop(): Promise<number | null>;
}

/** Writes `config` to `path` and runs kflog on it; resolves once every forward listens. */
export async function startKflog(path: string, config: unknown, forwards: number, nodeArgs: string[] = []): Promise<KflogProcess> {
  writeFileSync(path, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'run', '--config', path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 30_000;
  const pattern = /curl -i http:\/\/[^\s]+:(\d+)\//g;
  for (;;) {
    const ports = [...err.matchAll(pattern)].map((m) => Number(m[1]));
    if (ports.length >= forwards) {
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return {
        child,
        ports,
        stderr: () => err,
        rss: () => procStatus(child.pid!, 'VmRSS'),
        peakRss: () => procStatus(child.pid!, 'VmHWM'),
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`kflog did not start:\n${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function procStatus(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export const MiB = 1024 * 1024;

export function mb(bytes: number): string {
  return (bytes / MiB).toFixed(1) + ' MiB';
}

/** `--name value` from argv, as a number. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] !== undefined ? Number(process.argv[i + 1]) : fallback;
}
