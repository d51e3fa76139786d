/**
 * party.register and party.update (docs/protocol.md §6, §7): registration, key rotation, suspension,
 * and the refusals that guard them.
 */
import { describe, expect, test } from 'vitest';
import { cast, envelopeOf, expectCode, expectOk, newKey, World } from './helpers.js';

describe('party.register', () => {
  test('given the genesis state, then the operator exists, active, with the genesis key', () => {
    const w = new World();
    expect(w.state.party('operator')).toMatchObject({
      id: 'operator',
      role: 'operator',
      publicKey: w.operator.key.publicKey,
      status: 'active',
    });
    expect(w.state.keyOwner(w.operator.key.publicKey)).toBe('operator');
  });

  test('when the operator registers a supplier, then the effects hold the new active party and nothing else', () => {
    const w = new World();
    const key = newKey();
    const e = w.ok(
      [w.operator],
      w.payload('party.register', {
        party: { id: 'dongguan-parts', name: 'Dongguan Parts 东莞', role: 'supplier', publicKey: key.publicKey },
      }),
    );
    const party = { id: 'dongguan-parts', name: 'Dongguan Parts 东莞', role: 'supplier', publicKey: key.publicKey, status: 'active' };
    expect(e.parties).toEqual([party]);
    expect(e.vouchers).toEqual([]);
    expect(e.invoicesUsed).toEqual([]);
    expect(e.invoicesFreed).toEqual([]);
    expect(w.state.party('dongguan-parts')).toEqual(party);
    expect(w.state.keyOwner(key.publicKey)).toBe('dongguan-parts');
  });

  test.each(['core', 'supplier', 'bank', 'auditor'] as const)('when the operator registers a %s, then it gets that role', (role) => {
    const w = new World();
    w.register('p1', role);
    expect(w.party('p1').role).toBe(role);
  });

  test('when anyone but the operator signs a registration, then SIGNERS_MISMATCH', () => {
    const { w, core } = cast();
    w.refuses(
      [core],
      w.payload('party.register', { party: { id: 'new-co', name: 'New', role: 'supplier', publicKey: newKey().publicKey } }),
      'SIGNERS_MISMATCH',
    );
  });

  test('when the operator and another party both sign a registration, then SIGNERS_MISMATCH (an extra signer)', () => {
    const { w, auditor } = cast();
    w.refuses(
      [w.operator, auditor],
      w.payload('party.register', { party: { id: 'new-co', name: 'New', role: 'supplier', publicKey: newKey().publicKey } }),
      'SIGNERS_MISMATCH',
    );
  });

  test('when the operator signs twice, then SIGNERS_MISMATCH (a duplicated signer)', () => {
    const w = new World();
    w.refuses(
      [w.operator, w.operator],
      w.payload('party.register', { party: { id: 'new-co', name: 'New', role: 'supplier', publicKey: newKey().publicKey } }),
      'SIGNERS_MISMATCH',
    );
  });

  test('given a registered id, when it is registered again with a new key, then PARTY_EXISTS', () => {
    const { w } = cast();
    w.refuses(
      [w.operator],
      w.payload('party.register', { party: { id: 'dongguan-parts', name: 'X', role: 'supplier', publicKey: newKey().publicKey } }),
      'PARTY_EXISTS',
    );
  });

  test('when the id "operator" is registered, then PARTY_EXISTS', () => {
    const w = new World();
    w.refuses(
      [w.operator],
      w.payload('party.register', { party: { id: 'operator', name: 'X', role: 'auditor', publicKey: newKey().publicKey } }),
      'PARTY_EXISTS',
    );
  });

  test('given a suspended party, when its id is registered again, then PARTY_EXISTS', () => {
    const { w, sup } = cast();
    w.suspend(sup.id);
    w.refuses([w.operator], w.payload('party.register', { party: { id: sup.id, name: 'X', role: 'supplier', publicKey: newKey().publicKey } }), 'PARTY_EXISTS');
  });

  test('given a party, when a new id is registered with its current key, then PARTY_EXISTS', () => {
    const { w, sup } = cast();
    w.refuses(
      [w.operator],
      w.payload('party.register', { party: { id: 'new-co', name: 'X', role: 'supplier', publicKey: sup.key.publicKey } }),
      'PARTY_EXISTS',
    );
  });

  test("when a new id is registered with the operator's key, then PARTY_EXISTS", () => {
    const w = new World();
    w.refuses(
      [w.operator],
      w.payload('party.register', { party: { id: 'new-co', name: 'X', role: 'bank', publicKey: w.operator.key.publicKey } }),
      'PARTY_EXISTS',
    );
  });

  test('given a party that rotated away from a key, when a new id is registered with that old key, then PARTY_EXISTS', () => {
    const { w, sup } = cast();
    const oldKey = sup.key;
    w.rotate(sup.id);
    w.refuses([w.operator], w.payload('party.register', { party: { id: 'new-co', name: 'X', role: 'supplier', publicKey: oldKey.publicKey } }), 'PARTY_EXISTS');
  });

  test("when a new id is registered with the node's key, then PARTY_EXISTS, and the detail says whose key it is", () => {
    const w = new World();
    const p = w.payload('party.register', { party: { id: 'new-co', name: 'X', role: 'bank', publicKey: w.nodeKey.publicKey } });
    const d = w.decide(envelopeOf([w.operator], p));
    expectCode(d, 'PARTY_EXISTS');
    expect(d.ok ? '' : d.detail).toMatch(/node/);
    w.refuses([w.operator], p, 'PARTY_EXISTS');
  });

  test("when a key is registered that is another ledger's node key, then it is accepted (decide reads the node key from its context)", () => {
    const w = new World();
    const other = newKey();
    const p = w.payload('party.register', { party: { id: 'new-co', name: 'X', role: 'bank', publicKey: other.publicKey } });
    expectCode(w.decide(envelopeOf([w.operator], p), { nodeKey: other.publicKey }), 'PARTY_EXISTS');
    expectOk(w.submit([w.operator], p));
  });

  test('when a party is registered, then its new id is not checked for existence (no UNKNOWN_PARTY)', () => {
    const w = new World();
    const d = w.submit([w.operator], w.payload('party.register', { party: { id: 'brand-new', name: 'B', role: 'core', publicKey: newKey().publicKey } }));
    expectOk(d);
  });
});

