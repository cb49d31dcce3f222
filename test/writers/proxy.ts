import { request } from 'undici';
import { parseConfigText } from '../../src/config/load.js';
import { Kflog } from '../../src/kflog.js';
import { readLines } from '../helpers/files.js';

/** kflog in this process (its config validated against config.schema.json) with one forward "t" to the builtin echo API. */
export async function startEchoKflog(logs: Record<string, unknown>): Promise<Kflog> {
  const raw = {
    forwards: [{ id: 't', listen: '127.0.0.1:0', target: { builtin: 'echo' } }],
    logging: { logs: { default: { writer: { output: 'discard' } }, ...logs } },
    shutdown_timeout: '5s',
  };
  return Kflog.start(parseConfigText(JSON.stringify(raw), 'test config'));
}

/** Sends `count` requests one after another (n = from…from+count-1), each must be answered; returns the statuses. */
export async function sendRequests(app: Kflog, from: number, count: number, pathFor: (n: number) => string = () => '/api/users'): Promise<number[]> {
  const origin = 'http://' + app.address('t');
  const statuses: number[] = [];
  for (let n = from; n < from + count; n++) {
    const res = await request(origin + pathFor(n) + `?n=${n}`, { headersTimeout: 5000, bodyTimeout: 5000 });
    await res.body.text();
    statuses.push(res.statusCode);
  }
  return statuses;
}

/** kflog's own entries written by a json log including "kflog". */
export function processEntries(file: string): Array<Record<string, unknown>> {
  return readLines(file).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A json log of kflog's own messages (writer failures, recoveries, drop warnings) to `file`. */
export function processLog(file: string): Record<string, unknown> {
  return { include: ['kflog'], writer: { output: 'file', filename: file }, encoder: { format: 'json' }, level: 'debug' };
}
