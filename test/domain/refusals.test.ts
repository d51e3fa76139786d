/**
 * Every refusal code decide can return, each on its own (docs/protocol.md §7 refusal table), plus the
 * time rules: expiry, overdue, due dates.
 */
import { sign } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { addDays, cast, dayAfter, DEFAULT_DUE, envelopeOf, expectCode, lastMsOf, newKey, signPayload, snapshot, voucherIn } from './helpers.js';

describe('WRONG_LEDGER', () => {
  test('when an op names another ledger, then WRONG_LEDGER', () => {
    const { w, core, sup } = cast();
    w.refuses([core], w.issuePayload(core, sup, 5n, { ledger: 'b'.repeat(64) }), 'WRONG_LEDGER');
  });

  test('when the same payload is decided by its own ledger, then it is accepted (the id is compared, nothing else)', () => {
    const { w, core, sup } = cast();
    const p = w.issuePayload(core, sup, 5n);
    expectCode(w.decide(envelopeOf([core], p), { ledgerId: 'c'.repeat(64) }), 'WRONG_LEDGER');
    expectCode(w.decide(envelopeOf([core], p)), 'OK');
  });
});

describe('OP_EXPIRED', () => {
  test('when ledger time is 1 ms past expiresAt, then OP_EXPIRED', () => {
    const { w, sup, core } = cast();
    w.at('2026-11-29T00:00:00.001Z');
    w.refuses([core], w.issuePayload(core, sup, 5n, { expiresAt: '2026-11-29T00:00:00.000Z' }), 'OP_EXPIRED');
  });

  test('when ledger time equals expiresAt, then the op is accepted (refused only once time passes it)', () => {
    const { w, sup, core } = cast();
    w.at('2026-11-29T00:00:00.000Z');
    w.ok([core], w.issuePayload(core, sup, 5n, { expiresAt: '2026-11-29T00:00:00.000Z' }));
  });

  test('when expiresAt is in the future, then the op is accepted', () => {
    const s = voucherIn('offered');
    s.w.ok([s.sup], s.w.payload('voucher.accept', { voucherId: s.id, expiresAt: '2030-01-01T00:00:00.000Z' }));
  });
});

describe('UNKNOWN_PARTY', () => {
  test('when the signer is not registered, then UNKNOWN_PARTY', () => {
    const { w, sup } = cast();
    const ghost = { id: 'ghost-motors', key: newKey() };
    w.refuses([ghost], w.issuePayload(ghost, sup, 5n), 'UNKNOWN_PARTY');
  });

  test('when the issue names an unknown issuer signed by a known core, then UNKNOWN_PARTY', () => {
    const { w, core, sup } = cast();
    w.refuses([core], w.issuePayload(core, sup, 5n, { issuer: 'ghost-motors' }), 'UNKNOWN_PARTY');
  });

  test('when an issue is to an unknown party, then UNKNOWN_PARTY', () => {
    const { w, core } = cast();
    w.refuses([core], w.issuePayload(core, 'ghost-parts', 5n), 'UNKNOWN_PARTY');
  });

  test('when a transfer is to an unknown party, then UNKNOWN_PARTY', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: 'ghost-parts' }), 'UNKNOWN_PARTY');
  });

  test('when a pledge names an unknown bank, then UNKNOWN_PARTY', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.pledge', { voucherId: s.id, bank: 'ghost-bank', loanRef: 'L' }), 'UNKNOWN_PARTY');
  });

  test('given a refusal for an unknown recipient, when the recipient is registered, then the same envelope is accepted', () => {
    const s = voucherIn('active');
    const env = envelopeOf([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: 'late-comer' }));
    s.w.refusesEnvelope(env, 'UNKNOWN_PARTY');
    s.w.register('late-comer', 'supplier');
    expectCode(s.w.submitEnvelope(env), 'OK');
    expect(s.w.voucher(s.id)).toMatchObject({ status: 'offered', offeredTo: 'late-comer' });
  });
});

