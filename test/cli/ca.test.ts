import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { shellQuote } from '../../src/cli/shell-quote.js';
import { tempDir } from '../helpers/files.js';
import { CLI, ensureBuilt, KflogProcess, writeConfig } from '../helpers/kflog-process.js';

/** `kflog ca` run for real, with a HOME of its own so the CA it makes or reads is the test's. */

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A program run to its end within a deadline, with `env` added to this process's. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      if (err !== null && code === null) reject(new Error(`${err.message}\n${stderr}`));
      else resolve({ code, stdout, stderr });
    });
  });
}

const kflogCa = (home: string, ...args: string[]): Promise<Run> => run(process.execPath, [CLI, 'ca', ...args], { HOME: home });

const undo: Array<() => unknown> = [];
afterEach(async () => {
  for (const u of undo.splice(0).reverse()) await u();
});

function home(): string {
  const { dir, cleanup } = tempDir('ca-home');
  undo.push(cleanup);
  return dir;
}

beforeAll(() => {
  ensureBuilt();
});

describe('kflog ca', () => {
  it('makes the CA when there is none, and prints where its certificate is and the curl --cacert and NODE_EXTRA_CA_CERTS lines that trust it', async () => {
    const h = home();
    const root = join(h, '.kflog', 'pki', 'root.crt');
    expect(existsSync(root)).toBe(false);
    const r = await kflogCa(h);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(existsSync(root)).toBe(true);
    expect(r.stdout).toContain(`kflog's local CA certificate: ${root} (made now)\n`);
    expect(r.stdout).toContain(`curl --cacert ${shellQuote(root)} https://127.0.0.1:PORT/\n`);
    expect(r.stdout).toContain(`export NODE_EXTRA_CA_CERTS=${shellQuote(root)}\n`);
  });

  it('run twice, reads the root the first made: the same fingerprint, and nothing made the second time', async () => {
    const h = home();
    const first = JSON.parse((await kflogCa(h, '--json')).stdout) as { created: boolean; sha256: string; cert: string };
    const second = JSON.parse((await kflogCa(h, '--json')).stdout) as { created: boolean; sha256: string; cert: string };
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.sha256).toBe(first.sha256);
    expect(second.cert).toBe(first.cert);
    const text = await kflogCa(h);
    expect(text.stdout).not.toContain('(made now)');
    expect(text.stdout).toContain(first.sha256);
  });

  it('the root it prints is the one a listen_tls "internal" forward is signed by: node trusting it by NODE_EXTRA_CA_CERTS gets an answer', async () => {
    const h = home();
    const ca = JSON.parse((await kflogCa(h, '--json')).stdout) as { cert: string };
    const { dir, cleanup } = tempDir('ca-run');
    undo.push(cleanup);
    const config = writeConfig(dir, { forwards: [{ id: 'web', listen: '127.0.0.1:0', target: { builtin: 'echo' }, listen_tls: 'internal' }] });
    const kflog = new KflogProcess(['run', '--config', config], { cwd: dir, env: { HOME: h } });
    undo.push(() => kflog.stop());
    const { web } = await kflog.listening(['web']);
    // The script fails (exit 1) on any TLS error: node trusts only its own roots and NODE_EXTRA_CA_CERTS.
    const script = `fetch('https://${web!}/api/users', { signal: AbortSignal.timeout(10000) }).then(async (r) => console.log(r.status, (await r.text()).length > 0))`;
    const r = await run(process.execPath, ['-e', script], { HOME: h, NODE_EXTRA_CA_CERTS: ca.cert });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('200 true\n');
    expect(readFileSync(ca.cert, 'utf8')).toContain('BEGIN CERTIFICATE');
  });
});
