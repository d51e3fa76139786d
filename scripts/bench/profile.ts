/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, e.g. from `npm run bench -- --cpu-prof DIR`):
 * the functions with the most self time, and self time by file (package or source folder).
 *
 *   npx tsx scripts/bench/profile.ts DIR/CPU.….cpuprofile [--top 30]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { num, readArgs } from './lib/args.js';
import { REPO_ROOT } from './lib/server.js';
import { table } from './lib/table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const where = (url: string): string => {
  if (url === '') return '(native)';
  const p = url.startsWith('file://') ? new URL(url).pathname : url;
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (p.startsWith('node:')) return p;
  return path.relative(REPO_ROOT, p);
};

const main = async () => {
  const [file, ...rest] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx scripts/bench/profile.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  const top = num(readArgs({ top: { type: 'string' } }, rest).top, 'top', 30)!;
  const prof = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map<string, number>();
  const files = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const name = f.functionName || '(anonymous)';
    const loc = f.url ? `${where(f.url)}:${f.lineNumber + 1}` : '';
    const key = loc ? `${name}  ${loc}` : name;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const fk = f.url ? where(f.url) : name.startsWith('(') ? name : '(native)';
    files.set(fk, (files.get(fk) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1)}%`;
  const rows = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => [pct(us), (us / 1000).toFixed(0), k]);
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s of samples over ${((prof.endTime - prof.startTime) / 1e6).toFixed(2)} s\n\n`);
  process.stdout.write(`${table(['self', 'ms', { header: 'function', align: 'left' }], rows(fns, top))}\n\n`);
  process.stdout.write(`${table(['self', 'ms', { header: 'file or package', align: 'left' }], rows(files, 20))}\n`);
};

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