describe('BAD_SIGNATURE', () => {
  test("when a signer's signature is made with another party's key, then BAD_SIGNATURE", () => {
    const { w, core, core2, sup } = cast();
    w.refuses([{ id: core.id, key: core2.key }], w.issuePayload(core, sup, 5n), 'BAD_SIGNATURE');
  });

  test('when the signature is over another payload, then BAD_SIGNATURE', () => {
    const { w, core, sup } = cast();
    const p = w.issuePayload(core, sup, 5n);
    const other = { ...p, amount: '6' };
    w.refusesEnvelope({ payload: p, signatures: [{ signer: core.id, sig: signPayload(core.key, other) }] }, 'BAD_SIGNATURE');
  });

  test('when a well-formed but random signature is sent, then BAD_SIGNATURE', () => {
    const { w, core, sup } = cast();
    w.refusesEnvelope({ payload: w.issuePayload(core, sup, 5n), signatures: [{ signer: core.id, sig: '7'.repeat(128) }] }, 'BAD_SIGNATURE');
  });

  test("when one of a pledge's two signatures is bad, then BAD_SIGNATURE", () => {
    const s = voucherIn('active');
    s.w.refuses(
      [s.sup, { id: s.bank.id, key: s.bank2.key }],
      s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }),
      'BAD_SIGNATURE',
    );
  });

  test('when the signature is over the payload without the "rvl/op/v1\\n" prefix, then BAD_SIGNATURE', () => {
    const { w, core, sup } = cast();
    const p = w.issuePayload(core, sup, 5n);
    const bare = sign(null, Buffer.from(JSON.stringify(p)), core.key.privateKey).toString('hex');
    w.refusesEnvelope({ payload: p, signatures: [{ signer: core.id, sig: bare }] }, 'BAD_SIGNATURE');
  });

  test('when the context verifier rejects every signature, then BAD_SIGNATURE (decide asks the verifier)', () => {
    const { w, core, sup } = cast();
    const env = envelopeOf([core], w.issuePayload(core, sup, 5n));
    expectCode(w.decide(env, { verifySignature: () => false }), 'BAD_SIGNATURE');
  });

  test("when the verifier is asked, then it is asked with the signer's current key and the signature", () => {
    const { w, core, sup } = cast();
    const env = envelopeOf([core], w.issuePayload(core, sup, 5n));
    const calls: [string, string][] = [];
    const d = w.decide(env, { verifySignature: (k, s) => (calls.push([k, s]), true) });
    expectCode(d, 'OK');
    expect(calls).toContainEqual([core.key.publicKey, env.signatures[0]?.sig]);
  });
});

describe('PARTY_SUSPENDED', () => {
  test('when a suspended signer acts, then PARTY_SUSPENDED', () => {
    const s = voucherIn('active');
    s.w.suspend(s.sup.id);
    s.w.refuses([s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] }), 'PARTY_SUSPENDED');
  });

  test('when a suspended core issues, then PARTY_SUSPENDED', () => {
    const { w, core, sup } = cast();
    w.suspend(core.id);
    w.refuses([core], w.issuePayload(core, sup, 5n), 'PARTY_SUSPENDED');
  });

  test('when an issue is to a suspended supplier, then PARTY_SUSPENDED', () => {
    const { w, core, sup } = cast();
    w.suspend(sup.id);
    w.refuses([core], w.issuePayload(core, sup, 5n), 'PARTY_SUSPENDED');
  });

  test('when a pledge names a suspended bank, then PARTY_SUSPENDED', () => {
    const s = voucherIn('active');
    s.w.suspend(s.bank.id);
    s.w.refuses([s.sup, s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' }), 'PARTY_SUSPENDED');
  });

  test('given a transfer refused because the recipient is suspended, when it is reactivated, then the same envelope is accepted', () => {
    const s = voucherIn('active');
    s.w.suspend(s.sup2.id);
    const env = envelopeOf([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id }));
    s.w.refusesEnvelope(env, 'PARTY_SUSPENDED');
    s.w.reactivate(s.sup2.id);
    expectCode(s.w.submitEnvelope(env), 'OK');
    expect(s.w.voucher(s.id).offeredTo).toBe(s.sup2.id);
  });

  test('given a suspended supplier offered a voucher, then it cannot accept until reactivated', () => {
    const s = voucherIn('offered');
    s.w.suspend(s.sup.id);
    const env = envelopeOf([s.sup], s.w.payload('voucher.accept', { voucherId: s.id }));
    s.w.refusesEnvelope(env, 'PARTY_SUSPENDED');
    s.w.reactivate(s.sup.id);
    expectCode(s.w.submitEnvelope(env), 'OK');
  });

  test('when the operator updates a suspended party (partyId may be suspended), then it is accepted', () => {
    const { w, sup } = cast();
    w.suspend(sup.id);
    w.ok([w.operator], w.payload('party.update', { partyId: sup.id, publicKey: newKey().publicKey }));
  });

  test('given a suspended issuer, when it settles, then PARTY_SUSPENDED', () => {
    const s = voucherIn('active');
    s.w.suspend(s.core.id);
    s.w.refuses([s.core], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' }), 'PARTY_SUSPENDED');
  });
});

