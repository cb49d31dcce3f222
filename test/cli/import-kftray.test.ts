import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { undoAfterEach } from '../helpers/cleanup.js';
import { importKftrayCommand, importKftrayIo, type ImportIo } from '../../src/cli/import-kftray.js';
import { importKftray } from '../../src/kftray/import.js';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kftray');

interface Run {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** kftray's own example exports (its repository's examples/ folder, v0.27.30), copied verbatim. */
const referenceDir = join(fixtures, 'reference');

async function run(args: string[], stdin?: string, cwd = process.cwd()): Promise<Run> {
  const out = { stdout: '', stderr: '' };
  const real = importKftrayIo();
  const io: ImportIo = {
    stdout: { write: (t: string) => (out.stdout += t) },
    stderr: { write: (t: string) => (out.stderr += t) },
    read: (p) => (p === '-' ? [{ source: 'stdin', text: stdin ?? '' }] : real.read(p)),
    cwd: () => cwd,
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

const cleanups = undoAfterEach();

describe('kflog import-kftray', () => {
  it('prints the config on stdout and the skipped entries with their reasons on stderr', async () => {
    const file = join(fixtures, 'team-export.json');
    const r = await run([file]);

    expect(r.exitCode).toBe(3);
    const { $schema, ...config } = JSON.parse(r.stdout) as Record<string, unknown>;
    expect($schema).toMatch(/config\.schema\.json$/);
    expect(config).toEqual(importKftray(JSON.parse(readFileSync(file, 'utf8'))).config);
    expect(r.stderr).toContain('skipped coredns: protocol "udp" is not HTTP');
    expect(r.stderr).toContain('skipped rds-orders: workload_type "proxy" relays to orders.cluster-abc123');
    expect(r.stderr).toContain('skipped webhook-receiver: workload_type "expose"');
    expect(r.stdout).not.toContain('skipped');
    expect(r.stderr).toContain('3 of 8 entries skipped');
  });

  it('exits 0 when every entry was imported', async () => {
    const r = await run([join(fixtures, 'reference', 'configs.json')]);

    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('imported 5 forward(s), 0 skipped');
  });

  it('imports a directory of exports into a config the real kflog validate accepts, skipping the second forward on one port', async () => {
    const r = await run([referenceDir]);

    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/skipped my-api: listens on 127\.0\.0\.1:8080 like "app-pod": kftray starts only one of the two at a time/);
    expect(r.stderr).toContain('imported 7 forward(s), 5 skipped');
    expect(r.stdout.startsWith('{\n  "$schema": ')).toBe(true);
    const { dir } = tempDir();
    const path = writeConfig(dir, r.stdout);
    const validate = new KflogProcess(['validate', '--config', path]);
    expect((await validate.exited).code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('valid: 7 forward(s)');
  });

  it('points "$schema" at kflog\'s schema from the directory of the file it writes', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const out = join(t.dir, 'kflog.json');

    await run([join(fixtures, 'reference', 'configs.json'), '-o', out]);

    const { $schema } = JSON.parse(readFileSync(out, 'utf8')) as { $schema: string };
    const schema = JSON.parse(readFileSync(resolve(t.dir, $schema), 'utf8')) as { title: string };
    expect(schema.title).toBe('kflog configuration');
  });

  it('writes the config to the file given with -o', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const out = join(t.dir, 'kflog.json');

    const r = await run([join(fixtures, 'reference', 'configs.json'), '-o', out]);

    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toMatch(/^\{\n  "\$schema": /);
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
