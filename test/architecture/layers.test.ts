import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '../../src');

/**
 * The layers of src/, lowest first, as the README's architecture section writes them. A module may import its
 * own layer and any layer below; layers on one line are peers and import neither each other nor anything above.
 */
const LAYERS: ReadonlyArray<readonly string[]> = [
  ['core'],
  ['encoders', 'writers'],
  ['modules.ts'],
  ['pki'],
  ['config'],
  ['emit'],
  ['handover'],
  ['proxy'],
  ['cluster'],
  ['kflog.ts'],
  ['kftray', 'export'],
  ['admin'],
  ['cli', 'cli.ts'],
];

/** The cli.ts entry and the cli/ folder are one layer: the commands; every other peer is its own name. */
const SAME_LAYER: ReadonlyMap<string, string> = new Map([['cli.ts', 'cli']]);

/** `import … from`, `export … from` and `import '…'` at the start of a statement, over several lines if need be. */
const STATIC_IMPORT = /^\s*(?:import|export)\s(?:[^;]*?\sfrom\s+)?'(\.{1,2}\/[^']+)'/gm;
/** `import('…')`, awaited or in a type (`typeof import('…')`). */
const DYNAMIC_IMPORT = /\bimport\(\s*'(\.{1,2}\/[^']+)'\s*\)/g;

/** The src/ files `source` (the file `file`, relative to src/) imports, relative to src/ ('core/entry.ts'). */
function importsOf(file: string, source: string): string[] {
  const specs = [...source.matchAll(STATIC_IMPORT), ...source.matchAll(DYNAMIC_IMPORT)].map((m) => m[1]!);
  return specs.map((spec) => posix.join(posix.dirname(file), spec).replace(/\.js$/, '.ts'));
}

/** A file's layer name: its top folder under src/ ('proxy' for 'proxy/kube/api.ts'), or the file at the top. */
function unitOf(file: string): string {
  const top = file.split('/')[0]!;
  return SAME_LAYER.get(top) ?? top;
}

function rankOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.some((name) => (SAME_LAYER.get(name) ?? name) === unit));
}

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .map((f) => f.split('\\').join('/'))
    .filter((f) => f.endsWith('.ts'))
    .sort();
}

function srcEdges(): Edge[] {
  return sourceFiles().flatMap((from) => importsOf(from, readFileSync(join(SRC, from), 'utf8')).map((to) => ({ from, to })));
}

/** Edges that go up the order, or sideways between two peers. */
function edgesAgainstOrder(edges: readonly Edge[]): string[] {
  return edges
    .filter(({ from, to }) => unitOf(from) !== unitOf(to) && rankOf(unitOf(to)) >= rankOf(unitOf(from)))
    .map(({ from, to }) => `${from} → ${to} (${unitOf(from)} may not import ${unitOf(to)})`);
}

/** One cycle of the graph of layers (its names in import order, the first repeated at the end), or undefined. */
function layerCycle(edges: readonly Edge[]): string[] | undefined {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (unitOf(from) === unitOf(to)) continue;
    const next = graph.get(unitOf(from)) ?? new Set<string>();
    graph.set(unitOf(from), next.add(unitOf(to)));
  }
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (unit: string): string[] | undefined => {
    const at = path.indexOf(unit);
    if (at >= 0) return [...path.slice(at), unit];
    if (done.has(unit)) return undefined;
    path.push(unit);
    for (const next of graph.get(unit) ?? []) {
      const cycle = visit(next);
      if (cycle !== undefined) return cycle;
    }
    path.pop();
    done.add(unit);
    return undefined;
  };
  for (const unit of graph.keys()) {
    const cycle = visit(unit);
    if (cycle !== undefined) return cycle;
  }
  return undefined;
}

describe('the layers of src/', () => {
  it('reads static, type-only, side-effect, re-export and dynamic imports, resolved from the importing file', () => {
    const source = [
      "import { a } from './one.js';",
      'import {',
      '  b,',
      '  type C,',
      "} from '../../core/two.js';",
      "import type { D } from '../three.js';",
      "import '../../modules.js';",
      "export { e } from './four.js';",
      "const { F } = await import('../../cluster/five.js');",
      "type G = typeof import('./six.js');",
      "import { h } from 'node:fs';",
    ].join('\n');
    expect(importsOf('proxy/kube/upstream.ts', source)).toEqual([
      'proxy/kube/one.ts', 'core/two.ts', 'proxy/three.ts', 'modules.ts', 'proxy/kube/four.ts', 'cluster/five.ts', 'proxy/kube/six.ts',
    ]);
  });

  it('an edge up the order or between peers is named, and a cycle of layers is found', () => {
    const edges: Edge[] = [
      { from: 'encoders/json.ts', to: 'emit/log.ts' },
      { from: 'encoders/json.ts', to: 'writers/writer.ts' },
      { from: 'emit/log.ts', to: 'core/entry.ts' },
      { from: 'emit/log.ts', to: 'emit/queue.ts' },
    ];
    expect(edgesAgainstOrder(edges)).toEqual([
      'encoders/json.ts → emit/log.ts (encoders may not import emit)',
      'encoders/json.ts → writers/writer.ts (encoders may not import writers)',
    ]);
    expect(layerCycle([...edges, { from: 'emit/log.ts', to: 'encoders/json.ts' }])).toEqual(['encoders', 'emit', 'encoders']);
    expect(layerCycle(edges.slice(2))).toBeUndefined();
  });

  // tsc lets a side-effect import of a missing file pass (`import './gone.js'`), so a moved module could vanish.
  it('every import names a file of src/', () => {
    const files = new Set(sourceFiles());
    expect(srcEdges().filter(({ to }) => !files.has(to))).toEqual([]);
  });

  it('every file of src/ sits in a layer of the order', () => {
    const unplaced = sourceFiles().filter((f) => rankOf(unitOf(f)) < 0);
    expect(unplaced).toEqual([]);
  });

  it('no module imports a layer above its own or a peer beside it', () => {
    const edges = srcEdges();
    // The graph really was read: the pipeline builds its logs, and the CLI starts a Kflog.
    expect(edges).toContainEqual({ from: 'emit/pipeline.ts', to: 'emit/log.ts' });
    expect(edges).toContainEqual({ from: 'cli/run.ts', to: 'kflog.ts' });
    expect(edgesAgainstOrder(edges)).toEqual([]);
  });

  it('the layers import one another without a cycle, and core imports nothing of kflog', () => {
    const edges = srcEdges();
    expect(layerCycle(edges)).toBeUndefined();
    expect(edges.filter(({ from, to }) => unitOf(from) === 'core' && unitOf(to) !== 'core')).toEqual([]);
  });
});
