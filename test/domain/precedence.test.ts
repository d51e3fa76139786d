/**
 * Refusal precedence (docs/protocol.md §7: "the first that applies is the answer"). Each test builds an
 * op to which two refusals apply and asserts the one earlier in the table wins.
 */
import { describe, test } from 'vitest';
import { cast, childId, dayAfter, DEFAULT_DUE, envelopeOf, expectCode, newKey, ROOT_AMOUNT, voucherIn, type Actor, type WirePayload } from './helpers.js';

type Scene = ReturnType<typeof voucherIn>;

interface Row {
  /** The two refusals that apply, earlier first. */
  readonly name: string;
  readonly status: Parameters<typeof voucherIn>[0];
  readonly given?: (s: Scene) => void;
  readonly when: (s: Scene) => [Actor[], WirePayload];
  readonly then: Parameters<Scene['w']['refuses']>[2];
}

const ghost = (): Actor => ({ id: 'ghost-parts', key: newKey() });

const ROWS: Row[] = [
  {
    name: 'WRONG_LEDGER over OP_EXPIRED',
    status: 'active',
    given: (s) => s.w.at('2027-01-01T00:00:00.000Z'),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, ledger: 'e'.repeat(64), expiresAt: '2026-12-01T00:00:00.000Z' })],
    then: 'WRONG_LEDGER',
  },
  {
    name: 'WRONG_LEDGER over UNKNOWN_PARTY and BAD_SIGNATURE',
    status: 'active',
    when: (s) => [[ghost()], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, ledger: 'e'.repeat(64) })],
    then: 'WRONG_LEDGER',
  },
  {
    name: 'OP_EXPIRED over UNKNOWN_PARTY',
    status: 'active',
    given: (s) => s.w.at('2027-01-01T00:00:00.000Z'),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: 'ghost-parts', expiresAt: '2026-12-01T00:00:00.000Z' })],
    then: 'OP_EXPIRED',
  },
  {
    name: 'OP_EXPIRED over BAD_SIGNATURE',
    status: 'active',
    given: (s) => s.w.at('2027-01-01T00:00:00.000Z'),
    when: (s) => [
      [{ id: s.sup.id, key: s.sup2.key }],
      s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, expiresAt: '2026-12-01T00:00:00.000Z' }),
    ],
    then: 'OP_EXPIRED',
  },
  {
    name: 'UNKNOWN_PARTY (unknown signer) over BAD_SIGNATURE',
    status: 'active',
    when: (s) => [[ghost()], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'UNKNOWN_PARTY',
  },
  {
    name: 'UNKNOWN_PARTY (unknown recipient) over BAD_SIGNATURE',
    status: 'active',
    when: (s) => [[{ id: s.sup.id, key: s.sup2.key }], s.w.payload('voucher.transfer', { voucherId: s.id, to: 'ghost-parts' })],
    then: 'UNKNOWN_PARTY',
  },
  {
    name: 'UNKNOWN_PARTY over PARTY_SUSPENDED',
    status: 'active',
    given: (s) => s.w.suspend(s.sup.id),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: 'ghost-parts' })],
    then: 'UNKNOWN_PARTY',
  },
  {
    name: 'UNKNOWN_PARTY over VOUCHER_NOT_FOUND',
    status: 'active',
    when: (s) => [[s.stranger], s.w.payload('voucher.transfer', { voucherId: `v${'0'.repeat(24)}`, to: 'ghost-parts' })],
    then: 'UNKNOWN_PARTY',
  },
  {
    name: 'UNKNOWN_PARTY (partyId) over PARTY_EXISTS',
    status: 'active',
    when: (s) => [[s.operator], s.w.payload('party.update', { partyId: 'ghost-parts', publicKey: s.sup.key.publicKey })],
    then: 'UNKNOWN_PARTY',
  },
  {
    name: 'BAD_SIGNATURE over PARTY_SUSPENDED',
    status: 'active',
    given: (s) => s.w.suspend(s.sup.id),
    when: (s) => [[{ id: s.sup.id, key: s.sup2.key }], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'BAD_SIGNATURE',
  },
  {
    name: 'BAD_SIGNATURE over VOUCHER_NOT_FOUND',
    status: 'active',
    when: (s) => [[{ id: s.stranger.id, key: s.sup.key }], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'BAD_SIGNATURE',
  },
  {
    name: 'BAD_SIGNATURE (an extra signer with a bad signature) over SIGNERS_MISMATCH',
    status: 'active',
    when: (s) => [[s.sup, { id: s.sup2.id, key: s.sup.key }], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'BAD_SIGNATURE',
  },
  {
    name: 'BAD_SIGNATURE (an old key after rotation) over SIGNERS_MISMATCH',
    status: 'active',
    given: (s) => {
      s.w.rotate(s.core.id);
    },
    when: (s) => [[s.core], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'BAD_SIGNATURE',
  },
  {
    name: 'PARTY_SUSPENDED over VOUCHER_NOT_FOUND',
    status: 'active',
    given: (s) => s.w.suspend(s.stranger.id),
    when: (s) => [[s.stranger], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'PARTY_SUSPENDED',
  },
  {
    name: 'PARTY_SUSPENDED (recipient) over SIGNERS_MISMATCH',
    status: 'active',
    given: (s) => s.w.suspend(s.sup2.id),
    when: (s) => [[s.core], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'PARTY_SUSPENDED',
  },
  {
    name: 'PARTY_SUSPENDED (recipient) over ROLE_NOT_ALLOWED',
    status: 'active',
    given: (s) => s.w.suspend(s.core2.id),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.core2.id })],
    then: 'PARTY_SUSPENDED',
  },
  {
    name: 'PARTY_SUSPENDED (issuer) over ROLE_NOT_ALLOWED (issue to a bank)',
    status: 'active',
    given: (s) => s.w.suspend(s.core.id),
    when: (s) => [[s.core], s.w.issuePayload(s.core, s.bank, 5n)],
    then: 'PARTY_SUSPENDED',
  },
  {
    name: 'PARTY_SUSPENDED (bank) over VOUCHER_PLEDGED',
    status: 'pledged',
    given: (s) => s.w.suspend(s.bank2.id),
    when: (s) => [[s.sup, s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L' })],
    then: 'PARTY_SUSPENDED',
  },
  {
    name: 'VOUCHER_NOT_FOUND over the early VOUCHER_STATE_CONFLICT (a stranger accepts an active voucher)',
    status: 'active',
    when: (s) => [[s.stranger], s.w.payload('voucher.accept', { voucherId: s.id })],
    then: 'VOUCHER_NOT_FOUND',
  },
  {
    name: 'VOUCHER_NOT_FOUND over SIGNERS_MISMATCH',
    status: 'offered',
    when: (s) => [[s.stranger], s.w.payload('voucher.accept', { voucherId: s.id })],
    then: 'VOUCHER_NOT_FOUND',
  },
  {
    name: 'VOUCHER_NOT_FOUND over VOUCHER_PLEDGED',
    status: 'pledged',
    when: (s) => [[s.stranger], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })],
    then: 'VOUCHER_NOT_FOUND',
  },
  {
    name: 'VOUCHER_NOT_FOUND over ROLE_NOT_ALLOWED',
    status: 'active',
    when: (s) => [[s.stranger], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.core2.id })],
    then: 'VOUCHER_NOT_FOUND',
  },
  {
    name: 'the early VOUCHER_STATE_CONFLICT over SIGNERS_MISMATCH (the issuer accepts an active voucher)',
    status: 'active',
    when: (s) => [[s.core], s.w.payload('voucher.accept', { voucherId: s.id })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'the early VOUCHER_STATE_CONFLICT over SIGNERS_MISMATCH (the issuer rejects a settled voucher)',
    status: 'settled',
    when: (s) => [[s.core], s.w.payload('voucher.reject', { voucherId: s.id })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'the early VOUCHER_STATE_CONFLICT over SIGNERS_MISMATCH (a bank releases a voucher never pledged)',
    status: 'split',
    given: (s) => s.w.transfer(s.sup, childId(s.id, 0, 40_000_000), s.bank),
    when: (s) => [[s.bank], s.w.payload('voucher.release', { voucherId: childId(s.id, 0, 40_000_000) })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'the early VOUCHER_STATE_CONFLICT over SIGNERS_MISMATCH (the issuer cancels a split voucher)',
    status: 'split',
    when: (s) => [[s.core], s.w.payload('voucher.cancel', { voucherId: s.id })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'SIGNERS_MISMATCH over VOUCHER_PLEDGED (the pledgee splits a pledged voucher)',
    status: 'pledged',
    when: (s) => [[s.bank], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over VOUCHER_PLEDGED (the issuer transfers a pledged voucher)',
    status: 'pledged',
    when: (s) => [[s.core], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over ROLE_NOT_ALLOWED (a pledge to a supplier, signed by the holder only)',
    status: 'active',
    when: (s) => [[s.sup], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.sup2.id, loanRef: 'L' })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over ROLE_NOT_ALLOWED (a supplier named as issuer, a core signs)',
    status: 'active',
    when: (s) => [[s.core], s.w.issuePayload(s.sup, s.sup2, 5n)],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over ROLE_NOT_ALLOWED (a core suspends the operator)',
    status: 'active',
    when: (s) => [[s.core], s.w.payload('party.update', { partyId: 'operator', status: 'suspended' })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over PARTY_EXISTS (a non-operator registers an existing id)',
    status: 'active',
    when: (s) => [[s.core], s.w.payload('party.register', { party: { id: s.sup.id, name: 'X', role: 'supplier', publicKey: newKey().publicKey } })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over the late VOUCHER_STATE_CONFLICT (the offeree splits an offered root)',
    status: 'offered',
    when: (s) => [[s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over the late VOUCHER_STATE_CONFLICT (the holder settles a split voucher)',
    status: 'split',
    when: (s) => [[s.sup], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH over VOUCHER_OVERDUE',
    status: 'active',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.core], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'SIGNERS_MISMATCH (a duplicated signer) over AMOUNT_INVALID',
    status: 'active',
    when: (s) => [[s.sup, s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '1'] })],
    then: 'SIGNERS_MISMATCH',
  },
  {
    name: 'ROLE_NOT_ALLOWED over PARTY_EXISTS (suspend the operator and rotate it to a taken key)',
    status: 'active',
    when: (s) => [[s.operator], s.w.payload('party.update', { partyId: 'operator', status: 'suspended', publicKey: s.sup.key.publicKey })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'ROLE_NOT_ALLOWED over VOUCHER_PLEDGED (transfer a pledged voucher to a core)',
    status: 'pledged',
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.core2.id })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'ROLE_NOT_ALLOWED over the late VOUCHER_STATE_CONFLICT (transfer a split voucher to an auditor)',
    status: 'split',
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.auditor.id })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'ROLE_NOT_ALLOWED over VOUCHER_OVERDUE',
    status: 'active',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.core2.id })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'ROLE_NOT_ALLOWED over INVALID_RECIPIENT (a supplier pledges to itself as "bank")',
    status: 'active',
    when: (s) => [[s.sup], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.sup.id, loanRef: 'L' })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'ROLE_NOT_ALLOWED over DUE_DATE_INVALID, CURRENCY_INVALID and INVOICE_ALREADY_USED (a supplier issues)',
    status: 'active',
    when: (s) => [[s.sup], s.w.issuePayload(s.sup, s.sup2, 5n, { dueDate: '2020-01-01', currency: 'USD', invoiceIds: [...s.w.voucher(s.id).invoiceIds] })],
    then: 'ROLE_NOT_ALLOWED',
  },
  {
    name: 'VOUCHER_PLEDGED over VOUCHER_OVERDUE',
    status: 'pledged',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })],
    then: 'VOUCHER_PLEDGED',
  },
  {
    name: 'VOUCHER_PLEDGED over INVALID_RECIPIENT',
    status: 'pledged',
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup.id })],
    then: 'VOUCHER_PLEDGED',
  },
  {
    name: 'VOUCHER_PLEDGED over AMOUNT_INVALID',
    status: 'pledged',
    when: (s) => [[s.sup, s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L', amount: String(ROOT_AMOUNT) })],
    then: 'VOUCHER_PLEDGED',
  },
  {
    name: 'the late VOUCHER_STATE_CONFLICT over VOUCHER_OVERDUE (transfer a split voucher when overdue)',
    status: 'split',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'the late VOUCHER_STATE_CONFLICT over INVALID_RECIPIENT (the sender of an offer transfers it to itself)',
    status: 'active',
    given: (s) => s.w.transfer(s.sup, s.id, s.sup2, 1n),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: childId(s.id, 0, 1), to: s.sup.id })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'the late VOUCHER_STATE_CONFLICT over AMOUNT_INVALID (split a settled voucher with a bad sum)',
    status: 'settled',
    when: (s) => [[s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '1'] })],
    then: 'VOUCHER_STATE_CONFLICT',
  },
  {
    name: 'VOUCHER_OVERDUE over INVALID_RECIPIENT',
    status: 'active',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup.id })],
    then: 'VOUCHER_OVERDUE',
  },
  {
    name: 'VOUCHER_OVERDUE over AMOUNT_INVALID',
    status: 'active',
    given: (s) => s.w.at(dayAfter(DEFAULT_DUE)),
    when: (s) => [[s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '1'] })],
    then: 'VOUCHER_OVERDUE',
  },
  {
    name: 'INVALID_RECIPIENT over AMOUNT_INVALID',
    status: 'active',
    when: (s) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup.id, amount: String(ROOT_AMOUNT) })],
    then: 'INVALID_RECIPIENT',
  },
  {
    name: 'DUE_DATE_INVALID over CURRENCY_INVALID',
    status: 'active',
    when: (s) => [[s.core], s.w.issuePayload(s.core, s.sup, 5n, { dueDate: s.w.date, currency: 'USD' })],
    then: 'DUE_DATE_INVALID',
  },
  {
    name: 'DUE_DATE_INVALID over INVOICE_ALREADY_USED',
    status: 'active',
    when: (s) => [[s.core], s.w.issuePayload(s.core, s.sup, 5n, { dueDate: '2030-01-01', invoiceIds: [...s.w.voucher(s.id).invoiceIds] })],
    then: 'DUE_DATE_INVALID',
  },
  {
    name: 'CURRENCY_INVALID over INVOICE_ALREADY_USED',
    status: 'active',
    when: (s) => [[s.core], s.w.issuePayload(s.core, s.sup, 5n, { currency: 'USD', invoiceIds: [...s.w.voucher(s.id).invoiceIds] })],
    then: 'CURRENCY_INVALID',
  },
];

