import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startKflog } from '../helpers/kflog-process.js';

/** What a reader counts as one record of each format: a line, or a kftray block (each opens with a separator). */
const FORMATS: Record<string, { encoder: Record<string, unknown>; records(text: string): number }> = {
  json: { encoder: { format: 'json' }, records: lines },
  logfmt: { encoder: { format: 'logfmt' }, records: lines },
  console: { encoder: { format: 'console', color: 'never' }, records: lines },
  clf: { encoder: { format: 'clf' }, records: lines },
  haproxy: { encoder: { format: 'haproxy' }, records: lines },
  kftray: { encoder: { format: 'kftray' }, records: (t) => t.split('\n').filter((l) => /^-{40}$/.test(l)).length },
  rest_client: { encoder: { format: 'kftray', style: 'rest-client' }, records: (t) => t.split('\n').filter((l) => /^# -{40}$/.test(l)).length },
};

function lines(text: string): number {
  return text.split('\n').filter((l) => l !== '').length;
}

describe('the exit summary counts what is in the file', () => {
  it('gives written = the records in the file for every format, with request bodies captured', async () => {
    const logs = Object.fromEntries(Object.entries(FORMATS).map(([name, f]) => [
      name, { include: ['http.log'], writer: { output: 'file', filename: `${name}.log` }, encoder: f.encoder },
    ]));
    const { proc, addresses, dir } = await startKflog({
      forwards: [{ id: 'api', listen: '127.0.0.1:0', target: { builtin: 'echo' }, capture: { request_body: true, response_body: true } }],
      logging: { logs },
    });
    const base = `http://${addresses.api}`;
    for (let i = 0; i < 3; i++) {
      const r = await request(`${base}/echo`, { method: 'POST', body: `{"n":${i}}`, headers: { 'content-type': 'application/json' } });
      await r.body.text();
    }
    for (let i = 0; i < 2; i++) await (await request(`${base}/api/users`)).body.text();
    const { code } = await proc.stop('SIGTERM');
    expect(code).toBe(0);
    const summary = proc.stderr.split('\n').find((l) => l.includes('exit summary'))!;
    for (const [name, f] of Object.entries(FORMATS)) {
      const written = Number(new RegExp(`log "${name}" written=(\\d+)`).exec(summary)?.[1]);
      const inFile = f.records(readFileSync(join(dir, `${name}.log`), 'utf8'));
      expect({ name, written }).toEqual({ name, written: inFile });
      expect(inFile, name).toBeGreaterThanOrEqual(5);
    }
  });
});
