import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { importKftrayCommand, type ImportIo } from '../../src/cli/import-kftray.js';
import { importKftray } from '../../src/kftray/import.js';
import { tempDir } from '../proxy/kube/helpers.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kftray');

interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

async function run(args: string[], stdin?: string): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const io: ImportIo = {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    readFile: (p) => (p === '-' ? (stdin ?? '') : readFileSync(p, 'utf8')),
  };
  const cmd = importKftrayCommand(io)
    .exitOverride()
    .configureOutput({ writeErr: (t) => (out.stderr += t), writeOut: (t) => (out.stdout += t) });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return { ...out, exitCode: 0 };
  } catch (err) {
    if (err instanceof CommanderError) return { ...out, exitCode: err.exitCode };
    throw err;
  }
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length > 0) cleanups.pop()!();
});

describe('kflog import-kftray', () => {
  it('prints the config on stdout and the skipped entries with their reasons on stderr', async () => {
    const file = join(fixtures, 'team-export.json');
    const r = await run([file]);

    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(importKftray(JSON.parse(readFileSync(file, 'utf8'))).config);
    expect(r.stderr).toContain('skipped coredns: protocol "udp" is not HTTP');
    expect(r.stderr).toContain('skipped rds-orders: workload_type "proxy" relays to orders.cluster-abc123');
    expect(r.stderr).toContain('skipped webhook-receiver: workload_type "expose"');
    expect(r.stdout).not.toContain('skipped');
  });

  it('writes the config to the file given with -o', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const out = join(t.dir, 'kflog.json');

    const r = await run([join(fixtures, 'reference', 'configs.json'), '-o', out]);

    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8')).forwards).toHaveLength(5);
    expect(r.stderr).toContain(`wrote ${out}: 5 forward(s), 0 skipped`);
  });

  it('reads the export from stdin with "-"', async () => {
    const r = await run(['-'], readFileSync(join(fixtures, 'reference', 'service-tcp.json'), 'utf8'));

    expect(JSON.parse(r.stdout).forwards[0].id).toBe('my-api');
  });

  it('exits 1 with a message when no entry can be served', async () => {
    const r = await run([join(fixtures, 'reference', 'proxy-udp.json')]);

    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('skipped dns-proxy:');
    expect(r.stderr).toContain('no entry of');
  });

  it('exits 2 on a file that is not JSON', async () => {
    const r = await run(['-'], '{ not json');

    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cannot read stdin as JSON/);
  });
});
