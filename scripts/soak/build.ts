/**
 * Compiles the service into a private folder for the soak run, as test/e2e-setup.ts does for the
 * test suites: under node_modules/.cache so the output resolves its dependencies like dist/ does,
 * and never into dist/, which a concurrent `npm run build` or benchmark may be using.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export const buildService = async (root: string): Promise<{ mainJs: string; remove: () => Promise<void> }> => {
  const outDir = path.join(root, 'node_modules', '.cache', 'rvl-soak', `run-${process.pid}-${Date.now()}`);
  await mkdir(outDir, { recursive: true });
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    await rm(outDir, { recursive: true, force: true });
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the build (tsc -p tsconfig.build.json) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}`);
  }
  return { mainJs: path.join(outDir, 'src', 'main.js'), remove: () => rm(outDir, { recursive: true, force: true }) };
};
