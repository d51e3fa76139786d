/**
 * `rvl witness init|add-log|serve` through the real binary: a key and its vkey, a ledger trusted
 * only by a genesis entry that hashes to its id, and the served endpoint cosigning a real
 * checkpoint of that ledger until SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signCheckpoint } from '../../src/ledger/checkpoint.js';
import { checkCosignatures, parseWitnessVkey } from '../../src/ledger/cosignature.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { entryHashOfText } from '../../src/ledger/entry.js';
import { rootOf } from '../../src/ledger/merkle.js';
import { makeGenesis } from '../../src/service/open.js';
import { seedFor } from '../support/world.js';
import { cliJs, rvl } from './support.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const NODE_SEED = seedFor('cli-witness-node');

describe('rvl witness', () => {
  it('init prints a vkey; add-log trusts only a genesis that hashes to the id; serve cosigns its checkpoints', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'rvl-cli-witness-'));
    dirs.push(home);
    const dir = path.join(home, 'witness');
    const o = { cwd: home, home };

    const init = await rvl(['witness', 'init', '--dir', dir, '--name', 'witness.icbc.example/w1'], o);
    expect(init.code, init.stderr).toBe(0);
    const vkey = parseWitnessVkey(init.stdout.trim());
    expect(vkey.ok).toBe(true);
    const again = await rvl(['witness', 'init', '--dir', dir, '--name', 'witness.icbc.example/w1'], o);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a witness/);

    const { text, meta } = makeGenesis({
      ledgerName: '测试账本',
      operatorKey: publicKeyFromSeed(seedFor('op')),
      nodeKey: publicKeyFromSeed(NODE_SEED),
      createdAt: '2026-12-08T00:00:00.000Z',
    });
    const genesisFile = path.join(home, 'genesis.json');
    await writeFile(genesisFile, text);
    const wrong = await rvl(['witness', 'add-log', '--dir', dir, '--ledger', 'ab'.repeat(32), '--genesis', genesisFile], o);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`hashes to ${meta.ledgerId}`);
    const added = await rvl(['witness', 'add-log', '--dir', dir, '--ledger', meta.ledgerId, '--genesis', genesisFile], o);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain(meta.nodeKey);

    const proc = spawn(process.execPath, [cliJs(), 'witness', 'serve', '--dir', dir, '--port', '0', '--prefix', '/w'], {
      cwd: home,
      env: { ...process.env, HOME: home },
    });
    try {
      let err = '';
      const url = await new Promise<string>((resolve, reject) => {
        proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          err += chunk;
          const m = /listening on (http:\/\/\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        proc.once('exit', () => reject(new Error(`serve exited: ${err}`)));
      });
      const leaf = entryHashOfText(text);
      const note = signCheckpoint({ ledgerId: meta.ledgerId, size: 1, root: rootOf([leaf]) }, NODE_SEED);
      const res = await fetch(url, { method: 'POST', body: `old 0\n\n${note}` });
      expect(res.status).toBe(200);
      const cosigned = note + (await res.text());
      expect(checkCosignatures(cosigned, { witnesses: [vkey.ok ? vkey : { name: '', publicKey: '' }], quorum: 1 }).ok).toBe(true);
      const replay = await fetch(url, { method: 'POST', body: `old 0\n\n${note}` });
      expect(replay.status).toBe(409);
      expect(await replay.text()).toBe('1\n');
      proc.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
      expect(code).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);
});
