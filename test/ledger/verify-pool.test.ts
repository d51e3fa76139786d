/**
 * The worker-thread verifier (src/ledger/node/verify-pool.ts) against `verifyNode` and the portable
 * verifier: the same answer for every signature, valid or hostile, alone, in bursts far larger
 * than the workers can take at once, and in audit-sized sets; and a close that waits for every
 * answer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { signNode, verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { ED25519_L, generateSeed, publicKeyFromSeed, verify } from '../../src/ledger/ed25519.js';
import { fromHex, toHex } from '../../src/ledger/hex.js';
import { VerifyPool, type VerifyRequest } from '../../src/ledger/node/verify-pool.js';
import { ascii } from './helpers.js';

const toLe32 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const leToBig = (b: Uint8Array): bigint => b.reduceRight((n, x) => (n << 8n) | BigInt(x), 0n);

/** S + L: the same group equation, a non-canonical S (refused by §3). */
const withSPlusL = (sigHex: string): string => {
  const sig = fromHex(sigHex);
  const s = leToBig(sig.subarray(32)) + ED25519_L;
  if (s >= 2n ** 256n) return sigHex.slice(0, 64) + toHex(toLe32(ED25519_L)); // S = L exactly
  return sigHex.slice(0, 64) + toHex(toLe32(s));
};

const keys = Array.from({ length: 6 }, () => {
  const seed = generateSeed();
  return { seed, publicKey: publicKeyFromSeed(seed) };
});

/** Valid signatures and every kind of bad one, each labelled. */
const cases = (n: number): { what: string; req: VerifyRequest }[] => {
  const out: { what: string; req: VerifyRequest }[] = [];
  for (let i = 0; i < n; i++) {
    const k = keys[i % keys.length]!;
    const other = keys[(i + 1) % keys.length]!;
    const msg = ascii(`message ${i} ${'x'.repeat(i % 300)}`);
    const sig = signNode(k.seed, msg);
    const flipped = sig.slice(0, 10) + (sig[10] === '0' ? '1' : '0') + sig.slice(11);
    const kind = i % 9;
    if (kind === 0 || kind === 1 || kind === 2) out.push({ what: 'valid', req: { publicKey: k.publicKey, msg, sig } });
    else if (kind === 3) out.push({ what: 'other key', req: { publicKey: other.publicKey, msg, sig } });
    else if (kind === 4) out.push({ what: 'changed message', req: { publicKey: k.publicKey, msg: ascii(`message ${i}!`), sig } });
    else if (kind === 5) out.push({ what: 'changed signature', req: { publicKey: k.publicKey, msg, sig: flipped } });
    else if (kind === 6) out.push({ what: 'S + L', req: { publicKey: k.publicKey, msg, sig: withSPlusL(sig) } });
    else if (kind === 7) out.push({ what: 'identity key, R = identity, S = 0', req: { publicKey: '01' + '00'.repeat(31), msg, sig: '01' + '00'.repeat(63) } });
    else
      out.push({ what: 'garbage', req: { publicKey: i % 2 ? 'zz' : k.publicKey.toUpperCase(), msg, sig: i % 4 ? sig.slice(2) : (42 as unknown as string) } });
  }
  return out;
};

describe('VerifyPool', () => {
  const pool = new VerifyPool(2);
  afterAll(() => pool.close());

  it('answers every case as verifyNode and the portable verifier do, one at a time', async () => {
    for (const { what, req } of cases(45)) {
      const expected = verifyNode(req.publicKey, req.msg, req.sig);
      if (typeof req.sig === 'string') expect(verify(req.publicKey, req.msg, req.sig), what).toBe(expected);
      expect(await pool.verify(req.publicKey, req.msg, req.sig), what).toBe(expected);
      expect(expected, what).toBe(what === 'valid');
    }
  });

  it('answers a burst of 2,000 calls (queued while both workers are busy) each with its own result', async () => {
    const all = cases(2000);
    const answers = await Promise.all(all.map(({ req }) => pool.verify(req.publicKey, req.msg, req.sig)));
    answers.forEach((ok, i) => expect(ok, `${i}: ${all[i]!.what}`).toBe(all[i]!.what === 'valid'));
  });

  it('answers bursts that arrive while earlier ones are still being verified', async () => {
    const waves = await Promise.all(
      [0, 1, 2, 3, 4].map(async (wave) => {
        await new Promise((r) => setTimeout(r, wave));
        const all = cases(150 + wave * 37);
        const answers = await Promise.all(all.map(({ req }) => pool.verify(req.publicKey, req.msg, req.sig)));
        return answers.every((ok, i) => ok === (all[i]!.what === 'valid'));
      }),
    );
    expect(waves).toEqual([true, true, true, true, true]);
  });

  it('gathers the calls of one turn of the event loop, made from separate callbacks, into one message', async () => {
    const own = new VerifyPool(1);
    const all = cases(12);
    // Twelve callbacks of one check phase, as the requests read in one poll phase would be.
    const answers = await Promise.all(
      all.map(({ req }) => new Promise<boolean>((resolve) => setImmediate(() => resolve(own.verify(req.publicKey, req.msg, req.sig))))),
    );
    expect(answers).toEqual(all.map((c) => c.what === 'valid'));
    // The screens refuse the garbage cases on the calling thread; the rest go in one message.
    expect(own.messages).toBe(1);
    await own.close();
  });

  it('verifyMany keeps the order of an audit-sized set, alongside single calls', async () => {
    const all = cases(777);
    const [many, singles] = await Promise.all([
      pool.verifyMany(all.map((c) => c.req)),
      Promise.all(all.slice(0, 50).map(({ req }) => pool.verify(req.publicKey, req.msg, req.sig))),
    ]);
    expect(many).toEqual(all.map((c) => c.what === 'valid'));
    expect(singles).toEqual(all.slice(0, 50).map((c) => c.what === 'valid'));
  });

  it('close waits for every answer asked for before it', async () => {
    const own = new VerifyPool(1);
    const all = cases(300);
    const pending = all.map(({ req }) => own.verify(req.publicKey, req.msg, req.sig));
    await own.close();
    const answers = await Promise.all(pending);
    expect(answers).toEqual(all.map((c) => c.what === 'valid'));
  });
});