describe('when two refusals apply, the earlier in the §7 table wins', () => {
  test.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const s = voucherIn(row.status);
    row.given?.(s);
    const [signers, payload] = row.when(s);
    s.w.refuses(signers, payload, row.then);
  });
});

describe('parseOp comes before everything decide checks', () => {
  test('given an op with an unknown field and a wrong ledger, then MALFORMED_REQUEST', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, ledger: 'e'.repeat(64), note: 'x' }), 'MALFORMED_REQUEST');
  });

  test('given an expired op from an unknown signer with an invalid amount, then MALFORMED_REQUEST', () => {
    const s = voucherIn('active');
    s.w.at('2027-01-01T00:00:00.000Z');
    s.w.refuses(
      [ghost()],
      s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, amount: '0', expiresAt: '2026-12-01T00:00:00.000Z' }),
      'MALFORMED_REQUEST',
    );
  });

  test('given three signatures of which one is unknown, then MALFORMED_REQUEST', () => {
    const s = voucherIn('active');
    s.w.refusesEnvelope(
      envelopeOf([s.sup, s.bank, ghost()], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' })),
      'MALFORMED_REQUEST',
    );
  });

  test('given an op refused at every level from UNKNOWN_PARTY down, when only its signer is registered, then the next cause shows', () => {
    const c = cast();
    const late = { id: 'late-core', key: newKey() };
    const p = c.w.issuePayload(late, c.bank, 5n, { currency: 'USD' });
    c.w.refusesEnvelope(envelopeOf([late], p), 'UNKNOWN_PARTY');
    c.w.register(late.id, 'core', { key: late.key });
    expectCode(c.w.decide(envelopeOf([late], p)), 'ROLE_NOT_ALLOWED');
  });
});
