import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.js';
import { benchProxy } from './proxy.js';

/**
 * `npm run bench`: every benchmark side by side in one run, printed as one report.
 * BENCH_SECONDS / BENCH_ROUNDS shorten or lengthen the proxy rounds; BENCH_ONLY=proxy,encoders picks sections;
 * --write also saves the report to bench/RESULTS.md (what the README quotes).
 */
export interface BenchSection {
  title: string;
  markdown: string;
  notes?: string[];
}

type SectionRunner = () => Promise<BenchSection>;

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);

/** Sections in report order; each module is loaded only when its section runs. */
const sections: Array<[string, SectionRunner]> = [
  [
    'proxy',
    async () => {
      const r = await benchProxy({ seconds, rounds, connections: 50 });
      return { title: 'Proxy throughput and latency (wrk -t1 -c50)', markdown: r.markdown, notes: r.notes };
    },
  ],
];

/** Sections contributed by other benchmark modules: bench/<name>.ts exporting `bench(): Promise<BenchSection>`. */
const optional = ['encoders', 'writers', 'memory', 'kube', 'overload', 'store', 'admin', 'h2'];

const only = process.env.BENCH_ONLY?.split(',');
const out: string[] = [`# kflog benchmarks`, '', `Run on ${new Date().toISOString()}, Node ${process.version}, ${process.platform}/${process.arch}.`, ''];

async function runSection(name: string, run: SectionRunner): Promise<void> {
  if (only && !only.includes(name)) return;
  process.stderr.write(`bench: ${name}…\n`);
  try {
    const s = await run();
    out.push(`## ${s.title}`, '', s.markdown, '');
    for (const n of s.notes ?? []) out.push(`- ${n}`);
    if (s.notes?.length) out.push('');
  } catch (err) {
    out.push(`## ${name}`, '', `FAILED: ${(err as Error).stack ?? String(err)}`, '');
  }
}

for (const [name, run] of sections) await runSection(name, run);
for (const name of optional) {
  await runSection(name, async () => {
    const mod = (await import(`./${name}.js`)) as { bench?: () => Promise<BenchSection> };
    if (!mod.bench) throw new Error(`bench/${name}.ts exports no bench()`);
    return mod.bench();
  });
}

const report = out.join('\n');
process.stdout.write(report + '\n');
if (process.argv.includes('--write')) writeFileSync(join(ROOT, 'bench/RESULTS.md'), report + '\n');