describe('VOUCHER_NOT_FOUND', () => {
  test('when the voucher id does not exist, then VOUCHER_NOT_FOUND', () => {
    const { w, sup } = cast();
    w.refuses([sup], w.payload('voucher.accept', { voucherId: `v${'0'.repeat(24)}` }), 'VOUCHER_NOT_FOUND');
  });

  test('when a child range that does not exist is named, then VOUCHER_NOT_FOUND', () => {
    const s = voucherIn('split');
    s.w.refuses([s.sup], s.w.payload('voucher.split', { voucherId: `${s.id}:0-50000000`, amounts: ['1', '49999999'] }), 'VOUCHER_NOT_FOUND');
  });

  test('when a party that never touched the voucher acts on it, then VOUCHER_NOT_FOUND', () => {
    const s = voucherIn('active');
    s.w.refuses([s.stranger], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id }), 'VOUCHER_NOT_FOUND');
  });

  test('when the auditor acts on a voucher, then SIGNERS_MISMATCH, not VOUCHER_NOT_FOUND (the auditor sees everything)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.auditor], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id }), 'SIGNERS_MISMATCH');
  });

  test('when the operator acts on a voucher, then SIGNERS_MISMATCH, not VOUCHER_NOT_FOUND (the operator sees everything)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.operator], s.w.payload('voucher.settle', { voucherId: s.id, paymentRef: 'P' }), 'SIGNERS_MISMATCH');
  });

  test('given a supplier that received one child, when it acts on its sibling, then VOUCHER_NOT_FOUND', () => {
    const s = voucherIn('split');
    const mine = `${s.id}:0-40000000`;
    const sibling = `${s.id}:40000000-100000000`;
    s.w.transfer(s.sup, mine, s.sup2);
    s.w.accept(s.sup2, mine);
    s.w.refuses([s.sup2], s.w.payload('voucher.transfer', { voucherId: sibling, to: s.stranger.id }), 'VOUCHER_NOT_FOUND');
  });

  test('given a supplier that received one child, when it acts on the parent (an ancestor it may see), then SIGNERS_MISMATCH', () => {
    const s = voucherIn('split');
    const mine = `${s.id}:0-40000000`;
    s.w.transfer(s.sup, mine, s.sup2);
    s.w.accept(s.sup2, mine);
    s.w.refuses([s.sup2], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] }), 'SIGNERS_MISMATCH');
  });

  test('given a former offeree that rejected, when it accepts after all, then VOUCHER_STATE_CONFLICT (it may still see the voucher)', () => {
    const s = voucherIn('active');
    s.w.transfer(s.sup, s.id, s.sup2);
    s.w.reject(s.sup2, s.id);
    s.w.refuses([s.sup2], s.w.payload('voucher.accept', { voucherId: s.id }), 'VOUCHER_STATE_CONFLICT');
  });

  test('given a pledge whose second signer cannot see the voucher, then the pledge is accepted (one signer that may see it is enough)', () => {
    const s = voucherIn('active');
    s.w.ok([s.sup, s.bank2], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank2.id, loanRef: 'L' }));
  });
});

