/**
 * The op declarations (src/domain/ops.ts) against `decide`: for every op on an existing voucher and
 * every voucher status, the console offers the op to a party (`startsOp`) exactly when that party,
 * with the co-signer the declaration names, gets the op accepted. And the records `recordsRead`
 * lists are all `decide` reads: a view that answers only those decides the same.
 */
import { describe, expect, test } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import { OPS, recordsRead, requiredSigners, startsOp } from '../../src/domain/ops.js';
import { parseOp } from '../../src/domain/schema.js';
import type { LedgerView, OpType, VoucherStatus } from '../../src/domain/types.js';
import { envelopeOf, outcome, voucherIn, type Actor, type WirePayload } from './helpers.js';

const STATUSES: readonly VoucherStatus[] = ['offered', 'active', 'pledged', 'split', 'settled', 'cancelled'];

type Scene = ReturnType<typeof voucherIn>;

/** A payload of each voucher op that is valid apart from the voucher's status. */
const PAYLOADS: Record<Exclude<OpType, 'party.register' | 'party.update' | 'voucher.issue'>, (s: Scene) => WirePayload> = {
  'voucher.accept': (s) => s.w.payload('voucher.accept', { voucherId: s.id }),
  'voucher.reject': (s) => s.w.payload('voucher.reject', { voucherId: s.id }),
  'voucher.cancel': (s) => s.w.payload('voucher.cancel', { voucherId: s.id }),
  'voucher.split': (s) => s.w.payload('voucher.split', { voucherId: s.id, amounts: ['30000000', '70000000'] }),
  'voucher.transfer': (s) => s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id }),
  'voucher.pledge': (s) => s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'LOAN-9' }),
  'voucher.release': (s) => s.w.payload('voucher.release', { voucherId: s.id }),
  'voucher.settle': (s) => s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'PAY-9' }),
};

const everyone = (s: Scene): Actor[] => [s.operator, s.core, s.core2, s.sup, s.sup2, s.stranger, s.bank, s.bank2, s.auditor];

describe('the console offers a voucher op exactly where decide accepts it from the party that starts it', () => {
  for (const [type, payloadOf] of Object.entries(PAYLOADS) as [keyof typeof PAYLOADS, (s: Scene) => WirePayload][]) {
    for (const status of STATUSES) {
      test(`${type} on a voucher that is ${status}`, () => {
        const s = voucherIn(status);
        const payload = payloadOf(s);
        const parsed = parseOp(JSON.parse(JSON.stringify(envelopeOf([s.operator], payload))));
        if (!parsed.ok) throw new Error(`the test payload does not parse: ${parsed.detail}`);
        const voucher = s.w.voucher(s.id);
        const required = requiredSigners(parsed.op.payload, voucher);
        const starters = everyone(s).filter((a) => startsOp(type, voucher, a.id));
        if (required === null) {
          expect(starters).toEqual([]);
          return;
        }
        const signers = required.map((id) => s.w.actor(id));
        const accepted = outcome(s.w.decide(envelopeOf(signers, payload))) === 'OK';
        expect(starters.map((a) => a.id)).toEqual(accepted ? [required[0]] : []);
      });
    }
  }
});

describe('recordsRead lists every record decide reads', () => {
  /** A view over `inner` that throws on any party, key or invoice `recordsRead` did not list. */
  const only = (inner: LedgerView, signers: readonly string[], payload: Parameters<typeof recordsRead>[0]): LedgerView => {
    const reads = recordsRead(payload);
    const parties = new Set([...signers, ...reads.parties]);
    return {
      party: (id) => {
        if (!parties.has(id)) throw new Error(`decide read party ${id}, which recordsRead does not list`);
        return inner.party(id);
      },
      keyOwner: (key) => {
        if (!reads.keys.includes(key)) throw new Error(`decide read the owner of ${key}, which recordsRead does not list`);
        return inner.keyOwner(key);
      },
      invoiceRoot: (id) => {
        if (!reads.invoices.includes(id)) throw new Error(`decide read invoice ${id}, which recordsRead does not list`);
        return inner.invoiceRoot(id);
      },
      voucher: (id) => inner.voucher(id),
      maySee: (party, id) => inner.maySee(party, id),
    };
  };

  const cases: [string, (s: Scene) => [Actor[], WirePayload]][] = [
    [
      'party.register',
      (s) => [[s.operator], s.w.payload('party.register', { party: { id: 'new-co', name: 'New Co', role: 'supplier', publicKey: s.sup.key.publicKey } })],
    ],
    ['party.update', (s) => [[s.operator], s.w.payload('party.update', { partyId: s.sup.id, publicKey: s.sup2.key.publicKey })]],
    ['voucher.issue', (s) => [[s.core], s.w.issuePayload(s.core, s.sup, 5_000n)]],
    ['voucher.transfer', (s) => [[s.sup], PAYLOADS['voucher.transfer'](s)]],
    ['voucher.pledge', (s) => [[s.sup, s.bank2], PAYLOADS['voucher.pledge'](s)]],
  ];
  for (const [type, make] of cases) {
    test(type, () => {
      const s = voucherIn('active');
      const [signers, payload] = make(s);
      const envelope = envelopeOf(signers, payload);
      const parsed = parseOp(JSON.parse(JSON.stringify(envelope)));
      if (!parsed.ok) throw new Error(`the test payload does not parse: ${parsed.detail}`);
      const view = only(
        s.w.state,
        signers.map((a) => a.id),
        parsed.op.payload,
      );
      expect(decide(view, parsed.op, s.w.context(envelope))).toEqual(s.w.decide(envelope));
    });
  }

  test('every op type has a declaration', () => {
    expect(Object.keys(OPS).sort()).toEqual([...Object.keys(PAYLOADS), 'party.register', 'party.update', 'voucher.issue'].sort());
  });
});
