/**
 * What `rvl verify-bundle` and `rvl pledge cosign` claim for a bundle, through the real `rvl`
 * against the real compiled service, on the attack a bundle cannot stop: a real bundle fetched
 * after a pledge, with the pledge entry and every later entry dropped and `state` rolled back to
 * the state before the pledge.
 *
 * (a) It still verifies under the newest checkpoint. That is inherent: §9 proves inclusion, not
 *     completeness — every remaining entry is in the log, and they do give that state.
 * (b) So the verdict says exactly that — "these entries are in the log … the state they give, as
 *     of entry #N" and "Not proof that nothing changed since" — and never that it proves the
 *     state as of the checkpoint, or that the history is complete.
 * (c) With a key and the ledger reachable, the comparison with the ledger reports the pledge.
 * (d) A bank shown that bundle in a pledge request: cosign passes (inherent), tells it to rely on
 *     the ledger's refusal at submission and to lend only on an accepted pledge entry; and the
 *     ledger refuses the submission (VOUCHER_PLEDGED).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CAST } from '../support/cast.js';
import { DROPPED_LOAN_REF, setUpDroppedPledge } from '../support/pledge-dropped.js';
import type { WireVoucher } from '../../src/client/index.js';
import { cleanup, startServer, tempDir, type Server } from '../e2e/server.js';
import { json, rvl, type Result } from './support.js';

const TIER1 = CAST.tier1.id;
const BANK = CAST.bank.id;
const BANK2 = CAST.bank2.id;

/** The precise claims, and the false ones that must never appear. */
const PROVES = /These entries are in the log \(under the checkpoint of size [\d,]+ the node signed\)/;
const NOT_PROOF = 'Not proof that nothing changed since';
const FALSE_CLAIMS = [/proves the state/i, /history is on the ledger/i, /completeness/i, /\bnot pledged\b/i, /nothing is missing/i];

let server: Server;
let dir: string;
let home: string;
let ledgerId = '';
let root = '';
let before: WireVoucher;
let pledgeSeq = 0;
let newestCheckpointSize = 0;

const run = (args: readonly string[]): Promise<Result> => rvl(args, { cwd: dir, home, url: server.url });
const as = (party: string, ...args: string[]): Promise<Result> => run(['--key', `${party}.key`, ...args]);
const noFalseClaim = (text: string): void => {
  for (const claim of FALSE_CLAIMS) expect(text).not.toMatch(claim);
};

beforeAll(async () => {
  server = await startServer();
  [dir, home] = await Promise.all([tempDir('rvl-cli-claims-'), tempDir('rvl-cli-claims-home-')]);
  // attack.json and request.json land in `dir`, the folder rvl runs in.
  const attack = await setUpDroppedPledge(server, dir);
  ({ ledgerId, root, before, pledgeSeq } = attack);
  newestCheckpointSize = attack.real.ledger.size;
}, 60_000);
afterAll(cleanup);

describe('rvl verify-bundle on a bundle with the pledge dropped', () => {
  it('offline: VALID (inherent), worded as inclusion — these entries, the state they give, as of the entry before the pledge — and not proof that nothing changed since', async () => {
    const r = await run(['verify-bundle', 'attack.json', '--ledger', ledgerId, '--voucher', root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`VALID — the state these entries give, as of entry #${before.updatedSeq}, `);
    expect(r.stdout).toMatch(PROVES);
    expect(r.stdout).toContain(NOT_PROOF);
    expect(r.stdout).toMatch(/✓ state entries/);
    expect(r.stdout).toMatch(/status\s+active/);
    expect(r.stdout).toContain('Not compared with the ledger (offline)');
    expect(r.stdout).toContain('this check cannot tell');
    // The checkpoint is the newest one, which covers the pledge: the state is as of an earlier entry.
    expect(r.stdout).toContain(`size ${newestCheckpointSize}`);
    expect(before.updatedSeq).toBeLessThan(pledgeSeq);
    noFalseClaim(r.stdout);
  });

  it('online (a key, the ledger reachable): CHANGED since, at the pledge entry, pledged to the first bank', async () => {
    const [r, asJson] = await Promise.all([
      as(TIER1, 'verify-bundle', 'attack.json', '--ledger', ledgerId),
      as(TIER1, '--json', 'verify-bundle', 'attack.json', '--ledger', ledgerId),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(PROVES);
    expect(r.stdout).toContain(NOT_PROOF);
    expect(r.stdout).toMatch(
      new RegExp(`✗ CHANGED since, at entry #${pledgeSeq}, [0-9-]+ [0-9:]+Z: status active → pledged; pledged to ${BANK}, loan ${DROPPED_LOAN_REF}\\.`),
    );
    expect(r.stdout).toContain("The state above is not the voucher's state now");
    noFalseClaim(r.stdout);
    const j = json<{
      ok: boolean;
      asOf: { seq: number };
      comparison: { compared: boolean; freshness: { kind: string; atSeq: number; changes: { kind: string }[] } };
    }>(asJson);
    expect(j.ok).toBe(true);
    expect(j.asOf.seq).toBe(before.updatedSeq);
    expect(j.comparison).toMatchObject({ compared: true, freshness: { kind: 'changed', atSeq: pledgeSeq } });
    expect(j.comparison.freshness.changes.map((c) => c.kind)).toEqual(['status', 'pledgeGained']);
  });
});

describe('rvl pledge cosign of a request carrying that bundle', () => {
  it('passes the offline review (inherent), says what the proof cannot show and that the ledger decides; the ledger refuses the pledge (VOUCHER_PLEDGED)', async () => {
    const r = await as(BANK2, 'pledge', 'cosign', 'request.json', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`status\\s+active in the proof, as of entry #${before.updatedSeq}, `));
    expect(r.stdout).toContain('it cannot show that the voucher is not pledged now');
    expect(r.stdout).toContain('it refuses a pledge of a voucher already pledged (VOUCHER_PLEDGED)');
    expect(r.stdout).toContain('Your signature alone is not a loan decision: lend only once the ledger has accepted the pledge entry');
    expect(r.stdout).toContain(`Lend only once the ledger accepts it: the receipt of rvl submit shows ${root} pledged to ${BANK2}`);
    expect(r.stdout).not.toMatch(/active, not pledged/);

    const submitted = await as(BANK2, 'submit', 'request.json');
    expect(submitted.code).toBe(1);
    expect(submitted.stderr).toContain('VOUCHER_PLEDGED');
    const still = json<{ status: string; pledge: { bank: string } }>(await as(BANK, '--json', 'show', root));
    expect(still).toMatchObject({ status: 'pledged', pledge: { bank: BANK } });
  });
});
