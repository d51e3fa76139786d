/**
 * vitest globalSetup: compiles the service once per run (`tsc -p tsconfig.build.json`, the same
 * build as `npm run build`) so that the end-to-end tests under `test/e2e/` run real compiled code.
 *
 * The output goes to a private folder for this run (under node_modules/.cache, so the compiled
 * code resolves its dependencies exactly as `dist/` does), not to `dist/`: a concurrent
 * `npm run build` or a second test run rewriting `dist/` file by file would otherwise let a
 * server under test load a half-written module. The tests learn the path via `inject('rvlMainJs')`.
 * Set RVL_E2E_MAIN_JS to run an existing build instead (e.g. `dist/src/main.js`).
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled service entry (main.js) the e2e tests spawn. */
    rvlMainJs: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const prebuilt = process.env.RVL_E2E_MAIN_JS;
  if (prebuilt) {
    project.provide('rvlMainJs', path.resolve(root, prebuilt));
    return undefined;
  }
  const outDir = path.join(root, 'node_modules', '.cache', 'rvl-e2e', `run-${process.pid}-${Date.now()}`);
  await mkdir(outDir, { recursive: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the e2e build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
  }
  project.provide('rvlMainJs', path.join(outDir, 'src', 'main.js'));
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
