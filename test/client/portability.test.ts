/**
 * The SDK must run in a browser: everything `src/client/index.ts` imports, transitively, is
 * @noble, jose, zod or our own portable modules — no `node:*`, no service, store or api code, and
 * nothing of `src/ledger/node/`. The ledger layer itself is portable too: every module of
 * `src/ledger` outside `src/ledger/node/` imports only its own room and @noble.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const graph = (entry: string): { files: string[]; packages: Set<string> } => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(path.join(root, entry));
  return { files: [...seen].map((f) => path.relative(root, f)), packages };
};

describe('portability of src/client', () => {
  it('imports only portable modules, transitively', () => {
    const { files, packages } = graph('src/client/index.ts');
    expect(files).toContain('src/client/verify-bundle.ts');
    for (const f of files) {
      expect(f, f).toMatch(/^src\/(client|ledger|domain)\//);
      expect(f, f).not.toMatch(/^src\/ledger\/node\//);
    }
    for (const p of packages) expect(p, p).toMatch(/^(@noble\/(hashes|ed25519)(\/.*)?|jose|zod)$/);
  });

  it('src/ledger, outside src/ledger/node/, imports only itself and @noble, transitively', () => {
    const portable = readdirSync(path.join(root, 'src/ledger'), { withFileTypes: true })
      .filter((d) => d.isFile() && d.name.endsWith('.ts'))
      .map((d) => `src/ledger/${d.name}`);
    expect(portable).toContain('src/ledger/entry.ts');
    for (const entry of portable) {
      const { files, packages } = graph(entry);
      for (const f of files) expect(f, `${entry} → ${f}`).toMatch(/^src\/ledger\/[^/]+\.ts$/);
      for (const p of packages) expect(p, `${entry} → ${p}`).toMatch(/^@noble\/(hashes|ed25519)(\/.*)?$/);
    }
  });

  it('src/api/auth.ts re-exports makeToken from the client', async () => {
    const api = await import('../../src/api/auth.js');
    const client = await import('../../src/client/token.js');
    expect(api.makeToken).toBe(client.makeToken);
    expect(api.TOKEN_LIFETIME_SECONDS_DEFAULT).toBe(client.TOKEN_LIFETIME_SECONDS_DEFAULT);
  });
});
