/**
 * parseOp: the strict shape check of a wire envelope (docs/protocol.md §2, §4, §7). Anything that is
 * not exactly the shape is MALFORMED_REQUEST; valid edge cases pass and come out with bigint
 * amounts.
 */
import { describe, expect, test } from 'vitest';
import { parseOp, type Op, type OpType } from '../../src/domain/index.js';
import { BAD_POINTS, newKey } from './helpers.js';

const LEDGER = 'a'.repeat(64);
const SIG = 'ab'.repeat(64);
const VID = `v${'0123456789abcdef01234567'}`;
const KEY = newKey().publicKey;

type Json = Record<string, unknown>;

const envelope = (payload: Json, signers: readonly string[] = ['operator']): Json => ({
  payload,
  signatures: signers.map((signer) => ({ signer, sig: SIG })),
});

const base = (type: string, fields: Json): Json => ({ type, ledger: LEDGER, nonce: 'nonce-0001', ...fields });

/** One valid payload of every client op type. */
const VALID: Record<OpType, Json> = {
  'party.register': base('party.register', {
    party: { id: 'dongguan-parts', name: 'Dongguan Parts', role: 'supplier', publicKey: KEY },
  }),
  'party.update': base('party.update', { partyId: 'dongguan-parts', status: 'suspended' }),
  'voucher.issue': base('voucher.issue', {
    issuer: 'gz-motors',
    to: 'dongguan-parts',
    amount: '100000000',
    currency: 'CNY',
    dueDate: '2027-02-26',
    invoiceIds: ['INV-001'],
    memo: 'Q4 brake pads',
  }),
  'voucher.accept': base('voucher.accept', { voucherId: VID }),
  'voucher.reject': base('voucher.reject', { voucherId: VID, reason: 'wrong amount' }),
  'voucher.cancel': base('voucher.cancel', { voucherId: VID }),
  'voucher.split': base('voucher.split', { voucherId: VID, amounts: ['60000000', '40000000'] }),
  'voucher.transfer': base('voucher.transfer', { voucherId: VID, to: 'chen-electronics', amount: '5' }),
  'voucher.pledge': base('voucher.pledge', { voucherId: VID, bank: 'icbc-gz', loanRef: 'LOAN-7', amount: '5' }),
  'voucher.release': base('voucher.release', { voucherId: VID }),
  'voucher.settle': base('voucher.settle', { voucherId: VID, paymentRef: 'PAY-9' }),
};

const valid = (type: OpType): Json => structuredClone(VALID[type]);

/** A valid envelope of `type` whose payload `edit` changes. */
const withPayload = (type: OpType, edit: (p: Json) => void, signers?: readonly string[]): Json => {
  const p = valid(type);
  edit(p);
  return envelope(p, signers);
};

const issueWith = (fields: Json): Json => withPayload('voucher.issue', (p) => Object.assign(p, fields));
const registerWithParty = (fields: Json): Json => withPayload('party.register', (p) => Object.assign(p.party as Json, fields));

const emoji = '😀'; // one code point, two UTF-16 units

const okEnvelope = (input: unknown): Op => {
  const r = parseOp(input);
  if (!r.ok) throw new Error(`expected a valid op, got ${r.code}: ${r.detail}`);
  return r.op;
};

describe('parseOp accepts every op type in its valid shape', () => {
  test.each(Object.keys(VALID) as OpType[])('given a well-formed %s envelope, then it parses', (type) => {
    const op = okEnvelope(envelope(valid(type)));
    expect(op.payload.type).toBe(type);
    expect(op.signatures).toEqual([{ signer: 'operator', sig: SIG }]);
  });
});

describe('parseOp turns decimal-string amounts into bigint minor units', () => {
  test('given an issue, then amount is a bigint', () => {
    const op = okEnvelope(envelope(valid('voucher.issue')));
    expect(op.payload.type === 'voucher.issue' && op.payload.amount).toBe(100_000_000n);
  });

  test('given a split, then every part is a bigint, in order', () => {
    const op = okEnvelope(envelope(valid('voucher.split')));
    expect(op.payload.type === 'voucher.split' && op.payload.amounts).toEqual([60_000_000n, 40_000_000n]);
  });

  test('given a partial transfer and pledge, then amount is a bigint; without it, amount is absent', () => {
    const t = okEnvelope(envelope(valid('voucher.transfer')));
    expect(t.payload.type === 'voucher.transfer' && t.payload.amount).toBe(5n);
    const p = okEnvelope(envelope(valid('voucher.pledge')));
    expect(p.payload.type === 'voucher.pledge' && p.payload.amount).toBe(5n);
    const whole = okEnvelope(withPayload('voucher.transfer', (x) => delete x.amount));
    expect(whole.payload.type === 'voucher.transfer' && whole.payload.amount).toBeUndefined();
  });
});

