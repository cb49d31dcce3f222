import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { send, startAdminKflog } from '../admin/helpers.js';
import { undoAfterEach } from '../helpers/cleanup.js';
import { KflogProcess } from '../helpers/kflog-process.js';

const undo = undoAfterEach();

/** `kflog tail` with these arguments, stopped after the test; resolves once it follows the stream. */
async function startTail(args: string[], env: NodeJS.ProcessEnv = {}): Promise<KflogProcess> {
  const tail = new KflogProcess(['tail', ...args], { env });
  undo.push(() => tail.stop());
  await tail.waitFor(() => tail.stderr.includes('kflog: following '), 'tail to follow the stream');
  return tail;
}

describe('kflog tail', () => {
  it('prints each exchange as a console line as it ends', async () => {
    const k = await startAdminKflog(undo);
    const tail = await startTail(['--admin', k.admin]);
    await send(`http://${k.addresses.demo!}/api/users`);
    const line = await tail.waitFor(() => tail.stdout.split('\n').find((l) => l.includes('/api/users')), 'the exchange in tail');
    expect(line).toMatch(/ INFO +demo GET \/api\/users → 200 34B [\d.]+ms trace=[0-9a-f-]{36}$/);
  });

  it('keeps only what kflog ls would list with the same filters, and --json writes lines jq reads', async () => {
    const k = await startAdminKflog(undo);
    const tail = await startTail(['--admin', k.admin, '--status', '5xx', '--json']);
    const base = `http://${k.addresses.demo!}`;
    for (const path of ['/api/users', '/status/503', '/status/404', '/status/500']) await send(base + path);
    // The last one sent is a 5xx: once it is there, everything before it has been judged.
    await tail.waitFor(() => tail.stdout.includes('"uri":"/status/500"'), 'the last 5xx in tail');
    const statuses = execFileSync('jq', ['-r', '.status'], { input: tail.stdout, encoding: 'utf8' }).trim().split('\n');
    expect(statuses).toEqual(['503', '500']);
  });

  it('finds exchanges by the words of their bodies with --grep, as kflog ls does', async () => {
    const k = await startAdminKflog(undo, {
      forwards: [{ id: 'demo', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true } }],
    });
    const tail = await startTail(['--admin', k.admin, '--grep', 'Lovelace', '--json']);
    const base = `http://${k.addresses.demo!}`;
    const post = (name: string): Promise<unknown> => send(base + '/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    await post('Grace Hopper');
    await post('Ada Lovelace');
    await tail.waitFor(() => tail.stdout.includes('Lovelace'), 'the matching exchange in tail');
    // Judged in order: the one before it was not kept.
    expect(tail.stdout).not.toContain('Hopper');
    expect(tail.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('says when no kflog is listening at the admin address, exit 1', async () => {
    const tail = new KflogProcess(['tail', '--admin', 'http://127.0.0.1:1']);
    expect((await tail.exited).code).toBe(1);
    expect(tail.stderr).toBe('kflog: no kflog is listening at http://127.0.0.1:1 (start one with kflog run, or give --admin URL)\n');
  });

  it('asks for the token of an admin listener that has one, and follows with it', async () => {
    const token = 'a-token-of-twenty-chars';
    const k = await startAdminKflog(undo, { admin: { listen: '127.0.0.1:0', token } });
    const refused = new KflogProcess(['tail', '--admin', k.admin]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr).toContain('asks for its admin token: give --token or KFLOG_ADMIN_TOKEN');
    await startTail(['--admin', k.admin], { KFLOG_ADMIN_TOKEN: token });
  });

  it('a filter value it cannot use names the flag, exit 2', async () => {
    const tail = new KflogProcess(['tail', '--admin', 'http://127.0.0.1:1', '--status', '7xx']);
    expect((await tail.exited).code).toBe(2);
    expect(tail.stderr).toBe('kflog: --status "7xx": expected a status such as 404 or a class 1xx to 5xx\n');
  });

  it('ends with exit 0, saying so, when the kflog it follows stops', async () => {
    const k = await startAdminKflog(undo);
    const tail = await startTail(['--admin', k.admin]);
    await k.proc.stop();
    expect((await tail.exited).code).toBe(0);
    expect(tail.stderr).toContain(`kflog: the kflog at ${k.admin} stopped`);
  });
});
