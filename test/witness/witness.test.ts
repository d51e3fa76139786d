/**
 * The witness (src/witness): C2SP tlog-witness v1 `add-checkpoint` on real checkpoints of a real
 * Merkle tree signed with a node key, its durable state across a restart, a race of conflicting
 * checkpoints, 10,000 hostile bodies, and the HTTP endpoint on a real port.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/ledger/base64.js';
import { checkpointOrigin, signCheckpoint } from '../../src/ledger/checkpoint.js';
import { checkCosignatures } from '../../src/ledger/cosignature.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { toHex } from '../../src/ledger/hex.js';
import { consistencyProof, hashLeaf, rootOf } from '../../src/ledger/merkle.js';
import { utf8 } from '../../src/ledger/utf8.js';
import { witnessServer } from '../../src/witness/server.js';
import { addLog, WitnessState, type AddCheckpointAnswer } from '../../src/witness/witness.js';
import { seedFor } from '../support/world.js';

const LEDGER = 'cd'.repeat(32);
const NODE_SEED = seedFor('witness-test-node');
const NODE_KEY = publicKeyFromSeed(NODE_SEED);
const ME = { name: 'witness.icbc.example/w1', seed: seedFor('witness-test-me'), publicKey: publicKeyFromSeed(seedFor('witness-test-me')) };
const logger = pino({ level: 'silent' });

/** A tree's leaves; `fork` changes the leaf at that index (another history of the same size). */
const leaves = (n: number, fork?: number): Uint8Array[] => Array.from({ length: n }, (_, i) => hashLeaf(utf8(`entry ${i}${i === fork ? ' forked' : ''}`)));
const checkpointAt = (size: number, fork?: number, seed = NODE_SEED) => signCheckpoint({ ledgerId: LEDGER, size, root: rootOf(leaves(size, fork)) }, seed);
const body = (oldSize: number, size: number, o: { fork?: number; proofFork?: number; seed?: string } = {}): string => {
  const proof = oldSize === 0 || oldSize === size ? [] : consistencyProof(leaves(size, o.proofFork ?? o.fork), oldSize, size);
  return `old ${oldSize}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${checkpointAt(size, o.fork, o.seed)}`;
};

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const freshWitness = async (): Promise<{ dir: string; state: WitnessState }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-witness-'));
  dirs.push(dir);
  await addLog(dir, { ledgerId: LEDGER, nodeKey: NODE_KEY, url: 'http://127.0.0.1:1' });
  return { dir, state: await WitnessState.open(dir, ME) };
};

const cosignedBy = (note: string, answer: AddCheckpointAnswer): boolean =>
  answer.status === 200 && checkCosignatures(note + answer.body, { witnesses: [ME], quorum: 1 }).ok;