describe('parseOp accepts the valid edge cases', () => {
  const cases: [string, Json][] = [
    ['amount "1" (the smallest)', issueWith({ amount: '1' })],
    ['amount "1000000000000000" (10^15, the largest)', issueWith({ amount: '1000000000000000' })],
    ['100 split parts', withPayload('voucher.split', (p) => (p.amounts = Array.from({ length: 100 }, () => '1')))],
    ['2 split parts of "1"', withPayload('voucher.split', (p) => (p.amounts = ['1', '1']))],
    ['100 distinct invoice ids', issueWith({ invoiceIds: Array.from({ length: 100 }, (_, i) => `INV-${i}`) })],
    ['a 64-code-point invoice id made of emoji (128 UTF-16 units)', issueWith({ invoiceIds: [emoji.repeat(64)] })],
    ['a 1-char invoice id', issueWith({ invoiceIds: ['x'] })],
    ['a nonce of 8 chars', withPayload('voucher.accept', (p) => (p.nonce = 'abcdEF_-'))],
    ['a nonce of 64 chars', withPayload('voucher.accept', (p) => (p.nonce = 'N'.repeat(64)))],
    ['an expiresAt in RFC 3339 UTC with ms', withPayload('voucher.accept', (p) => (p.expiresAt = '2026-11-29T00:00:00.000Z'))],
    ['a leap-day dueDate', issueWith({ dueDate: '2028-02-29' })],
    ['a memo of 500 emoji', issueWith({ memo: emoji.repeat(500) })],
    ['an issue without memo', withPayload('voucher.issue', (p) => delete p.memo)],
    ['a party name of 200 emoji', registerWithParty({ name: emoji.repeat(200) })],
    ['a party name of 1 char', registerWithParty({ name: 'X' })],
    ['a 1-char party id', registerWithParty({ id: 'a' })],
    ['a 64-char party id', registerWithParty({ id: `a${'-'.repeat(62)}z` })],
    ['every registrable role: core', registerWithParty({ role: 'core' })],
    ['every registrable role: bank', registerWithParty({ role: 'bank' })],
    ['every registrable role: auditor', registerWithParty({ role: 'auditor' })],
    [
      'party.update with only a publicKey',
      withPayload('party.update', (p) => {
        delete p.status;
        p.publicKey = KEY;
      }),
    ],
    [
      'party.update with both publicKey and status',
      withPayload('party.update', (p) => {
        p.publicKey = KEY;
        p.status = 'active';
      }),
    ],
    ['a child voucher id', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:0-1`))],
    ['a child voucher id with 16-digit bounds', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:999999999999999-1000000000000000`))],
    ['a reject without reason', withPayload('voucher.reject', (p) => delete p.reason)],
    ['a reason of 500 emoji', withPayload('voucher.reject', (p) => (p.reason = emoji.repeat(500)))],
    ['loanRef and paymentRef of 64 emoji', withPayload('voucher.pledge', (p) => (p.loanRef = emoji.repeat(64)))],
    ['a pledge with two signatures', withPayload('voucher.pledge', () => undefined, ['dongguan-parts', 'icbc-gz'])],
    ['a non-CNY currency (a decide question, not a shape one)', issueWith({ currency: 'USD' })],
    ['a duplicated signer (a SIGNERS_MISMATCH question, not a shape one)', withPayload('voucher.accept', () => undefined, ['a', 'a'])],
  ];
  test.each(cases)('given %s, then it parses', (_name, input) => {
    expect(parseOp(input)).toMatchObject({ ok: true });
  });

  test('given a string with a valid surrogate pair, then it is kept as is', () => {
    const op = okEnvelope(issueWith({ invoiceIds: [`INV-${emoji}`] }));
    expect(op.payload.type === 'voucher.issue' && op.payload.invoiceIds).toEqual([`INV-${emoji}`]);
  });
});

