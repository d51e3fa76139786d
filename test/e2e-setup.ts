/**
 * vitest globalSetup: compiles the service once (`tsc -p tsconfig.build.json` → `dist/`) so that
 * the end-to-end tests under `test/e2e/` run the same `dist/src/main.js` that `npm start` runs.
 * Set RVL_E2E_SKIP_BUILD=1 to reuse an existing `dist/` (e.g. when iterating on tests only).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function setup(): Promise<void> {
  if (process.env.RVL_E2E_SKIP_BUILD === '1') return;
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the e2e build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
  }
}
