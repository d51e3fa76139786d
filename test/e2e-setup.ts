/**
 * vitest globalSetup: builds the service once per run the way `npm run build` does
 * (`tsc -p tsconfig.build.json`, and the web console with `vite build --config web/vite.config.ts`,
 * both at once) so that the end-to-end and browser tests run real compiled code. The console goes
 * to `<build>/web`, beside `<build>/src`, where the compiled service looks for it (as `dist/web`
 * beside `dist/src`).
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
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const run = async (what: string, args: string[]): Promise<void> => {
    try {
      await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`the e2e build (${what}) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
    }
  };
  const builds = await Promise.allSettled([
    run('tsc -p tsconfig.build.json', [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir]),
    run('vite build --config web/vite.config.ts', [vite, 'build', '--config', 'web/vite.config.ts', '--outDir', path.join(outDir, 'web'), '--emptyOutDir']),
  ]);
  const failed = builds.find((b): b is PromiseRejectedResult => b.status === 'rejected');
  if (failed) {
    await rm(outDir, { recursive: true, force: true });
    throw failed.reason;
  }
  project.provide('rvlMainJs', path.join(outDir, 'src', 'main.js'));
  return async () => {
    await rm(outDir, { recursive: true, force: true });
  };
}