describe('parseOp refuses every malformed input with MALFORMED_REQUEST', () => {
  const over = (n: number, c = 'x'): string => c.repeat(n);
  const cases: [string, unknown][] = [
    // ---- the input and the envelope
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', JSON.stringify(envelope(valid('voucher.accept')))],
    ['an array', [envelope(valid('voucher.accept'))]],
    ['an empty object', {}],
    ['no signatures', { payload: valid('voucher.accept') }],
    ['no payload', { signatures: [{ signer: 'operator', sig: SIG }] }],
    ['an unknown envelope field', { ...envelope(valid('voucher.accept')), receipt: true }],
    ['a payload that is an array', { payload: [valid('voucher.accept')], signatures: [{ signer: 'operator', sig: SIG }] }],
    ['a payload that is null', { payload: null, signatures: [{ signer: 'operator', sig: SIG }] }],
    ['signatures that are an object', { payload: valid('voucher.accept'), signatures: { signer: 'operator', sig: SIG } }],
    ['zero signatures', envelope(valid('voucher.accept'), [])],
    ['three signatures', envelope(valid('voucher.pledge'), ['a', 'b', 'c'])],
    ['a signature with an extra field', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator', sig: SIG, alg: 'ed25519' }] }],
    ['a signature without sig', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator' }] }],
    ['a signature without signer', { payload: valid('voucher.accept'), signatures: [{ sig: SIG }] }],
    ['a signature that is a string', { payload: valid('voucher.accept'), signatures: [SIG] }],
    ['a sig in uppercase hex', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator', sig: SIG.toUpperCase() }] }],
    ['a sig of 126 hex chars', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator', sig: SIG.slice(2) }] }],
    ['a sig of 130 hex chars', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator', sig: `${SIG}ab` }] }],
    ['a sig in base64', { payload: valid('voucher.accept'), signatures: [{ signer: 'operator', sig: Buffer.from(SIG, 'hex').toString('base64') }] }],
    ['a signer that is not a party id', { payload: valid('voucher.accept'), signatures: [{ signer: 'Dongguan_Parts', sig: SIG }] }],
    // ---- the common payload fields
    ['an unknown op type', withPayload('voucher.accept', (p) => (p.type = 'voucher.burn'))],
    [
      'a submitted ledger.genesis',
      envelope({
        type: 'ledger.genesis',
        name: 'x',
        operatorKey: KEY,
        nodeKey: KEY,
        currency: 'CNY',
        maxTenorDays: 365,
        createdAt: '2026-11-28T00:00:00.000Z',
      }),
    ],
    [
      'a submitted ledger.genesis with ledger and nonce',
      envelope(
        base('ledger.genesis', { name: 'x', operatorKey: KEY, nodeKey: KEY, currency: 'CNY', maxTenorDays: 365, createdAt: '2026-11-28T00:00:00.000Z' }),
      ),
    ],
    ['no type', withPayload('voucher.accept', (p) => delete p.type)],
    ['no ledger', withPayload('voucher.accept', (p) => delete p.ledger)],
    ['no nonce', withPayload('voucher.accept', (p) => delete p.nonce)],
    ['a ledger that is a number', withPayload('voucher.accept', (p) => (p.ledger = 1))],
    ['a ledger that is not a 64-hex hash', withPayload('voucher.accept', (p) => (p.ledger = 'demo'))],
    ['a nonce of 7 chars', withPayload('voucher.accept', (p) => (p.nonce = 'abcdefg'))],
    ['a nonce of 65 chars', withPayload('voucher.accept', (p) => (p.nonce = over(65, 'n')))],
    ['a nonce with a dot', withPayload('voucher.accept', (p) => (p.nonce = 'abc.defgh'))],
    ['a nonce that is a number', withPayload('voucher.accept', (p) => (p.nonce = 12345678))],
    ['an expiresAt without milliseconds', withPayload('voucher.accept', (p) => (p.expiresAt = '2026-11-29T00:00:00Z'))],
    ['an expiresAt with an offset', withPayload('voucher.accept', (p) => (p.expiresAt = '2026-11-29T08:00:00.000+08:00'))],
    ['an expiresAt on 30 February', withPayload('voucher.accept', (p) => (p.expiresAt = '2027-02-30T00:00:00.000Z'))],
    ['an expiresAt at hour 24', withPayload('voucher.accept', (p) => (p.expiresAt = '2026-11-28T24:00:00.000Z'))],
    ['an expiresAt with a lowercase z', withPayload('voucher.accept', (p) => (p.expiresAt = '2026-11-29T00:00:00.000z'))],
    ['an expiresAt that is null', withPayload('voucher.accept', (p) => (p.expiresAt = null))],
    ['an expiresAt that is a number', withPayload('voucher.accept', (p) => (p.expiresAt = 1795000000000))],
    ['an unknown payload field', withPayload('voucher.accept', (p) => (p.comment = 'hi'))],
    [
      'a "__proto__" payload field (own key, from JSON.parse)',
      JSON.parse(JSON.stringify(envelope(valid('voucher.accept'))).replace('"type"', '"__proto__":{},"type"')),
    ],
    ['a field of another op type (to on an accept)', withPayload('voucher.accept', (p) => (p.to = 'chen-electronics'))],
    // ---- amounts
    ['an amount that is a JSON number', issueWith({ amount: 100 })],
    ['amount "0"', issueWith({ amount: '0' })],
    ['amount "01" (leading zero)', issueWith({ amount: '01' })],
    ['amount "-1"', issueWith({ amount: '-1' })],
    ['amount "+1"', issueWith({ amount: '+1' })],
    ['amount "1.5"', issueWith({ amount: '1.5' })],
    ['amount "100.00"', issueWith({ amount: '100.00' })],
    ['amount "1e3"', issueWith({ amount: '1e3' })],
    ['amount "" (empty)', issueWith({ amount: '' })],
    ['amount " 1" (space)', issueWith({ amount: ' 1' })],
    ['amount in full-width digits', issueWith({ amount: '１' })],
    ['amount "0x10"', issueWith({ amount: '0x10' })],
    ['amount 10^15 + 1', issueWith({ amount: '1000000000000001' })],
    ['amount of sixteen 9s', issueWith({ amount: '9999999999999999' })],
    ['amount of 20 digits', issueWith({ amount: '10000000000000000000' })],
    // ---- dates
    ['a dueDate of 30 February', issueWith({ dueDate: '2027-02-30' })],
    ['a dueDate of 29 February in a common year', issueWith({ dueDate: '2027-02-29' })],
    ['a dueDate in month 13', issueWith({ dueDate: '2027-13-01' })],
    ['a dueDate on day 00', issueWith({ dueDate: '2027-02-00' })],
    ['a dueDate without zero padding', issueWith({ dueDate: '2027-2-26' })],
    ['a dueDate with a time', issueWith({ dueDate: '2027-02-26T00:00:00.000Z' })],
    ['a dueDate with slashes', issueWith({ dueDate: '2027/02/26' })],
    // ---- voucher.issue
    ['an issue without currency', withPayload('voucher.issue', (p) => delete p.currency)],
    ['an issue without dueDate', withPayload('voucher.issue', (p) => delete p.dueDate)],
    ['an issue without invoiceIds', withPayload('voucher.issue', (p) => delete p.invoiceIds)],
    ['an issue without to', withPayload('voucher.issue', (p) => delete p.to)],
    ['a currency that is a number', issueWith({ currency: 156 })],
    ['no invoice ids', issueWith({ invoiceIds: [] })],
    ['101 invoice ids', issueWith({ invoiceIds: Array.from({ length: 101 }, (_, i) => `INV-${i}`) })],
    ['duplicate invoice ids', issueWith({ invoiceIds: ['INV-1', 'INV-2', 'INV-1'] })],
    ['an empty invoice id', issueWith({ invoiceIds: [''] })],
    ['an invoice id of 65 emoji', issueWith({ invoiceIds: [emoji.repeat(65)] })],
    ['an invoice id of 65 ASCII chars', issueWith({ invoiceIds: [over(65)] })],
    ['an invoice id that is a number', issueWith({ invoiceIds: [1] })],
    ['invoiceIds that are a string', issueWith({ invoiceIds: 'INV-1' })],
    ['an invoice id with a lone high surrogate', issueWith({ invoiceIds: ['INV-\uD83D'] })],
    ['a memo of 501 emoji', issueWith({ memo: emoji.repeat(501) })],
    ['a memo with a lone low surrogate', issueWith({ memo: 'ok \uDE00 not ok' })],
    ['a memo that is null', issueWith({ memo: null })],
    ['an issuer that is not a party id (uppercase)', issueWith({ issuer: 'GZ-Motors' })],
    ['an issuer that starts with a hyphen', issueWith({ issuer: '-gz' })],
    ['a to of 65 chars', issueWith({ to: over(65, 'a') })],
    // ---- party.register
    ['role "operator"', registerWithParty({ role: 'operator' })],
    ['role "admin"', registerWithParty({ role: 'admin' })],
    ['an empty name', registerWithParty({ name: '' })],
    ['a name of 201 emoji', registerWithParty({ name: emoji.repeat(201) })],
    ['a name with a lone surrogate', registerWithParty({ name: 'Chen \uD800 Electronics' })],
    ['a party id ending in a hyphen', registerWithParty({ id: 'chen-' })],
    ['a party id of 65 chars', registerWithParty({ id: over(65, 'a') })],
    ['a party without publicKey', withPayload('party.register', (p) => delete (p.party as Json).publicKey)],
    ['a party with an extra status field', registerWithParty({ status: 'active' })],
    ['a party that is an array', withPayload('party.register', (p) => (p.party = [p.party]))],
    ['a public key in uppercase hex', registerWithParty({ publicKey: KEY.toUpperCase() })],
    ['a public key of 62 hex chars', registerWithParty({ publicKey: KEY.slice(2) })],
    ['a public key of 66 hex chars', registerWithParty({ publicKey: `${KEY}00` })],
    ...BAD_POINTS.map(([name, hex]): [string, unknown] => [`party.register with a bad key: ${name}`, registerWithParty({ publicKey: hex })]),
    // ---- party.update
    ['party.update with neither publicKey nor status', withPayload('party.update', (p) => delete p.status)],
    ['party.update to status "frozen"', withPayload('party.update', (p) => (p.status = 'frozen'))],
    ['party.update without partyId', withPayload('party.update', (p) => delete p.partyId)],
    ['party.update of an invalid party id', withPayload('party.update', (p) => (p.partyId = 'Not Valid'))],
    ...BAD_POINTS.map(([name, hex]): [string, unknown] => [`party.update with a bad key: ${name}`, withPayload('party.update', (p) => (p.publicKey = hex))]),
    // ---- voucher ids
    ['a voucher id in uppercase hex', withPayload('voucher.accept', (p) => (p.voucherId = VID.toUpperCase()))],
    ['a voucher id with 23 hex chars', withPayload('voucher.accept', (p) => (p.voucherId = VID.slice(0, -1)))],
    ['a voucher id with 25 hex chars', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}0`))],
    ['a voucher id without its "v"', withPayload('voucher.accept', (p) => (p.voucherId = VID.slice(1)))],
    ['a voucher id with a leading-zero start', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:01-5`))],
    ['a voucher id with end 0', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:0-0`))],
    ['a voucher id with a missing end', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:0-`))],
    ['a voucher id with a 17-digit end', withPayload('voucher.accept', (p) => (p.voucherId = `${VID}:0-10000000000000000`))],
    ['a voucher id that is a number', withPayload('voucher.accept', (p) => (p.voucherId = 7))],
    ['an accept without voucherId', withPayload('voucher.accept', (p) => delete p.voucherId)],
    // ---- split, transfer, pledge, reject, settle
    ['a split into 1 part', withPayload('voucher.split', (p) => (p.amounts = ['100000000']))],
    ['a split into 101 parts', withPayload('voucher.split', (p) => (p.amounts = Array.from({ length: 101 }, () => '1')))],
    ['a split with a part "0"', withPayload('voucher.split', (p) => (p.amounts = ['0', '100000000']))],
    ['a split with parts as JSON numbers', withPayload('voucher.split', (p) => (p.amounts = [60000000, 40000000]))],
    ['a split without amounts', withPayload('voucher.split', (p) => delete p.amounts)],
    ['a transfer amount "0"', withPayload('voucher.transfer', (p) => (p.amount = '0'))],
    ['a transfer amount that is null', withPayload('voucher.transfer', (p) => (p.amount = null))],
    ['a transfer without to', withPayload('voucher.transfer', (p) => delete p.to)],
    ['a pledge without bank', withPayload('voucher.pledge', (p) => delete p.bank)],
    ['a pledge without loanRef', withPayload('voucher.pledge', (p) => delete p.loanRef)],
    ['an empty loanRef', withPayload('voucher.pledge', (p) => (p.loanRef = ''))],
    ['a loanRef of 65 emoji', withPayload('voucher.pledge', (p) => (p.loanRef = emoji.repeat(65)))],
    ['a pledge amount "01"', withPayload('voucher.pledge', (p) => (p.amount = '01'))],
    ['a reject reason of 501 chars', withPayload('voucher.reject', (p) => (p.reason = over(501)))],
    ['a settle without paymentRef', withPayload('voucher.settle', (p) => delete p.paymentRef)],
    ['an empty paymentRef', withPayload('voucher.settle', (p) => (p.paymentRef = ''))],
    ['a paymentRef of 65 chars', withPayload('voucher.settle', (p) => (p.paymentRef = over(65)))],
    ['a paymentRef that is a number', withPayload('voucher.settle', (p) => (p.paymentRef = 42))],
  ];

  test.each(cases)('given %s, then MALFORMED_REQUEST', (_name, input) => {
    const r = parseOp(input);
    expect(r.ok ? 'accepted' : r.code).toBe('MALFORMED_REQUEST');
  });

  test('given deeply nested junk, then it is refused without throwing', () => {
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i += 1) deep = { payload: deep };
    expect(() => parseOp(deep)).not.toThrow();
    const r = parseOp(deep);
    expect(r.ok ? 'accepted' : r.code).toBe('MALFORMED_REQUEST');
  });
});
