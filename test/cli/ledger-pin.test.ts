/**
 * `rvl checkpoint` pins each service URL to the ledger id it first found there. Through the real
 * `rvl` against the real compiled service: trust a ledger, stop it, start a NEW ledger (a new data
 * folder) on the same port, so the same URL; `rvl checkpoint` refuses it (exit 1, naming both ids
 * and how to re-pin) instead of trusting it as a first use, and changes no file. Re-pinning is a
 * deliberate act: `--trust-new-ledger`, or `--forget URL` and then a first use.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { json, rvl, type Result } from './support.js';

let first: Server | undefined;
let second: Server | undefined;
let dir: string;
let home: string;
let url = '';
let port = 0;
let firstId = '';
let secondId = '';

const run = (args: readonly string[]): Promise<Result> => rvl(args, { cwd: dir, home, url });
const pinsFile = (): string => path.join(home, '.rvl', 'ledgers.json');
const pins = async (): Promise<{ v: number; pins: Record<string, { ledgerId: string; since: string }> }> => JSON.parse(await readFile(pinsFile(), 'utf8'));
const ledgerIdOf = async (): Promise<string> => json<{ ledgerId: string }>(await run(['--json', 'ledger'])).ledgerId;

beforeAll(async () => {
  [dir, home] = await Promise.all([tempDir('rvl-cli-pin-'), tempDir('rvl-cli-pin-home-')]);
  first = await startServer();
  url = first.url;
  port = first.port;
  firstId = await ledgerIdOf();
}, 30_000);
afterAll(cleanup);

describe('rvl checkpoint pins the URL to the ledger it serves', () => {
  it('first use: trusts the checkpoint and pins the URL to this ledger', async () => {
    const r = await run(['checkpoint']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`first use of ${url}: pinned to this ledger`);
    expect((await pins()).pins[url]?.ledgerId).toBe(firstId);
    const again = json<{ pin: { url: string; ledgerId: string; firstUse: boolean } }>(await run(['--json', 'checkpoint']));
    expect(again.pin).toMatchObject({ url, ledgerId: firstId, firstUse: false });
  });

  it('a NEW ledger on the same URL is refused: exit 1, both ids, how to re-pin; no file changes', async () => {
    await first!.stop();
    second = await startServer({ env: { PORT: String(port) } });
    expect(second.url).toBe(url);
    secondId = await ledgerIdOf();
    expect(secondId).not.toBe(firstId);

    const pinsBefore = await readFile(pinsFile(), 'utf8');
    const [r, asJson] = await Promise.all([run(['checkpoint']), run(['--json', 'checkpoint'])]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`LEDGER_CHANGED: ${url} served ledger ${firstId}`);
    expect(r.stderr).toContain(`but now serves ledger ${secondId}`);
    expect(r.stderr).toContain('rvl checkpoint --trust-new-ledger');
    expect(r.stderr).toContain(`rvl checkpoint --forget ${url}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(asJson.code).toBe(1);
    expect(await readFile(pinsFile(), 'utf8')).toBe(pinsBefore);
    // No trust file was made for the new ledger: it was not trusted on first use.
    await expect(readFile(path.join(home, '.rvl', `trust-${secondId}.json`), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('--trust-new-ledger re-pins deliberately, and says so; later runs accept the new ledger', async () => {
    const r = await run(['checkpoint', '--trust-new-ledger']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`RE-PINNED (--trust-new-ledger): ${url} served ledger ${firstId}`);
    expect((await pins()).pins[url]?.ledgerId).toBe(secondId);
    const again = await run(['checkpoint']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${url} serves the ledger it was pinned to`);
  });

  it('--forget URL removes the pin (and nothing else); the old ledger back on the URL is then a first use again', async () => {
    await second!.stop();
    second = await startServer({ dataDir: first!.dataDir, env: { PORT: String(port) } });
    expect(await ledgerIdOf()).toBe(firstId);
    const refused = await run(['checkpoint']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`served ledger ${secondId}`);

    const forgot = await run(['checkpoint', '--forget', `${url}/`]);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toContain(`Forgot the pin of ${url} (ledger ${secondId}`);
    expect((await pins()).pins[url]).toBeUndefined();
    const none = await run(['checkpoint', '--forget', url]);
    expect(none.stdout).toContain('was not pinned to any ledger; nothing changed');

    const r = await run(['checkpoint']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`first use of ${url}: pinned to this ledger`);
    // The first ledger's trusted checkpoint was kept: this one is checked against it, not trusted anew.
    expect(r.stdout).toMatch(/trust\s+(?:the same as|consistent with) the checkpoint you trusted at size/);
    expect((await pins()).pins[url]?.ledgerId).toBe(firstId);
  });

  it('a damaged pins file is refused (exit 1, naming it), not taken as "no pins"', async () => {
    await writeFile(pinsFile(), '{"v":1,"pins":');
    const r = await run(['checkpoint']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the pins file ${pinsFile()} is damaged`);
    expect(await readFile(pinsFile(), 'utf8')).toBe('{"v":1,"pins":');
  });
});
