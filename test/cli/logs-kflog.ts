import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { UndoList } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/files.js';
import { CLI, startKflog, type KflogProcess } from '../helpers/kflog-process.js';
import { waitFor } from '../helpers/wait.js';
import { send, stopAndFlush, type CliResult } from '../store/helpers.js';

/** What `kflog logs` is tested on: a real kflog whose logs rolled, its files as it left them. */
export interface RolledKflog {
  proc: KflogProcess;
  dir: string;
  /** Where both forwards' log files are. */
  logs: string;
  config: string;
  store: string;
  /** The port forward "demo" listened on: its files are demo_<port>.* */
  demoPort: number;
  /** Sends `n` exchanges through forward "demo". */
  traffic(n: number): Promise<void>;
  /** SIGTERM, and waits for the exit: every log written, every roll compressed. */
  stop(): Promise<void>;
}

/**
 * A real kflog with two forwards to the builtin sample API: "demo" logs kftray blocks to a file that rolls every
 * 4 KiB, compressed (so a few exchanges make several rolls), "other" to a plain file; both `{forward.id}_…` names
 * in one directory; every exchange also goes to the store. At least `exchanges` are sent through "demo" before it
 * returns, and more until its log has rolled `rolls` times.
 */
export async function startRolledKflog(undo: UndoList, exchanges = 20, rolls = 3): Promise<RolledKflog> {
  const { dir, cleanup } = tempDir('logs');
  undo.push(cleanup);
  const logs = join(dir, 'http_logs');
  const store = join(dir, 'exchanges.db');
  const capture = { request_body: true, response_body: true };
  const { proc, addresses } = await startKflog(
    {
      forwards: [
        {
          id: 'demo',
          listen: '127.0.0.1:0',
          target: { builtin: 'echo' },
          capture,
          log: { format: 'kftray', writer: { output: 'file', filename: join(logs, '{forward.id}_{listen.port}.log'), roll_size_mb: 4 / 1024, roll_gzip: true } },
        },
        { id: 'other', listen: '127.0.0.1:0', target: { builtin: 'echo' }, log: { format: 'json', filename: join(logs, '{forward.id}.log') } },
      ],
      logging: { logs: { default: { exclude: ['http.log'] }, store: { include: ['http.log'], writer: { output: 'store', path: store } } } },
    },
    dir,
  );
  undo.push(() => proc.stop());
  const demo = `http://${addresses.demo!}`;
  const traffic = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await send(`${demo}/echo`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: `exchange ${i} `.repeat(20) });
  };
  await traffic(exchanges);
  // Batches that come while the machine is busy make fewer, larger rolls: more traffic until there are enough.
  const port = addresses.demo!.split(':')[1]!;
  const roll = new RegExp(`^demo_${port}\\.(\\d+)\\.log(\\.gz)?$`);
  await waitFor(`${rolls} rolls of demo's log`, async () => {
    // Numbers, not files: a roll being compressed is there twice for a moment. The highest is the active file.
    if (new Set(namesIn(logs).map((n) => roll.exec(n)?.[1]).filter(Boolean)).size > rolls) return true;
    await traffic(5);
    return false;
  }, 20_000, 0);
  await send(`http://${addresses.other!}/api/users`);
  return {
    proc,
    dir,
    logs,
    config: join(dir, 'kflog.json'),
    store,
    demoPort: Number(addresses.demo!.split(':')[1]),
    traffic,
    stop: () => stopAndFlush({ proc, base: demo, dir, db: store }),
  };
}

/** The names in a directory, sorted; [] while it does not exist (a log's first batch is still on its way). */
export function namesIn(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs the kflog CLI on a pseudo-terminal (util-linux `script`), answers its question with `answer` once the
 * question is on the terminal, and resolves with what the terminal showed and the exit code, within a deadline.
 */
export function kflogOnTerminal(args: string[], answer: string, cwd?: string): Promise<CliResult> {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let asked = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (!asked && stdout.includes('[y/N] ')) {
      asked = true;
      child.stdin.write(answer + '\n');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kflog on a terminal did not finish; it showed:\n${stdout}${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ListedFile {
  group: string;
  /** As printed: "890 B", "1.5 KiB". */
  size: string;
  time: string;
  path: string;
  /** "(active)", "-> demo_1234.3.log", or "". */
  note: string;
}

/** The file lines of a `kflog logs` listing, each with the group heading above it. */
export function listedFiles(stdout: string): ListedFile[] {
  const out: ListedFile[] = [];
  let group = '';
  for (const line of stdout.split('\n')) {
    const file = /^ +(\d+(?:\.\d)? (?:B|KiB|MiB|GiB))  (\S+)  (\S+)(?:  (.*))?$/.exec(line);
    if (file) out.push({ group, size: file[1]!, time: file[2]!, path: file[3]!, note: file[4] ?? '' });
    else if (/^\S/.test(line) && !line.startsWith('total')) group = line;
  }
  return out;
}

const UNIT: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/** Whether a printed size ("1.5 KiB") is `bytes`: in the largest unit it has one of, exact in bytes, else to 0.1. */
export function sizeIs(printed: string, bytes: number): boolean {
  const [n, unit] = printed.split(' ') as [string, string];
  const scale = UNIT[unit]!;
  if (bytes >= scale * 1024 || (unit !== 'B' && bytes < scale)) return false;
  return unit === 'B' ? Number(n) === bytes : Math.abs(Number(n) * scale - bytes) <= 0.05 * scale;
}
