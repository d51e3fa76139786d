/**
 * Tampering with derived state and with the log past the checkpoint, seeded: on copies of one
 * stopped ledger, each run changes, removes or adds one sealed record (a party, key owner, voucher
 * or invoice), or appends an entry past the checkpoint — signed correctly but refused by §7 (a
 * second pledge of a pledged voucher), or with a zeroed signature. Every change must stop writes
 * (state check failed, 503) and leave the signed checkpoint where it was. RVL_SEED replays a seed.
 */
import { cp as copyDir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize } from '../../src/ledger/jcs.js';
import { opPreimage } from '../../src/ledger/op.js';
import { sign } from '../../src/ledger/ed25519.js';
import { Frontier } from '../../src/service/merkle-log.js';
import { nodeKey } from '../../src/store/keys.js';
import { entryHashOfText } from '../../src/ledger/entry.js';
import { Harness, key } from '../support/harness.js';
import { editLevel as edit, seqKey } from '../support/level-edit.js';

const seed0 = Number(process.env.RVL_SEED ?? Date.now() % 100_000);
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

const core = key('rt-core', 'core');
const sup = key('rt-sup', 'supplier');
const bankA = key('rt-bank-a', 'bank');
const bankB = key('rt-bank-b', 'bank');

const dirs: string[] = [];
let pristine = '';
let ledgerId = '';
let pledged = '';

/** Starts the copy, sends one write, and returns what the node did. */
const outcome = async (dir: string) => {
  const h = await Harness.start({ dataDir: dir });
  try {
    const before = h.service.checkpoint;
    const r = await h.submit({ type: 'voucher.pledge', voucherId: pledged, bank: bankB.id, loanRef: 'L-2' }, [sup, bankB]);
    return { status: r.statusCode, stateCheck: h.service.stateCheck, unavailable: h.service.unavailable, sameCheckpoint: h.service.checkpoint === before };
  } finally {
    await h.close(false);
  }
};

const copy = async (): Promise<string> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-rtamper-'));
  dirs.push(dir);
  await copyDir(pristine, dir, { recursive: true });
  return dir;
};

describe(`reliability: tampered derived state and uncovered entries (seed ${seed0})`, () => {
  beforeAll(async () => {
    const h = await Harness.start();
    for (const k of [core, sup, bankA, bankB]) await h.register(k);
    const v = await h.issueAccepted(core, sup, '1000000');
    const split = await h.ok({ type: 'voucher.split', voucherId: v, amounts: ['400000', '600000'] }, [sup]);
    pledged = split.effects.vouchers.find((x) => x.id !== v && x.amount === '400000')!.id;
    await h.ok({ type: 'voucher.pledge', voucherId: pledged, bank: bankA.id, loanRef: 'L-1' }, [sup, bankA]);
    ledgerId = h.ledgerId;
    await h.close(false);
    pristine = h.dataDir;
    dirs.push(pristine);
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('stops writes on every seeded change, removal or addition of a sealed record', async () => {
    const random = rng(seed0);
    for (let round = 0; round < 8; round++) {
      const dir = await copy();
      const kind = (['p', 'k', 'v', 'inv'] as const)[Math.floor(random() * 4)]!;
      const action = (['change', 'remove', 'add'] as const)[Math.floor(random() * 3)]!;
      let what = '';
      await edit(dir, async (db) => {
        const s = db.sublevel<string, string>(kind, { valueEncoding: 'utf8' });
        const all = await s.iterator().all();
        const [k, value] = all[Math.floor(random() * all.length)]!;
        what = `${action} ${kind}/${k}`;
        if (action === 'remove') await s.del(k);
        else if (action === 'add') await s.put(`${k}x`, value);
        else {
          // One character of a string inside the value, so that it stays well formed.
          const quote = value.lastIndexOf('"', value.length - 2);
          const at = quote > 0 ? quote - 1 : value.length - 2;
          const ch = value[at] === 'a' ? 'b' : 'a';
          await s.put(k, `${value.slice(0, at)}${ch}${value.slice(at + 1)}`);
        }
      });
      const o = await outcome(dir);
      expect(o, `seed ${seed0} round ${round}: ${what}`).toMatchObject({ status: 503, stateCheck: 'failed', sameCheckpoint: true });
    }
  });

  it('never signs over an appended entry that §7 refuses or whose signature is zeroed', async () => {
    for (const variant of ['double pledge', 'zero signature'] as const) {
      const dir = await copy();
      const payload = { type: 'voucher.pledge', voucherId: pledged, bank: bankB.id, loanRef: 'L-9', ledger: ledgerId, nonce: `rt-nonce-${variant.length}` };
      const pre = opPreimage(payload);
      const signatures = [
        { signer: sup.id, sig: variant === 'zero signature' ? '0'.repeat(128) : sign(sup.seed, pre) },
        { signer: bankB.id, sig: sign(bankB.seed, pre) },
      ];
      let seq = 0;
      await edit(dir, async (db) => {
        const m = db.sublevel<string, unknown>('meta', { valueEncoding: 'json' });
        const head = (await m.get('head')) as { size: number; lastHash: string; lastTime: string };
        seq = head.size;
        const text = canonicalize({ v: 1, seq, time: new Date().toISOString(), prev: head.lastHash, op: { payload, signatures } });
        const nodes = db.sublevel<string, Uint8Array>('m', { valueEncoding: 'view' });
        const f = await Frontier.load(seq, async (at) => Promise.all(at.map((n) => nodes.get(nodeKey(n.level, n.index)))));
        for (const n of f.append(entryHashOfText(text))) await nodes.put(nodeKey(n.level, n.index), n.hash);
        await db.sublevel<string, string>('e', { valueEncoding: 'utf8' }).put(seqKey(seq), text);
      });
      const h = await Harness.start({ dataDir: dir });
      try {
        expect(h.service.unavailable, variant).toContain(`entry ${seq}`);
        expect(h.service.size).toBe(seq);
        expect(h.service.checkpoint.split('\n')[1]).toBe(String(seq));
      } finally {
        await h.close(false);
      }
      // The operator key file is never needed for this; the node key signed nothing new.
      expect((await readFile(path.join(dir, 'node.key.checkpoint'), 'utf8')).split('\n')[1]).toBe(String(seq));
    }
  });
});
