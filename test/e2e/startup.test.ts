/**
 * Starting the service (docs/protocol.md §3, §10, main.ts): what the first start prints and writes, what a
 * later start prints, and the operator keys it must refuse before writing anything.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { Client, key } from './client.js';
import { cleanup, runToExit, startServer, tempDir } from './server.js';

interface KeyFileJson {
  party: string;
  publicKey: string;
  secretKey: string;
}

const readKey = async (file: string): Promise<KeyFileJson> => JSON.parse(await readFile(file, 'utf8')) as KeyFileJson;

describe('e2e: start-up', () => {
  afterAll(cleanup);

  it('first start prints the URL, ledger id, docs URL and operator key path, and writes 0600 key files', async () => {
    const server = await startServer();
    const out = server.stdout();
    const c = await Client.connect(server.url);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect(out).toContain(`rvl ledger service listening on ${server.url}\n`);
    expect(out).toMatch(new RegExp(`ledger id\\s+${c.ledgerId}\\n`));
    expect(out).toContain(`${server.url}/docs`);
    const operatorFile = path.join(server.dataDir, 'operator.key');
    const nodeFile = path.join(server.dataDir, 'node.key');
    expect(out).toContain(operatorFile);
    expect(out).toContain(nodeFile);

    for (const [file, party, publicKey] of [
      [operatorFile, 'operator', c.ledger.operatorKey],
      [nodeFile, 'node', c.ledger.nodeKey],
    ] as const) {
      expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
      const k = await readKey(file);
      expect(Object.keys(k).sort()).toEqual(['party', 'publicKey', 'secretKey']);
      expect(k).toMatchObject({ party, publicKey });
      expect(k.secretKey).toMatch(/^[0-9a-f]{64}$/);
      expect(publicKeyFromSeed(k.secretKey)).toBe(publicKey);
    }
    // The docs it points to are served.
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.status).toBe(200);
    await docs.arrayBuffer();
    const openapi = await fetch(`${server.url}/openapi.json`);
    expect(openapi.status).toBe(200);
    expect(((await openapi.json()) as { openapi?: string }).openapi).toMatch(/^3\./);
    // No secret in anything it printed.
    const operatorSecret = (await readKey(operatorFile)).secretKey;
    const nodeSecret = (await readKey(nodeFile)).secretKey;
    expect(out).not.toContain(operatorSecret);
    expect(out).not.toContain(nodeSecret);
    expect(server.stderr()).toBe('');

    // A later start on the same folder keeps the keys and says where the operator came from.
    const keysBefore = [await readFile(operatorFile, 'utf8'), await readFile(nodeFile, 'utf8')];
    await server.stop();
    const again = await startServer({ dataDir: server.dataDir });
    expect(again.stdout()).toContain(`ledger id   ${c.ledgerId}`);
    expect(again.stdout()).not.toContain('key written to');
    expect([await readFile(operatorFile, 'utf8'), await readFile(nodeFile, 'utf8')]).toEqual(keysBefore);
    await again.stop();
  });

  it('takes the operator key from LEDGER_OPERATOR_PUBLIC_KEY and then writes no operator.key', async () => {
    const op = key('external-operator', 'core');
    const server = await startServer({ env: { LEDGER_OPERATOR_PUBLIC_KEY: op.publicKey, LEDGER_NAME: 'from-env' } });
    const c = await Client.connect(server.url);
    expect(c.ledger).toMatchObject({ operatorKey: op.publicKey, name: 'from-env' });
    expect(server.stdout()).toContain('LEDGER_OPERATOR_PUBLIC_KEY');
    expect(existsSync(path.join(server.dataDir, 'operator.key'))).toBe(false);
    // That key is the operator's: it registers a party.
    const operator = { ...op, id: 'operator', role: 'operator' as const };
    expect((await c.register(operator, key('env-supplier', 'supplier'))).seq).toBe(1);
    await server.stop();
  });

  const badKeys: [string, string][] = [
    ['the identity point (small order)', '0100000000000000000000000000000000000000000000000000000000000000'],
    ['a point of order 8', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a'],
    ['y = p, a non-canonical encoding', 'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'],
    ['uppercase hex', 'D75A980182B10AB7D54BFED3C964073A0EE172F3DAA62325AF021A68F707511A'],
  ];

  it.concurrent.for(badKeys)('refuses to start with LEDGER_OPERATOR_PUBLIC_KEY = %s, before writing anything', async ([, bad], { expect }) => {
    const dir = await tempDir();
    const run = await runToExit({ dataDir: dir, env: { LEDGER_OPERATOR_PUBLIC_KEY: bad } });
    expect(run.stdout).not.toContain('listening on');
    expect(run.signal).toBeNull();
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('LEDGER_OPERATOR_PUBLIC_KEY');
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a data folder whose node key file belongs to another ledger', async () => {
    const server = await startServer();
    await server.stop();
    const stranger = key('another-node', 'core');
    const file = path.join(await tempDir(), 'node.key');
    await writeFile(file, JSON.stringify({ party: 'node', publicKey: stranger.publicKey, secretKey: stranger.seed }), { mode: 0o600 });
    const run = await runToExit({ dataDir: server.dataDir, env: { LEDGER_NODE_KEY_FILE: file } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refusing to start/);
    expect(run.stderr).toContain(stranger.publicKey);
  });
});
