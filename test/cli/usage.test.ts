/**
 * Usage errors of the real `rvl` binary: each exits 2 with one line on stderr that says what is
 * wrong, before any key is read or any request is made (no service runs here: `--url` points at
 * a port nobody serves, so a request would exit 3, not 2).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateKeyFile, keyFileText } from '../../src/client/index.js';
import { cleanup, tempDir } from '../e2e/server.js';
import { rvl, type Result } from './support.js';

let dir: string;
const V = `v${'ab'.repeat(12)}`;
const run = (args: readonly string[]): Promise<Result> => rvl(args, { cwd: dir, home: dir, url: 'http://127.0.0.1:1' });

beforeAll(async () => {
  dir = await tempDir('rvl-cli-usage-');
  await writeFile(path.join(dir, 'me.key'), keyFileText(generateKeyFile('me')), { mode: 0o600 });
  await writeFile(path.join(dir, 'me.pub'), JSON.stringify({ party: 'me', publicKey: generateKeyFile('me').publicKey }));
  await writeFile(path.join(dir, 'bad.key'), '{"party":"me","publicKey":"00","secretKey":"00"}', { mode: 0o600 });
});
afterAll(cleanup);

const CASES: readonly (readonly [string, readonly string[], RegExp])[] = [
  ['no command', [], /Usage: rvl/],
  ['an unknown command, with a suggestion', ['acept', V], /^rvl: unknown command 'acept'.*accept/],
  ['an unknown option', ['--key', 'me.key', 'show', V, '--colour'], /^rvl: unknown option '--colour'/],
  ['a missing argument', ['--key', 'me.key', 'show'], /^rvl: missing required argument 'voucher'/],
  ['a bad voucher id', ['--key', 'me.key', 'accept', 'v123'], /voucher id looks like/],
  [
    'a misplaced comma',
    ['--key', 'me.key', 'issue', '--to', 'x', '--amount', '1,00,000', '--due', '2027-01-01', '--invoice', 'I'],
    /argument '1,00,000' is invalid\. misplaced comma/,
  ],
  ['three decimals', ['--key', 'me.key', 'transfer', V, '--to', 'x', '--amount', '1.005'], /more than 2 decimals/],
  ['a zero amount', ['--key', 'me.key', 'transfer', V, '--to', 'x', '--amount', '0'], /at least ¥0\.01/],
  ['a negative amount', ['--key', 'me.key', 'split', V, '--amounts', '-5', '10'], /cannot be negative/],
  ['one split part', ['--key', 'me.key', 'split', V, '--amounts', '10'], /a split has 2–100 parts/],
  ['a date that does not exist', ['--key', 'me.key', 'issue', '--to', 'x', '--amount', '1', '--due', '2027-02-30', '--invoice', 'I'], /a date is YYYY-MM-DD/],
  [
    'a missing required option',
    ['--key', 'me.key', 'issue', '--to', 'x', '--amount', '1', '--due', '2027-01-01'],
    /required option '--invoice <id>' not specified/,
  ],
  ['an unknown status', ['--key', 'me.key', 'list', '--status', 'active,lost'], /"lost" is not a status/],
  ['a bad --expires-in', ['--key', 'me.key', '--expires-in', '5 minutes', 'accept', V], /a duration is a number and a unit/],
  [
    'a bad role',
    ['--key', 'me.key', 'party', 'register', '--id', 'x', '--name', 'X', '--role', 'king', '--public-key', 'ab'.repeat(32)],
    /Allowed choices are core, supplier, bank, auditor/,
  ],
  [
    'both --public-key and --key-file',
    ['--key', 'me.key', 'party', 'register', '--name', 'X', '--role', 'bank', '--public-key', 'ab'.repeat(32), '--key-file', 'me.key'],
    /exactly one of --public-key HEX or --key-file FILE/,
  ],
  [
    'no key file',
    ['accept', V],
    /^rvl: this command needs your key file: give it with --key FILE \(or your party id, for .+\/\.rvl\/keys\/<id>\.key\) or set RVL_KEY\n$/,
  ],
  [
    'a public key file instead of the key file',
    ['--key', 'me.pub', 'accept', V],
    /^rvl: me\.pub: this is a public key file \(it has no secret key\); choose the \.key file\n$/,
  ],
  ['a bare party id with no key in the key folder', ['--key', 'nobody', 'accept', V], /^rvl: no key file at .+\/\.rvl\/keys\/nobody\.key\n$/],
  ['a read token that would live more than an hour', ['--key', 'me.key', 'token', '--ttl', '2h'], /at most 60 minutes/],
  ['a key file that is not there', ['--key', 'nope.key', 'accept', V], /^rvl: no key file at nope\.key\n$/],
  ['a key file that is not a key', ['--key', 'bad.key', 'accept', V], /^rvl: bad\.key is not a usable key file: BAD_HEX/],
  ['verify-bundle without --ledger', ['verify-bundle', 'b.json'], /required option '--ledger <id>' not specified/],
  ['a bad ledger id', ['verify-bundle', 'b.json', '--ledger', 'xyz'], /a ledger id is 64 hex digits/],
  ['a missing bundle file', ['verify-bundle', 'b.json', '--ledger', 'ab'.repeat(32)], /^rvl: no proof bundle at b\.json\n$/],
  ['a url that is not one', ['--url', 'ftp://x', '--key', 'me.key', 'accept', V], /--url must be an http\(s\) URL/],
  ['submitting a file that is no envelope', ['submit', 'me.key'], /neither a pledge request nor a signed envelope/],
  ['keygen with a bad party id', ['keygen', '--party', 'Not Valid'], /a party id is/],
];

describe('usage errors exit 2 with one line on stderr', () => {
  it.each(CASES)('%s', async (_what, args, message) => {
    const r = await run(args);
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // never a stack
    if (args.length > 0) expect(r.stdout).toBe('');
  });

  it('--help and --version exit 0', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes: 0 done, 1 refused or a check failed, 2 usage error, 3 ledger unreachable or unavailable');
    for (const cmd of ['keygen', 'issue', 'split', 'pledge', 'verify-bundle', 'audit', 'checkpoint', 'token']) expect(help.stdout).toContain(cmd);
    const pledgeHelp = await run(['pledge', 'cosign', '--help']);
    expect(pledgeHelp.code).toBe(0);
    expect(pledgeHelp.stdout).toContain('--yes');
    const version = await run(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('--json still reports a usage error on stderr (exit 2), with the error as JSON on stdout', async () => {
    const r = await run(['--json', 'accept', V]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('needs your key file');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { kind: 'usage' } });
  });
});