describe('VOUCHER_STATE_CONFLICT for ops whose required signer does not exist', () => {
  test('when the issuer accepts an active voucher, then VOUCHER_STATE_CONFLICT (no offeree exists)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.core], s.w.payload('voucher.accept', { voucherId: s.id }), 'VOUCHER_STATE_CONFLICT');
  });

  test('when the holder releases an unpledged voucher, then VOUCHER_STATE_CONFLICT (no pledgee exists)', () => {
    const s = voucherIn('active');
    s.w.refuses([s.sup], s.w.payload('voucher.release', { voucherId: s.id }), 'VOUCHER_STATE_CONFLICT');
  });

  test('given a released pledge, when the former pledgee releases again, then VOUCHER_STATE_CONFLICT', () => {
    const s = voucherIn('pledged');
    s.w.release(s.bank, s.id);
    s.w.refuses([s.bank], s.w.payload('voucher.release', { voucherId: s.id }), 'VOUCHER_STATE_CONFLICT');
  });

  test('when the issuer cancels an active voucher, then VOUCHER_STATE_CONFLICT', () => {
    const s = voucherIn('active');
    s.w.refuses([s.core], s.w.payload('voucher.cancel', { voucherId: s.id }), 'VOUCHER_STATE_CONFLICT');
  });
});

describe('ROLE_NOT_ALLOWED for issue', () => {
  test.each([
    ['a supplier', 'sup', 'sup2'],
    ['a bank', 'bank', 'sup'],
    ['an auditor', 'auditor', 'sup'],
    ['the operator', 'operator', 'sup'],
  ] as const)('when %s issues, then ROLE_NOT_ALLOWED', (_name, issuer, to) => {
    const c = cast();
    c.w.refuses([c[issuer]], c.w.issuePayload(c[issuer], c[to], 5n), 'ROLE_NOT_ALLOWED');
  });

  test.each([
    ['a bank', 'bank'],
    ['another core', 'core2'],
    ['an auditor', 'auditor'],
    ['the issuer itself', 'core'],
  ] as const)('when a core issues to %s, then ROLE_NOT_ALLOWED', (_name, to) => {
    const c = cast();
    c.w.refuses([c.core], c.w.issuePayload(c.core, c[to], 5n), 'ROLE_NOT_ALLOWED');
  });

  test('when an issue names one core as issuer and another core signs, then SIGNERS_MISMATCH', () => {
    const c = cast();
    c.w.refuses([c.core2], c.w.issuePayload(c.core, c.sup, 5n), 'SIGNERS_MISMATCH');
  });
});

