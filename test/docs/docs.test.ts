/**
 * The repository's documentation stands on its own: the README stays a guide of at most about
 * 20 KB, every link in the README and under docs/ (and in the module READMEs) names a file inside
 * the repository that exists, nothing links to a web page or outside the repository, and
 * docs/protocol.md keeps the section numbers §1–§11 that code and docs cite.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The README's budget: "a guide of at most about 20 KB". */
const README_BYTES_MAX = 20 * 1024;

const markdownUnder = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith('.md'))
    .map((f) => path.join(dir, f));

/** The documents a reader of the repository is sent to. */
const DOCUMENTS = [
  'README.md',
  ...markdownUnder('docs'),
  'scripts/bench/README.md',
  'src/ledger/README.md',
  'src/client/README.md',
  'src/cli/README.md',
].filter((f) => existsSync(path.join(ROOT, f)));

/** Markdown link targets: `[text](target)`, with an optional `#anchor`. */
const linkTargets = (text: string): string[] => [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
const anchorsOf = (text: string): Set<string> =>
  new Set(
    [...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\- _]/gu, '')
        .replace(/ /g, '-'),
    ),
  );

describe('documentation', () => {
  it('finds the documents it checks', () => {
    expect(DOCUMENTS).toContain('README.md');
    expect(DOCUMENTS).toContain('docs/protocol.md');
    expect(DOCUMENTS).toContain('docs/performance.md');
    expect(DOCUMENTS).toContain('docs/architecture.md');
  });

  it('keeps the README a guide of at most about 20 KB that opens with the two commands', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'));
    expect(readme.byteLength).toBeLessThanOrEqual(README_BYTES_MAX);
    const text = readme.toString('utf8');
    const block = /```\n(npm ci && npm start[^\n]*)\n(npm ci && npm test[^\n]*)\n```/.exec(text);
    expect(block, 'the code block of the two commands').not.toBeNull();
    // It comes before the first section, right after the description.
    expect(text.indexOf(block![0])).toBeLessThan(text.indexOf('\n## '));
  });

  for (const doc of DOCUMENTS) {
    it(`${doc}: every link stays inside the repository and resolves`, () => {
      const text = readFileSync(path.join(ROOT, doc), 'utf8');
      const problems: string[] = [];
      for (const target of linkTargets(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) {
          problems.push(`${target}: links outside the repository`);
          continue;
        }
        const [file, anchor] = target.split('#', 2) as [string, string | undefined];
        // A link such as `[x](?:…)` inside a regular expression in prose is not a link.
        if (file.startsWith('?')) continue;
        const resolved = file === '' ? path.join(ROOT, doc) : path.resolve(ROOT, path.dirname(doc), file);
        const relative = path.relative(ROOT, resolved);
        if (relative.startsWith('..') || path.isAbsolute(relative)) {
          problems.push(`${target}: outside the repository`);
          continue;
        }
        if (!existsSync(resolved)) {
          problems.push(`${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && statSync(resolved).isFile() && resolved.endsWith('.md')) {
          if (!anchorsOf(readFileSync(resolved, 'utf8')).has(anchor)) problems.push(`${target}: no such heading`);
        }
      }
      expect(problems).toEqual([]);
    });
  }

  it('cites the protocol inside the repository, never the copy outside it', () => {
    for (const doc of DOCUMENTS) {
      const text = readFileSync(path.join(ROOT, doc), 'utf8');
      expect(text, doc).not.toMatch(/PROTOCOL\.md|\.\.\/shared\//);
    }
  });

  it('keeps the section numbers §1–§11 of docs/protocol.md', () => {
    const headings = [...readFileSync(path.join(ROOT, 'docs/protocol.md'), 'utf8').matchAll(/^## (\d+)\. /gm)].map((m) => Number(m[1]));
    expect(headings).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });
});
