/**
 * The attack a §9 bundle cannot stop, set up on a real service through the SDK: a voucher issued
 * by the core enterprise to tier 1, accepted and pledged to a bank, one later entry; then a real
 * bundle fetched after the pledge with the pledge entry and every later entry dropped and `state`
 * rolled back to before the pledge (`attack.json`), and a pledge request to a second bank that
 * carries it (`request.json`). The CLI and the browser console are tested on the same files.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';

import {
  LedgerClient,
  PLEDGE_REQUEST_FORMAT,
  pledgeRequestText,
  signEnvelope,
  voucherAccept,
  voucherIdsOf,
  voucherIssue,
  voucherPledge,
  type KeyFile,
  type ProofBundle,
  type WirePayload,
  type WireVoucher,
} from '../../src/client/index.js';
import { CAST, registerParties } from './cast.js';
import { dueIn } from './time.js';

/** The loan reference of the real pledge (to `CAST.bank`), which the attack hides. */
export const DROPPED_LOAN_REF = 'LN-ICBC-1';

export interface DroppedPledge {
  /** Key files of core, tier 1, bank and bank 2, written into the folder as `<id>.key`. */
  readonly keys: Record<string, { key: KeyFile; file: string }>;
  readonly ledgerId: string;
  readonly root: string;
  /** The voucher as read before the pledge: the state the attack bundle claims. */
  readonly before: WireVoucher;
  readonly pledgeSeq: number;
  /** The real bundle, fetched after the pledge and the later entry. */
  readonly real: ProofBundle;
  readonly attackFile: string;
  readonly requestFile: string;
}

export const setUpDroppedPledge = async (server: { url: string; dataDir: string }, dir: string): Promise<DroppedPledge> => {
  const { core: CORE, tier1: TIER1, bank: BANK, bank2: BANK2 } = CAST;
  const keys = await registerParties(server.url, server.dataDir, dir, [CORE, TIER1, BANK, BANK2]);
  const core = keys[CORE.id]!.key;
  const t1 = keys[TIER1.id]!.key;
  const asCore = new LedgerClient({ baseUrl: server.url, key: core });
  const asT1 = new LedgerClient({ baseUrl: server.url, key: t1 });
  const submit = (client: LedgerClient, payload: WirePayload, signers: KeyFile[]) => client.submit(signEnvelope(payload, signers));
  const ledgerId = await asCore.ledgerId();
  const issue = voucherIssue({
    ledger: ledgerId,
    issuer: CORE.id,
    to: TIER1.id,
    amount: 300_000_00n,
    currency: 'CNY',
    dueDate: dueIn(90),
    invoiceIds: ['INV-CLAIMS-1'],
  });
  const root = voucherIdsOf(issue)[0]!;
  await submit(asCore, issue, [core]);
  await submit(asT1, voucherAccept({ ledger: ledgerId, voucherId: root }), [t1]);
  const before = await asT1.voucher(root);
  const pledge = voucherPledge({ ledger: ledgerId, voucherId: root, bank: BANK.id, loanRef: DROPPED_LOAN_REF });
  const pledgeSeq = (await submit(asT1, pledge, [t1, keys[BANK.id]!.key])).seq;
  // A later entry, so that the checkpoint reaches past the pledge.
  await submit(
    asCore,
    voucherIssue({ ledger: ledgerId, issuer: CORE.id, to: TIER1.id, amount: 1_000_00n, currency: 'CNY', dueDate: dueIn(90), invoiceIds: ['INV-CLAIMS-2'] }),
    [core],
  );

  // The attack: a real bundle after the pledge, the pledge and later entries dropped, state rolled back.
  const real: ProofBundle = await asT1.proof(root);
  expect(real.state.status).toBe('pledged');
  const attack: ProofBundle = { ...real, entries: real.entries.filter((e) => e.entry.seq < pledgeSeq), state: before };
  const attackFile = path.join(dir, 'attack.json');
  await writeFile(attackFile, JSON.stringify(attack, null, 2));

  // The holder hands the second bank a pledge request that carries the attack bundle.
  const requestFile = path.join(dir, 'request.json');
  const second = voucherPledge({ ledger: ledgerId, voucherId: root, bank: BANK2.id, loanRef: 'LN-CMB-2' });
  await writeFile(
    requestFile,
    pledgeRequestText({ format: PLEDGE_REQUEST_FORMAT, summary: ['from the holder'], envelope: signEnvelope(second, [t1]), proof: attack }),
  );
  return { keys, ledgerId, root, before, pledgeSeq, real, attackFile, requestFile };
};
