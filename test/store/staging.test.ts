/**
 * LevelStore.stage: the writer builds a batch's writes while the batch before it is
 * still being written. A staged batch must commit exactly what an unstaged one does, and one that
 * is never committed (its predecessor failed) must never reach the disk.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommitBatch } from '../../src/store/port.js';
import { LevelStore } from '../../src/store/level-store.js';

const dirs: string[] = [];
const freshStore = async (): Promise<{ store: LevelStore; dir: string }> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'rvl-stage-'));
  dirs.push(dir);
  const store = new LevelStore(dir);
  await store.open();
  return { store, dir };
};
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const batchAt = (seq: number, text: string): CommitBatch => ({
  entries: [{ seq, text, opId: `${seq}`.padStart(64, 'a'), effects: `{"vouchers":[],"parties":[],"n":${seq}}` }],
  parties: [],
  keyOwners: [],
  vouchers: [],
  invoicesUsed: [['INV-1', 'v1']],
  invoicesFreed: [],
  partyVouchersPut: [],
  partyVouchersDel: [],
  partySeqs: [],
  merkleNodes: [[`00:${seq}`, Uint8Array.of(seq, 1, 2, 3)]],
  head: { size: seq + 1, lastHash: 'b'.repeat(64), lastTime: '2026-11-28T12:00:00.000Z' },
  seal: { size: seq + 1, root: 'c'.repeat(64), digest: 'd'.repeat(64), mac: 'e'.repeat(64) },
  checkpoint: `note ${seq}\n`,
});

const readBack = async (store: LevelStore, seq: number) => ({
  entry: await store.entry(seq),
  effects: await store.effects(seq),
  op: await store.seqOfOp(`${seq}`.padStart(64, 'a')),
  node: await store.merkleNode(`00:${seq}`),
  invoice: await store.invoiceRoot('INV-1'),
  head: await store.head(),
  checkpoint: await store.checkpoint(),
});

describe('LevelStore.stage', () => {
  it('a staged batch commits (with its checkpoint) exactly what an unstaged one does, durable across a reopen', async () => {
    const plain = await freshStore();
    const staged = await freshStore();
    const b = batchAt(0, '{"seq":0}');
    await plain.store.commit(b);
    const { checkpoint, ...rest } = b;
    staged.store.stage(rest);
    await staged.store.commit({ ...rest, checkpoint });
    expect(await readBack(staged.store, 0)).toEqual(await readBack(plain.store, 0));
    await staged.store.close();
    const reopened = new LevelStore(staged.dir);
    await reopened.open();
    expect(await readBack(reopened, 0)).toEqual(await readBack(plain.store, 0));
    expect((await readBack(reopened, 0)).checkpoint).toBe('note 0\n');
    await reopened.close();
    await plain.store.close();
  });

  it('a staged batch never committed writes nothing, and a later commit of another batch does not carry it', async () => {
    const { store, dir } = await freshStore();
    const { checkpoint: _unused, ...abandoned } = batchAt(0, '{"staged":"never committed"}');
    store.stage(abandoned);
    expect(await store.entry(0)).toBeUndefined();
    expect(await store.head()).toBeUndefined();
    const other = batchAt(0, '{"committed":true}');
    await store.commit(other);
    expect(await store.entry(0)).toBe('{"committed":true}');
    await store.close();
    const reopened = new LevelStore(dir);
    await reopened.open();
    expect(await reopened.entry(0)).toBe('{"committed":true}');
    expect(await reopened.head()).toEqual(other.head);
    await reopened.close();
  });
});
