import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { tempDir } from './files.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist', 'src', 'cli.js');

/** Builds dist/ (what KflogProcess runs) when it is missing or older than the sources. */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) =>
      d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs));
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newest(join(ROOT, 'src'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

export function writeConfig(dir: string, config: unknown, name = 'kflog.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return path;
}

export interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A real `kflog` process: node dist/src/cli.js with the given arguments, stderr and stdout collected. */
export class KflogProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Exited>;
  private waiters: Array<() => void> = [];

  /** `stdout`: a pipe of another program (its stdin) to write to instead of one this test reads. */
  constructor(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; stdout?: Writable } = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.poke();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.poke();
    });
    this.exited = new Promise((res) => this.child.once('exit', (code, signal) => {
      this.poke();
      res({ code, signal });
    }));
  }

  private poke(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits (deadline, not sleep) until the collected output satisfies `test`. */
  async waitFor<T>(test: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = test();
      if (v) return v;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        const again = test();
        if (again) return again;
        throw new Error(`kflog exited (${this.child.exitCode ?? this.child.signalCode}) before ${what}\nstderr:\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}\nstderr:\n${this.stderr}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  /** Address of each forward, from kflog's "listening" messages (console format on stderr). */
  async listening(ids: string[]): Promise<Record<string, string>> {
    return this.waitFor(() => {
      const out: Record<string, string> = {};
      for (const m of this.stderr.matchAll(/listening forward=(\S+) address=(\S+)/g)) out[m[1]!] = m[2]!;
      // The "try" line comes once kflog is ready as a whole (signal handlers in, every listener process up).
      return ids.every((id) => id in out) && this.stderr.includes('kflog: listening; try:') ? out : undefined;
    }, `listening on ${ids.join(', ')}`);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exited> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Starts `kflog run --config` with the given config object and waits until every forward listens. */
export async function startKflog(config: { forwards: Array<{ id: string } & Record<string, unknown>> } & Record<string, unknown>, dir = tempDir().dir) {
  const path = writeConfig(dir, config);
  const proc = new KflogProcess(['run', '--config', path], { cwd: dir });
  const addresses = await proc.listening(config.forwards.map((f) => f.id));
  return { proc, addresses, dir };
}
