/**
 * Where `rvl keygen` writes keys, and how `--key` finds them, through the real binary (no service:
 * `--url` points at a port nobody serves, and `rvl token --ledger` needs no request): by default
 * in the key folder outside the work tree (`$RVL_KEY_DIR`, else `~/.rvl/keys`, mode 0700), a key
 * file 0600 and its public file; `--out` where the user says; a bare party id finds the key in the
 * key folder. The repository ignores key files anyway.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseKeyFile } from '../../src/client/index.js';
import { cleanup, REPO_ROOT, tempDir } from '../e2e/server.js';
import { json, rvl, type Result } from './support.js';

let cwd: string;
let home: string;
const LEDGER = 'ab'.repeat(32);
const run = (args: readonly string[], env: Record<string, string> = {}): Promise<Result> => rvl(args, { cwd, home, url: 'http://127.0.0.1:1', env });

beforeAll(async () => {
  [cwd, home] = await Promise.all([tempDir('rvl-keys-cwd-'), tempDir('rvl-keys-home-')]);
});
afterAll(cleanup);

const mode = async (file: string): Promise<number> => (await stat(file)).mode & 0o777;
const claims = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('rvl keygen writes outside the work tree by default', () => {
  it('~/.rvl/keys (created 0700): <party>.key (0600) and <party>.pub, and says where; nothing in the working folder', async () => {
    const r = await run(['keygen', '--party', 'dongguan-parts']);
    expect(r.code, r.stderr).toBe(0);
    const dir = path.join(home, '.rvl', 'keys');
    const keyFile = path.join(dir, 'dongguan-parts.key');
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(keyFile)).toBe(0o600);
    const key = parseKeyFile(await readFile(keyFile, 'utf8'));
    expect(JSON.parse(await readFile(path.join(dir, 'dongguan-parts.pub'), 'utf8'))).toEqual({ party: 'dongguan-parts', publicKey: key.publicKey });
    expect(r.stdout).toContain(keyFile);
    expect(r.stdout).toContain(path.join(dir, 'dongguan-parts.pub'));
    expect(r.stdout).toContain('rvl --key dongguan-parts');
    expect(r.stdout + r.stderr).not.toContain(key.secretKey);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('$RVL_KEY_DIR instead, when set', async () => {
    const keyDir = path.join(cwd, 'keys-here');
    const r = json<{ keyFile: string; publicFile: string }>(await run(['--json', 'keygen', '--party', 'icbc-gz'], { RVL_KEY_DIR: keyDir }));
    expect(r).toEqual(expect.objectContaining({ keyFile: path.join(keyDir, 'icbc-gz.key'), publicFile: path.join(keyDir, 'icbc-gz.pub') }));
    expect(await mode(r.keyFile)).toBe(0o600);
  });

  it('--out where the user says, the public file beside it', async () => {
    const r = await run(['keygen', '--party', 'cmb-sz', '--out', 'mine.key']);
    expect(r.code, r.stderr).toBe(0);
    expect(await mode(path.join(cwd, 'mine.key'))).toBe(0o600);
    expect(JSON.parse(await readFile(path.join(cwd, 'mine.pub'), 'utf8'))).toMatchObject({ party: 'cmb-sz' });
  });

  it('never overwrites a key in the key folder (exit 2)', async () => {
    const file = path.join(home, '.rvl', 'keys', 'dongguan-parts.key');
    const before = await readFile(file, 'utf8');
    const r = await run(['keygen', '--party', 'dongguan-parts']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`rvl: ${file} already exists; rvl never overwrites a key (choose another --out, or move it away)\n`);
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe('--key with a bare party id', () => {
  it('finds <key folder>/<id>.key, from --key or RVL_KEY', async () => {
    const key = parseKeyFile(await readFile(path.join(home, '.rvl', 'keys', 'dongguan-parts.key'), 'utf8'));
    for (const r of [
      await run(['--key', 'dongguan-parts', 'token', '--ledger', LEDGER]),
      await run(['token', '--ledger', LEDGER], { RVL_KEY: 'dongguan-parts' }),
    ]) {
      expect(r.code, r.stderr).toBe(0);
      expect(claims(r.stdout.trim())).toMatchObject({ iss: key.party, aud: LEDGER });
    }
  });

  it('a file of that name in the working folder comes first', async () => {
    const r = await run(['--key', 'mine.key', 'token', '--ledger', LEDGER]);
    expect(claims(r.stdout.trim()).iss).toBe('cmb-sz');
  });
});

describe('rvl token (no request with --ledger)', () => {
  it('prints a compact EdDSA JWS alone on stdout: iss the party, aud the ledger id, exp = iat + 10 min by default', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await run(['--key', 'dongguan-parts', 'token', '--ledger', LEDGER]);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'))).toMatchObject({ alg: 'EdDSA' });
    const c = claims(token) as { iat: number; exp: number };
    expect(c.iat).toBeGreaterThanOrEqual(before);
    expect(c.exp - c.iat).toBe(600);
    expect(r.stderr).toContain('Authorization: Bearer');
  });

  it('--ttl sets the lifetime, up to an hour; --json describes it', async () => {
    const r = json<{ token: string; party: string; ledgerId: string; issuedAt: string; expiresAt: string }>(
      await run(['--json', '--key', 'dongguan-parts', 'token', '--ttl', '1h', '--ledger', LEDGER]),
    );
    const c = claims(r.token) as { iat: number; exp: number };
    expect(c.exp - c.iat).toBe(3600);
    expect(r).toMatchObject({ party: 'dongguan-parts', ledgerId: LEDGER, expiresAt: new Date(c.exp * 1000).toISOString() });
  });
});

describe('the repository ignores key files', () => {
  it('git check-ignore covers *.key anywhere in the work tree', async () => {
    const check = promisify(execFile);
    for (const file of ['gz-motors.key', 'keys/icbc-gz.key', 'scratch/tour/dongguan-parts.key']) {
      const { stdout } = await check('git', ['check-ignore', '--no-index', file], { cwd: REPO_ROOT });
      expect(stdout.trim()).toBe(file);
    }
  });
});