describe('party.update', () => {
  test('when the operator suspends a party, then its status is suspended and its key unchanged', () => {
    const { w, sup } = cast();
    const e = w.ok([w.operator], w.payload('party.update', { partyId: sup.id, status: 'suspended' }));
    expect(e.parties).toEqual([{ ...w.party(sup.id), status: 'suspended', publicKey: sup.key.publicKey }]);
    expect(e.vouchers).toEqual([]);
    expect(w.party(sup.id).status).toBe('suspended');
  });

  test('given a suspended party, when the operator reactivates it, then it is active (partyId may be suspended)', () => {
    const { w, sup } = cast();
    w.suspend(sup.id);
    const e = w.ok([w.operator], w.payload('party.update', { partyId: sup.id, status: 'active' }));
    expect(e.parties).toMatchObject([{ id: sup.id, status: 'active' }]);
    expect(w.party(sup.id).status).toBe('active');
  });

  test('when the operator rotates a key, then the new key is current, the old one still belongs to the party, and old signatures fail', () => {
    const { w, core, sup } = cast();
    const next = newKey();
    const e = w.ok([w.operator], w.payload('party.update', { partyId: core.id, publicKey: next.publicKey }));
    expect(e.parties).toEqual([{ id: core.id, name: w.party(core.id).name, role: 'core', publicKey: next.publicKey, status: 'active' }]);
    expect(w.state.keyOwner(core.key.publicKey)).toBe(core.id);
    expect(w.state.keyOwner(next.publicKey)).toBe(core.id);
    // the old key no longer signs for the core
    w.refuses([core], w.issuePayload(core, sup, 100n), 'BAD_SIGNATURE');
    // the new key does
    expectOk(w.submit([{ id: core.id, key: next }], w.issuePayload(core, sup, 100n)));
  });

  test('when the operator rotates a key and suspends in one update, then both apply', () => {
    const { w, sup } = cast();
    const next = newKey();
    w.ok([w.operator], w.payload('party.update', { partyId: sup.id, publicKey: next.publicKey, status: 'suspended' }));
    expect(w.party(sup.id)).toMatchObject({ publicKey: next.publicKey, status: 'suspended' });
  });

  test("when the operator rotates its own key, then the old operator key's signatures are BAD_SIGNATURE and the new key works", () => {
    const w = new World();
    const old = w.operator;
    const next = w.rotate('operator');
    expect(w.party('operator').publicKey).toBe(next.key.publicKey);
    w.refuses([old], w.payload('party.register', { party: { id: 'p1', name: 'P', role: 'core', publicKey: newKey().publicKey } }), 'BAD_SIGNATURE');
    w.register('p1', 'core');
    expect(w.party('p1').role).toBe('core');
  });

  test('when the operator is suspended, then ROLE_NOT_ALLOWED', () => {
    const w = new World();
    w.refuses([w.operator], w.payload('party.update', { partyId: 'operator', status: 'suspended' }), 'ROLE_NOT_ALLOWED');
  });

  test("when a party's key is rotated to another party's current key, then PARTY_EXISTS", () => {
    const { w, sup, sup2 } = cast();
    w.refuses([w.operator], w.payload('party.update', { partyId: sup.id, publicKey: sup2.key.publicKey }), 'PARTY_EXISTS');
  });

  test("when the operator's key is rotated to a party's key, then PARTY_EXISTS", () => {
    const { w, bank } = cast();
    w.refuses([w.operator], w.payload('party.update', { partyId: 'operator', publicKey: bank.key.publicKey }), 'PARTY_EXISTS');
  });

  test("when a party's key is rotated to a key another party held before, then PARTY_EXISTS", () => {
    const { w, sup, sup2 } = cast();
    const old = sup2.key;
    w.rotate(sup2.id);
    w.refuses([w.operator], w.payload('party.update', { partyId: sup.id, publicKey: old.publicKey }), 'PARTY_EXISTS');
  });

  test.each(['party', 'operator'] as const)("when the %s's key is rotated to the node's key, then PARTY_EXISTS", (who) => {
    const { w, sup } = cast();
    const partyId = who === 'party' ? sup.id : 'operator';
    w.refuses([w.operator], w.payload('party.update', { partyId, publicKey: w.nodeKey.publicKey }), 'PARTY_EXISTS');
  });

  test("when a key rotation to the node's key also suspends, then PARTY_EXISTS and the party stays active", () => {
    const { w, sup } = cast();
    w.refuses([w.operator], w.payload('party.update', { partyId: sup.id, publicKey: w.nodeKey.publicKey, status: 'suspended' }), 'PARTY_EXISTS');
    expect(w.party(sup.id).status).toBe('active');
  });

  test('when an unknown party is updated, then UNKNOWN_PARTY', () => {
    const w = new World();
    w.refuses([w.operator], w.payload('party.update', { partyId: 'nobody', status: 'suspended' }), 'UNKNOWN_PARTY');
  });

  test('when a party updates itself, then SIGNERS_MISMATCH (party ops need the operator)', () => {
    const { w, sup } = cast();
    w.refuses([sup], w.payload('party.update', { partyId: sup.id, publicKey: newKey().publicKey }), 'SIGNERS_MISMATCH');
  });

  test('when an auditor signs a suspension, then SIGNERS_MISMATCH (the auditor signs nothing that changes state)', () => {
    const { w, auditor, sup } = cast();
    w.refuses([auditor], w.payload('party.update', { partyId: sup.id, status: 'suspended' }), 'SIGNERS_MISMATCH');
  });
});
