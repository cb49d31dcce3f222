import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/files.js';
import { KflogProcess, writeConfig } from '../helpers/kflog-process.js';
import { badConfigs, ok } from '../config/bad-config-table.js';

/** "/pointer: reason" of every problem a command printed, without the file name and line/column. */
function problems(stderr: string): string[] {
  const out = new Set<string>();
  // validate: "<file>: /pointer: reason"; run: "kflog: invalid config <file>: N problems" then "/pointer: reason".
  for (const m of stderr.matchAll(/^(?:\S+\.json: )?(\/\S*): (.+?)(?: \(line \d+, column \d+\))?$/gm)) out.add(`${m[1]}: ${m[2]}`);
  return [...out].sort();
}

/** Runs `kflog run` on the config until it exits or says it listens (then stops it), and reports which. */
async function runOutcome(path: string, cwd: string): Promise<{ code: number | null; listened: boolean; stderr: string }> {
  const p = new KflogProcess(['run', '--config', path], { cwd });
  const listened = await p.waitFor(() => p.stderr.includes('kflog: listening; try:'), 'run to listen or exit', 20_000).then(
    () => true,
    () => false,
  );
  const { code } = listened ? await p.stop() : await p.exited;
  return { code, listened, stderr: p.stderr };
}

describe('kflog validate and kflog run agree on every config', () => {
  for (const c of badConfigs) {
    it(`both refuse ${c.name}, with the same problems and exit 2, and run starts nothing`, async () => {
      const { dir } = tempDir();
      const path = writeConfig(dir, c.config);
      const validate = new KflogProcess(['validate', '--config', path], { cwd: dir });
      const [checked, ran] = await Promise.all([validate.exited, runOutcome(path, dir)]);

      expect(checked.code, validate.stderr).toBe(2);
      expect(ran.listened, ran.stderr).toBe(false);
      expect(ran.code, ran.stderr).toBe(2);
      expect(problems(validate.stderr)).toContainEqual(expect.stringMatching(new RegExp(`^${c.place.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)));
      expect(problems(ran.stderr)).toEqual(problems(validate.stderr));
    });
  }

  const good: Array<{ name: string; config: unknown }> = [
    { name: 'a listen host name that resolves', config: { forwards: [{ ...ok, listen: 'localhost:0' }] } },
    { name: 'the 1s roll interval minimum itself', config: { forwards: [ok], logging: { logs: { a: { writer: { output: 'file', filename: 'logs/a.log', roll_interval: '1s' } } } } } },
    { name: 'both placeholders in a forward log', config: { forwards: [{ ...ok, log: { format: 'json', filename: 'logs/{forward.id}_{listen.port}.log' } }] } },
    { name: 'two forwards on one port at two loopback addresses', config: { forwards: [{ ...ok, listen: '127.0.0.2:0' }, { ...ok, id: 'b', listen: '127.0.0.3:0' }] } },
  ];
  for (const c of good) {
    it(`both accept ${c.name}: validate exits 0 and run listens`, async () => {
      const { dir } = tempDir();
      const path = writeConfig(dir, c.config);
      const validate = new KflogProcess(['validate', '--config', path], { cwd: dir });
      const [checked, ran] = await Promise.all([validate.exited, runOutcome(path, dir)]);

      expect(checked.code, validate.stderr).toBe(0);
      expect(ran.listened, ran.stderr).toBe(true);
      expect(ran.code).toBe(0);
    });
  }
});
