import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const PROXY = join(dirname(fileURLToPath(import.meta.url)), '../../src/proxy');

/** `import … from './x.js'` and `export … from './x.js'`, `import type` too, over several lines if need be. */
const RELATIVE_IMPORT = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.{1,2}\/[^']+)\.js'/gm;

/** The modules a source file imports, as paths relative to src/proxy ('exchange-record', 'kube/api'). */
function importsOf(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(RELATIVE_IMPORT)) out.push(posix.join(posix.dirname(file), m[1]!));
  return out;
}

/** One import cycle of `graph` (its modules in import order, the first repeated at the end), or undefined. */
function findCycle(graph: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const DONE = 2;
  const state = new Map<string, number>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, 1);
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue; // outside src/proxy
      const s = state.get(next);
      if (s === 1) return [...path.slice(path.indexOf(next)), next];
      if (s === undefined) {
        const cycle = visit(next);
        if (cycle !== undefined) return cycle;
      }
    }
    path.pop();
    state.set(node, DONE);
    return undefined;
  };
  for (const node of graph.keys()) {
    if (state.get(node) === undefined) {
      const cycle = visit(node);
      if (cycle !== undefined) return cycle;
    }
  }
  return undefined;
}

function proxyGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const entry of readdirSync(PROXY, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    const file = relative(PROXY, join(PROXY, entry)).split('\\').join('/').replace(/\.ts$/, '');
    graph.set(file, importsOf(file, readFileSync(join(PROXY, entry), 'utf8')));
  }
  return graph;
}

describe('the import graph of src/proxy', () => {
  it('reads single-line, multi-line and type-only imports, resolved from the importing file', () => {
    const source = [
      "import { a } from './one.js';",
      'import {',
      '  b,',
      '  type C,',
      "} from './two.js';",
      "import type { D } from '../three.js';",
      "export { e } from './four.js';",
      "import { f } from 'node:fs';",
    ].join('\n');
    expect(importsOf('kube/upstream', source)).toEqual(['kube/one', 'kube/two', 'three', 'kube/four']);
  });

  it('a cycle is found, however long, and named in import order', () => {
    const graph = new Map([['a', ['b']], ['b', ['c', 'x']], ['c', ['a']], ['x', []]]);
    expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]]))).toBeUndefined();
  });

  it('has no cycle: the listener, the exchanges and the record depend one way', () => {
    const graph = proxyGraph();
    // The graph really was read: the listener builds exchanges, and they share the record.
    expect(graph.get('listener')).toContain('exchange');
    expect(graph.get('exchange')).toContain('exchange-record');
    expect(graph.get('tunnel')).toContain('exchange-record');
    expect(findCycle(graph)).toBeUndefined();
  });

  it('the exchanges see the listener only through ListenerSide, never its module', () => {
    const importers = [...proxyGraph()].filter(([, imports]) => imports.includes('listener')).map(([file]) => file);
    expect(importers).toEqual([]);
  });
});