describe('due dates (rule 8) and overdue vouchers (rule 4)', () => {
  test('when the dueDate is the ledger date, then DUE_DATE_INVALID', () => {
    const { w, core, sup } = cast();
    w.at(lastMsOf('2026-11-28'));
    w.refuses([core], w.issuePayload(core, sup, 5n, { dueDate: '2026-11-28' }), 'DUE_DATE_INVALID');
  });

  test('when the dueDate is the day after the ledger date, then it is accepted, even at the last ms of the day', () => {
    const { w, core, sup } = cast();
    w.at(lastMsOf('2026-11-28'));
    w.ok([core], w.issuePayload(core, sup, 5n, { dueDate: '2026-11-29' }));
  });

  test('when the dueDate is in the past, then DUE_DATE_INVALID', () => {
    const { w, core, sup } = cast();
    w.refuses([core], w.issuePayload(core, sup, 5n, { dueDate: '2025-01-01' }), 'DUE_DATE_INVALID');
  });

  test('when the dueDate is exactly maxTenorDays (365) after the ledger date, then it is accepted', () => {
    const { w, core, sup } = cast();
    w.ok([core], w.issuePayload(core, sup, 5n, { dueDate: addDays(w.date, 365) }));
    expect(addDays('2026-11-28', 365)).toBe('2027-11-28');
  });

  test('when the dueDate is maxTenorDays + 1 after the ledger date, then DUE_DATE_INVALID', () => {
    const { w, core, sup } = cast();
    w.refuses([core], w.issuePayload(core, sup, 5n, { dueDate: addDays(w.date, 366) }), 'DUE_DATE_INVALID');
  });

  test('given ledger date 2027-03-01, then 2028-02-29 is within 365 days and 2028-03-01 is not (calendar days, leap year)', () => {
    const { w, core, sup } = cast();
    w.at('2027-03-01T08:00:00.000Z');
    w.ok([core], w.issuePayload(core, sup, 5n, { dueDate: '2028-02-29' }));
    w.refuses([core], w.issuePayload(core, sup, 5n, { dueDate: '2028-03-01' }), 'DUE_DATE_INVALID');
  });

  test('given a ledger whose maxTenorDays is 30, then the tenor comes from the context', () => {
    const { w, core, sup } = cast({ maxTenorDays: 30 });
    w.ok([core], w.issuePayload(core, sup, 5n, { dueDate: addDays(w.date, 30) }));
    w.refuses([core], w.issuePayload(core, sup, 5n, { dueDate: addDays(w.date, 31) }), 'DUE_DATE_INVALID');
  });

  test.each([
    ['split', (s: ReturnType<typeof voucherIn>) => [[s.sup], s.w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] })] as const],
    ['transfer', (s: ReturnType<typeof voucherIn>) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id })] as const],
    [
      'partial transfer',
      (s: ReturnType<typeof voucherIn>) => [[s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, amount: '1' })] as const,
    ],
    [
      'pledge',
      (s: ReturnType<typeof voucherIn>) => [[s.sup, s.bank], s.w.payload('voucher.pledge', { voucherId: s.id, bank: s.bank.id, loanRef: 'L' })] as const,
    ],
  ])('given an active voucher, when it is overdue, then %s is VOUCHER_OVERDUE; on its due date it is still allowed', (_op, build) => {
    const s = voucherIn('active');
    s.w.at(dayAfter(DEFAULT_DUE));
    const [signers, payload] = build(s);
    s.w.refuses(signers, payload, 'VOUCHER_OVERDUE');
    s.w.at(lastMsOf(DEFAULT_DUE));
    const [signers2, payload2] = build(s);
    expectCode(s.w.submit(signers2, payload2), 'OK');
  });

  test.each([
    ['accepted', 'sup', 'voucher.accept'],
    ['rejected', 'sup', 'voucher.reject'],
    ['cancelled', 'core', 'voucher.cancel'],
  ] as const)('given an offered voucher, when it is overdue, then it can still be %s', (_name, who, type) => {
    const s = voucherIn('offered');
    s.w.at(dayAfter(DEFAULT_DUE));
    s.w.ok([s[who]], s.w.payload(type, { voucherId: s.id }));
  });

  test('given an overdue pledged voucher, then the pledgee can release it', () => {
    const s = voucherIn('pledged');
    s.w.at(dayAfter(DEFAULT_DUE));
    s.w.release(s.bank, s.id);
    expect(s.w.voucher(s.id).status).toBe('active');
  });

  test.each(['active', 'pledged'] as const)('given an overdue %s voucher, then the issuer can settle it', (status) => {
    const s = voucherIn(status);
    s.w.at('2027-12-31T12:00:00.000Z');
    const e = s.w.settle(s.core, s.id);
    expect(e.vouchers[0]).toMatchObject({ status: 'settled', settlement: { at: '2027-12-31T12:00:00.000Z' } });
  });

  test('given a voucher settled before its due date, then the settlement is accepted', () => {
    const s = voucherIn('active');
    expect(s.w.date < DEFAULT_DUE).toBe(true);
    s.w.settle(s.core, s.id);
  });
});

describe('CURRENCY_INVALID', () => {
  test.each(['USD', 'CNH', 'EUR'])('when an issue is in "%s" on a CNY ledger, then CURRENCY_INVALID', (currency) => {
    const { w, core, sup } = cast();
    w.refuses([core], w.issuePayload(core, sup, 5n, { currency }), 'CURRENCY_INVALID');
  });

  test('given a ledger in another currency (from the context), then an issue in that currency is accepted and CNY is not', () => {
    const { w, core, sup } = cast({ currency: 'HKD' });
    w.ok([core], w.issuePayload(core, sup, 5n, { currency: 'HKD' }));
    w.refuses([core], w.issuePayload(core, sup, 5n, { currency: 'CNY' }), 'CURRENCY_INVALID');
  });
});

