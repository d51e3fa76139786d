/**
 * `npm start` builds only what is stale (scripts/build.mjs): the service when anything under src/
 * or scripts/ (or the tsconfigs, the lock file) changed, the console when web/ or a src/ file it
 * imports changed, and nothing when nothing changed. Checked on a small tree in a temporary folder
 * with the script's own decision function; writing the stamp is what a successful build does.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain-JavaScript module without type declarations
import { buildInputs, staleParts, writeStamp } from '../../scripts/build.mjs';

interface Part {
  stale: boolean;
  hash: string;
}
type Parts = { service: Part; console: Part };
const stale = (root: string): { service: boolean; console: boolean } => {
  const p = (staleParts as (root: string) => Parts)(root);
  return { service: p.service.stale, console: p.console.stale };
};
/** What a successful build of every stale part leaves behind: its outputs and the stamp. */
const built = async (root: string): Promise<void> => {
  const p = (staleParts as (root: string) => Parts)(root);
  await put(root, 'dist/src/main.js', '// built');
  await put(root, 'dist/web/index.html', '<!doctype html>');
  await (writeStamp as (root: string, h: Record<string, string>) => Promise<void>)(root, { service: p.service.hash, console: p.console.hash });
};

const put = async (root: string, file: string, text: string): Promise<void> => {
  await mkdir(path.dirname(path.join(root, file)), { recursive: true });
  await writeFile(path.join(root, file), text);
};

describe('scripts/build.mjs: what is stale', () => {
  let root: string;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'rvl-build-'));
    await put(root, 'package-lock.json', '{}');
    await put(root, 'tsconfig.json', '{}');
    await put(root, 'tsconfig.build.json', '{}');
    await put(root, 'src/main.ts', "import './service/writer.js';\n");
    await put(root, 'src/service/writer.ts', 'export const w = 1;\n');
    await put(root, 'src/client/index.ts', "export * from './sdk.js';\n");
    await put(root, 'src/client/sdk.ts', "import { h } from '../ledger/hash.js';\nexport const sdk = h;\n");
    await put(root, 'src/ledger/hash.ts', 'export const h = 1;\n');
    await put(root, 'src/cli/money.ts', 'export const m = 1;\n');
    await put(root, 'scripts/demo.ts', 'export {};\n');
    await put(root, 'web/index.html', '<script type="module" src="/src/main.tsx"></script>');
    await put(root, 'web/vite.config.ts', 'export default {};\n');
    await put(root, 'web/src/main.tsx', "import { sdk } from '../../src/client/index.js';\nimport { m } from '../../src/cli/money.js';\nimport './app.css';\n");
    await put(root, 'web/src/app.css', 'body{}');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("the console's inputs follow its imports into src/, and not the rest of src/", () => {
    const inputs = (buildInputs as (root: string) => { service: string[]; console: string[] })(root);
    expect(inputs.console).toEqual(
      expect.arrayContaining(['src/client/index.ts', 'src/client/sdk.ts', 'src/ledger/hash.ts', 'src/cli/money.ts', 'web/src/app.css', 'web/vite.config.ts']),
    );
    expect(inputs.console).not.toContain('src/service/writer.ts');
    expect(inputs.service).toEqual(expect.arrayContaining(['src/main.ts', 'src/service/writer.ts', 'scripts/demo.ts', 'tsconfig.build.json']));
  });

  it('a tree never built: both stale; once built, nothing is', async () => {
    expect(stale(root)).toEqual({ service: true, console: true });
    await built(root);
    expect(stale(root)).toEqual({ service: false, console: false });
  });

  it('a change to a service-only file rebuilds the service only', async () => {
    await built(root);
    await put(root, 'src/service/writer.ts', 'export const w = 2;\n');
    expect(stale(root)).toEqual({ service: true, console: false });
  });

  it('a change to a src/ file the console imports (through the client) rebuilds both', async () => {
    await built(root);
    await put(root, 'src/ledger/hash.ts', 'export const h = 2;\n');
    expect(stale(root)).toEqual({ service: true, console: true });
  });

  it('a change under web/ (a style, the vite config) rebuilds the console only', async () => {
    await built(root);
    await put(root, 'web/src/app.css', 'body{color:red}');
    expect(stale(root)).toEqual({ service: false, console: true });
    await built(root);
    await put(root, 'web/vite.config.ts', 'export default { base: "/" };\n');
    expect(stale(root)).toEqual({ service: false, console: true });
  });

  it('a new source file, or a changed lock file, counts as a change', async () => {
    await built(root);
    await put(root, 'src/service/new.ts', 'export {};\n');
    expect(stale(root).service).toBe(true);
    await built(root);
    await put(root, 'package-lock.json', '{"v":2}');
    expect(stale(root)).toEqual({ service: true, console: true });
  });

  it('a missing output is stale whatever the stamp says', async () => {
    await built(root);
    await rm(path.join(root, 'dist/src/main.js'));
    expect(stale(root)).toEqual({ service: true, console: false });
    await rm(path.join(root, 'dist/web'), { recursive: true });
    expect(stale(root)).toEqual({ service: true, console: true });
  });

  it('touching a file without changing it does not rebuild (contents, not times, decide)', async () => {
    await built(root);
    await put(root, 'src/main.ts', "import './service/writer.js';\n");
    expect(stale(root)).toEqual({ service: false, console: false });
  });
});
