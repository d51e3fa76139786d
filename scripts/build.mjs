/**
 * Builds the service (tsc → dist/src, dist/scripts) and the web console (vite → dist/web), each
 * only when its sources changed since its last build here. Plain Node, no tsx: `npm start` runs it
 * before the service, and with nothing changed it costs a hash of the sources (tens of ms).
 *
 *   node scripts/build.mjs            build what is stale (what `npm start` runs)
 *   node scripts/build.mjs --full     build everything, always (what `npm run build` runs)
 *
 * A part is stale when the SHA-256 of its inputs (paths and contents) differs from the one written
 * in `dist/.rvl-build.json` at its last good build, or its output is missing:
 *   - service: every file under src/ and scripts/, the tsconfigs, package-lock.json and this file;
 *     output dist/src/main.js. tsc runs incrementally (its build info in dist/, so that deleting
 *     dist/ also forgets it), so a change to one file recompiles little.
 *   - console: every file under web/ (but build output), the src/ files the console imports
 *     (followed from web/src through relative imports: the client SDK, the domain, the ledger,
 *     the CLI's money module), package-lock.json and this file; output dist/web/index.html.
 * A failed build writes no stamp, so the next run builds again.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = path.join('dist', '.rvl-build.json');
const THIS_FILE = path.join('scripts', 'build.mjs');
/** Folders never read as sources. */
const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', '.vite']);
/** Source extensions followed by the console's import walk. */
const RESOLVE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.js', '.mjs', '.json'];

/** Every file below `dir` (relative to `root`, '/'-separated, sorted); none if it is missing. */
const filesUnder = (root, dir) => {
  const out = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(child);
      } else if (e.isFile()) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
};

/** The relative specifiers a module imports or re-exports (static and dynamic). */
const importsOf = (text) => {
  const specs = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) specs.push(m[2]);
  return specs;
};

/** `spec` imported from `fromFile` (repo-relative), as a repo-relative file, or undefined. */
const resolveImport = (root, fromFile, spec) => {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), spec));
  const stem = base.replace(/\.(js|mjs|jsx)$/, '');
  const candidates = [base, ...RESOLVE_EXTENSIONS.map((e) => stem + e), ...RESOLVE_EXTENSIONS.map((e) => `${base}/index${e}`)];
  return candidates.find((c) => {
    try {
      return statSync(path.join(root, c)).isFile();
    } catch {
      return false;
    }
  });
};

/** The files outside web/ that web/'s modules import, followed transitively. */
const consoleImports = (root, webFiles) => {
  const seen = new Set();
  const queue = webFiles.filter((f) => /\.(ts|tsx|mts|js|mjs)$/.test(f));
  const outside = new Set();
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    let text;
    try {
      text = readFileSync(path.join(root, file), 'utf8');
    } catch {
      continue;
    }
    for (const spec of importsOf(text)) {
      const target = resolveImport(root, file, spec);
      if (target === undefined || seen.has(target)) continue;
      if (!target.startsWith('web/')) outside.add(target);
      queue.push(target);
    }
  }
  return [...outside].sort();
};

/** The input files of each part, repo-relative and sorted. */
export const buildInputs = (root = REPO_ROOT) => {
  const common = ['package-lock.json', THIS_FILE].filter((f) => existsSync(path.join(root, f)));
  const service = [...filesUnder(root, 'src'), ...filesUnder(root, 'scripts'), 'tsconfig.json', 'tsconfig.build.json', ...common];
  const web = filesUnder(root, 'web');
  const consoleFiles = [...web, ...consoleImports(root, web), ...common];
  return {
    service: [...new Set(service)].sort(),
    console: [...new Set(consoleFiles)].sort(),
  };
};

/** SHA-256 over the files' paths and contents (a missing file counts as such). */
export const hashFiles = (root, files) => {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0');
    try {
      h.update(readFileSync(path.join(root, f)));
    } catch {
      h.update('<missing>');
    }
    h.update('\0');
  }
  return h.digest('hex');
};

/** The outputs whose absence makes a part stale, whatever the stamp says. */
const OUTPUTS = { service: path.join('dist', 'src', 'main.js'), console: path.join('dist', 'web', 'index.html') };

/**
 * What is stale under `root`: for each part, whether to build it, and the hash of its inputs now
 * (written to the stamp once it is built).
 */
export const staleParts = (root = REPO_ROOT) => {
  const inputs = buildInputs(root);
  let stamp = {};
  try {
    stamp = JSON.parse(readFileSync(path.join(root, STAMP), 'utf8'));
  } catch {
    stamp = {};
  }
  const part = (name) => {
    const hash = hashFiles(root, inputs[name]);
    const stale = stamp[name] !== hash || !existsSync(path.join(root, OUTPUTS[name]));
    return { stale, hash };
  };
  return { service: part('service'), console: part('console') };
};

/** Records `hashes` (part → hash) as built, keeping the other parts' entries. */
export const writeStamp = async (root, hashes) => {
  const file = path.join(root, STAMP);
  let stamp = {};
  try {
    stamp = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    stamp = {};
  }
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ ...stamp, ...hashes }, null, 2)}\n`);
  await rename(tmp, file);
};

const run = (what, args) =>
  new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (stdout) process.stdout.write(stdout);
      if (stderr) process.stderr.write(stderr);
      if (err) reject(new Error(`${what} failed`));
      else resolve();
    });
  });

const BUILDERS = {
  service: () =>
    run('tsc', [
      path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      'tsconfig.build.json',
      '--incremental',
      '--tsBuildInfoFile',
      path.join('dist', '.tsbuildinfo'),
    ]),
  console: () => run('vite build', [path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.ts']),
};

const main = async () => {
  const full = process.argv.includes('--full');
  const started = performance.now();
  const parts = staleParts(REPO_ROOT);
  const todo = Object.keys(parts).filter((name) => full || parts[name].stale);
  if (todo.length === 0) {
    process.stdout.write(`build: up to date 已是最新 (${Math.round(performance.now() - started)} ms)\n`);
    return;
  }
  process.stdout.write(`build: building 正在构建 ${todo.join(' and ')}…\n`);
  // A full build forgets tsc's incremental state, so that every output is written again.
  if (full) await rm(path.join(REPO_ROOT, 'dist', '.tsbuildinfo'), { force: true });
  const results = await Promise.allSettled(todo.map((name) => BUILDERS[name]()));
  const built = Object.fromEntries(todo.filter((_, i) => results[i]?.status === 'fulfilled').map((name) => [name, parts[name].hash]));
  if (Object.keys(built).length > 0) await writeStamp(REPO_ROOT, built);
  const failed = results.filter((r) => r.status === 'rejected');
  if (failed.length > 0) {
    for (const f of failed) process.stderr.write(`build: ${f.reason instanceof Error ? f.reason.message : String(f.reason)}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`build: done 构建完成 (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
