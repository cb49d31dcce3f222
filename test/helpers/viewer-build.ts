import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const BUILT = join(ROOT, 'dist', 'web', 'viewer.js');

function newest(dir: string): number {
  return Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((d) =>
    d.isDirectory() ? newest(join(dir, d.name)) : statSync(join(dir, d.name)).mtimeMs));
}

/** Bundles the viewer (web/build.mjs, as `npm run build` does) when dist/web is missing or older than web/. */
export function ensureViewerBuilt(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newest(join(ROOT, 'web'))) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'web', 'build.mjs')], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`viewer build failed:\n${r.stdout}${r.stderr}`);
}