describe('the witness: add-checkpoint', () => {
  it('cosigns the first checkpoint and each consistent extension; the cosignature verifies', async () => {
    const { state } = await freshWitness();
    const first = await state.addCheckpoint(body(0, 5));
    expect(cosignedBy(checkpointAt(5), first)).toBe(true);
    const next = await state.addCheckpoint(body(5, 13));
    expect(cosignedBy(checkpointAt(13), next)).toBe(true);
    const same = await state.addCheckpoint(body(13, 13));
    expect(same.status).toBe(200);
    expect(await state.cosigned(checkpointOrigin(LEDGER))).toEqual({ size: 13, root: toHex(rootOf(leaves(13))) });
  });

  it('answers each refusal with its C2SP status, and cosigns nothing then', async () => {
    const { state } = await freshWitness();
    await state.addCheckpoint(body(0, 8));
    const cases: [string, string, number][] = [
      ['an old size that is not the last cosigned', body(5, 10), 409],
      ['a second history at the same size (split view)', body(8, 8, { fork: 3 }), 422],
      ['an extension of another history', body(8, 12, { fork: 2 }), 422],
      [
        'a proof that does not verify',
        body(8, 12, { proofFork: 11 }).replace(/^old 8\n[^\n]+\n/, 'old 8\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n'),
        422,
      ],
      ['an old size above the checkpoint', body(0, 8).replace('old 0', 'old 9'), 400],
      ['another key', body(8, 12, { seed: seedFor('impostor') }), 403],
      ['an unknown origin', body(0, 3).replaceAll(`rvl/${LEDGER}`, `rvl/${'ef'.repeat(32)}`), 404],
      ['no blank line', 'old 8\n', 400],
      ['a leading zero', body(8, 12).replace('old 8', 'old 08'), 400],
    ];
    for (const [what, b, status] of cases) {
      const r = await state.addCheckpoint(b);
      expect(r.status, what).toBe(status);
      if (r.status === 409) expect(r.size).toBe(8);
    }
    expect(await state.cosigned(checkpointOrigin(LEDGER))).toEqual({ size: 8, root: toHex(rootOf(leaves(8))) });
  });

  it('keeps what it cosigned across a restart', async () => {
    const { dir, state } = await freshWitness();
    await state.addCheckpoint(body(0, 21));
    const again = await WitnessState.open(dir, ME);
    expect(await again.addCheckpoint(body(0, 30))).toEqual({ status: 409, size: 21 });
    expect((await again.addCheckpoint(body(21, 30))).status).toBe(200);
  });

  it('a race of conflicting checkpoints at one size: it cosigns one history only', async () => {
    const { state } = await freshWitness();
    await state.addCheckpoint(body(0, 4));
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => state.addCheckpoint(body(4, 9, i % 2 === 0 ? {} : { fork: 6 }))));
    const cosigned = answers.filter((a) => a.status === 200);
    expect(cosigned.length).toBe(1);
    expect(answers.filter((a) => a.status === 409).length).toBe(39);
    const stored = await state.cosigned(checkpointOrigin(LEDGER));
    const honest = toHex(rootOf(leaves(9)));
    const forked = toHex(rootOf(leaves(9, 6)));
    expect([honest, forked]).toContain(stored?.root);
    expect(cosignedBy(checkpointAt(9, stored?.root === honest ? undefined : 6), cosigned[0]!)).toBe(true);
  });

  it('10,000 hostile bodies: each gets a C2SP status, none throws, and the state only ever moves to a consistent extension', async () => {
    const { state } = await freshWitness();
    await state.addCheckpoint(body(0, 6));
    const valid = [body(6, 10), body(6, 6), body(6, 17), body(0, 3), body(6, 10, { fork: 2 })];
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.nat(4000), fc.integer({ min: 0, max: 5 }), fc.string({ maxLength: 12, unit: 'binary' }));
    const statuses = new Map<number, number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated, async ([b, at, how, junk]) => {
        const i = at % Math.max(1, b.length);
        const hostile = [
          b.slice(0, i),
          b.slice(0, i) + junk + b.slice(i + 1),
          b.slice(0, i) + b.slice(i + 1),
          junk,
          b.replace('\n\n', `\n${junk}\n\n`),
          b + junk,
        ][how]!;
        const r = await state.addCheckpoint(hostile);
        expect([200, 400, 403, 404, 409, 422]).toContain(r.status);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        n += 1;
        // Whatever it accepted, its state is a real tree of the honest history.
        const s = await state.cosigned(checkpointOrigin(LEDGER));
        expect(s?.root).toBe(toHex(rootOf(leaves(s!.size))));
      }),
      { numRuns: 10_000, seed: 20261208 },
    );
    expect(n).toBe(10_000);
    process.stderr.write(`[witness fuzz] 10,000 hostile bodies: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  }, 120_000);
});

describe('the witness over HTTP', () => {
  it('serves add-checkpoint with the C2SP statuses and content types on a real port', async () => {
    const { state } = await freshWitness();
    const server = witnessServer(state, logger, '/witness');
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/witness`;
    const post = (b: string, at = '/add-checkpoint') => fetch(`${url}${at}`, { method: 'POST', body: b });
    try {
      const ok = await post(body(0, 7));
      expect(ok.status).toBe(200);
      expect(cosignedBy(checkpointAt(7), { status: 200, body: await ok.text() })).toBe(true);
      const conflict = await post(body(3, 9));
      expect(conflict.status).toBe(409);
      expect(conflict.headers.get('content-type')).toBe('text/x.tlog.size');
      expect(await conflict.text()).toBe('7\n');
      expect((await post(body(7, 9), '/other')).status).toBe(404);
      expect((await fetch(`${url}/add-checkpoint`)).status).toBe(405);
      expect((await post('x'.repeat(20_000))).status).toBe(413);
      expect((await post(body(7, 9))).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