describe('INVOICE_ALREADY_USED (rule 6)', () => {
  test('when an invoice id of a live root backs another issue, then INVOICE_ALREADY_USED', () => {
    const { w, core, sup } = cast();
    w.issue(core, sup, 5n, { invoiceIds: ['INV-9'] });
    w.refuses([core], w.issuePayload(core, sup, 5n, { invoiceIds: ['INV-1', 'INV-9'] }), 'INVOICE_ALREADY_USED');
  });

  test('when another core reuses the invoice id, then INVOICE_ALREADY_USED (invoice ids are global)', () => {
    const { w, core, core2, sup } = cast();
    w.issue(core, sup, 5n, { invoiceIds: ['INV-9'] });
    w.refuses([core2], w.issuePayload(core2, sup, 5n, { invoiceIds: ['INV-9'] }), 'INVOICE_ALREADY_USED');
  });

  test.each(['active', 'pledged', 'split', 'settled'] as const)('given a root that is %s, then its invoice ids stay used', (status) => {
    const s = voucherIn(status);
    const inv = s.w.voucher(s.id).invoiceIds;
    s.w.refuses([s.core], s.w.issuePayload(s.core, s.sup, 5n, { invoiceIds: [...inv] }), 'INVOICE_ALREADY_USED');
  });

  test('given a root cancelled, then its invoice ids back a new issue; given that new root, they are used again', () => {
    const s = voucherIn('cancelled');
    const inv = [...s.w.voucher(s.id).invoiceIds];
    const env = envelopeOf([s.core], s.w.issuePayload(s.core, s.sup, 5n, { invoiceIds: inv }));
    expectCode(s.w.submitEnvelope(env), 'OK');
    s.w.refuses([s.core], s.w.issuePayload(s.core, s.sup, 5n, { invoiceIds: inv }), 'INVOICE_ALREADY_USED');
  });

  test('given an issue refused for a used invoice, when the holding root is cancelled, then the same envelope is accepted', () => {
    const { w, core, sup } = cast();
    const first = w.issue(core, sup, 5n, { invoiceIds: ['INV-5'] });
    const env = envelopeOf([core], w.issuePayload(core, sup, 7n, { invoiceIds: ['INV-5'] }));
    w.refusesEnvelope(env, 'INVOICE_ALREADY_USED');
    w.cancel(core, first);
    expectCode(w.submitEnvelope(env), 'OK');
  });

  test('given invoice ids that differ only in case, then they are distinct invoices', () => {
    const { w, core, sup } = cast();
    w.issue(core, sup, 5n, { invoiceIds: ['inv-1'] });
    w.issue(core, sup, 5n, { invoiceIds: ['INV-1'] });
  });
});

describe('refused ops change nothing', () => {
  test('given a world with vouchers in every state, when a refused op of each code is submitted, then the state and seq are unchanged', () => {
    const s = voucherIn('pledged');
    const w = s.w;
    const seq = w.seq;
    // each refuses() call itself asserts the state is identical before and after
    w.refuses([s.sup], w.payload('voucher.split', { voucherId: s.id, amounts: ['1', '99999999'] }), 'VOUCHER_PLEDGED');
    w.refuses([s.core], w.issuePayload(s.core, s.sup, 5n, { currency: 'USD' }), 'CURRENCY_INVALID');
    w.refuses([s.sup], w.payload('voucher.release', { voucherId: s.id }), 'SIGNERS_MISMATCH');
    expect(w.seq).toBe(seq);
  });

  test('when decide runs twice on the same view and op, then it gives the same answer (pure)', () => {
    const s = voucherIn('active');
    const env = envelopeOf([s.sup], s.w.payload('voucher.transfer', { voucherId: s.id, to: s.sup2.id, amount: '1' }));
    const before = snapshot(s.w.state);
    const a = s.w.decide(env);
    const b = s.w.decide(env);
    expect(a).toEqual(b);
    expect(a.ok).toBe(true);
    // deciding alone (without apply) leaves the view untouched
    expect(snapshot(s.w.state)).toEqual(before);
  });
});
