/**
 * `LedgerPins`: each service URL is pinned to the ledger id first found there, and a known URL
 * that starts answering for another ledger is refused (`LEDGER_CHANGED`) until the caller
 * re-pins it deliberately. The ids are two real ledgers' (two harness services).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LedgerPins, pinKeyOf, TrustError } from '../../src/client/index.js';
import { startServer, type Server } from './support.js';

let a: Server;
let b: Server;
const URL_ = 'http://127.0.0.1:8080';
const T0 = '2026-03-01T00:00:00.000Z';
const T1 = '2026-03-02T00:00:00.000Z';

beforeAll(async () => {
  [a, b] = await Promise.all([startServer(), startServer()]);
  expect(a.ledgerId).not.toBe(b.ledgerId);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

const refusal = (f: () => unknown): TrustError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TrustError);
    return err as TrustError;
  }
  throw new Error('expected a TrustError');
};

describe('LedgerPins', () => {
  it('pins a URL on first use, then accepts the same ledger there', () => {
    const pins = new LedgerPins();
    expect(pins.check(URL_, a.ledgerId, T0)).toEqual({ firstUse: true, pin: { ledgerId: a.ledgerId, since: T0 } });
    expect(pins.check(`${URL_}/`, a.ledgerId, T1)).toEqual({ firstUse: false, pin: { ledgerId: a.ledgerId, since: T0 } });
  });

  it('refuses another ledger at a pinned URL, naming both ids, and changes nothing', () => {
    const pins = new LedgerPins();
    pins.check(URL_, a.ledgerId, T0);
    const before = JSON.stringify(pins.toJSON());
    const err = refusal(() => pins.check(URL_, b.ledgerId, T1));
    expect(err.code).toBe('LEDGER_CHANGED');
    expect(err.detail).toContain(a.ledgerId);
    expect(err.detail).toContain(b.ledgerId);
    expect(err.evidence).toEqual({ trusted: a.ledgerId, offered: b.ledgerId });
    expect(JSON.stringify(pins.toJSON())).toBe(before);
    // Another URL may serve the other ledger.
    expect(pins.check('http://127.0.0.1:8081', b.ledgerId, T1).firstUse).toBe(true);
  });

  it('re-pins only when asked: repin replaces the pin, forget removes it', () => {
    const pins = new LedgerPins();
    pins.check(URL_, a.ledgerId, T0);
    expect(pins.repin(URL_, b.ledgerId, T1)).toEqual({ ledgerId: a.ledgerId, since: T0 });
    expect(pins.check(URL_, b.ledgerId, T1).firstUse).toBe(false);
    expect(refusal(() => pins.check(URL_, a.ledgerId, T1)).code).toBe('LEDGER_CHANGED');
    expect(pins.forget(URL_)).toEqual({ ledgerId: b.ledgerId, since: T1 });
    expect(pins.forget(URL_)).toBeUndefined();
    expect(pins.check(URL_, a.ledgerId, T1).firstUse).toBe(true);
  });

  it('one pin per address however it is written: case, default port, trailing slash', () => {
    expect(pinKeyOf('HTTP://Ledger.Example.COM:80/')).toBe('http://ledger.example.com');
    expect(pinKeyOf('https://ledger.example.com:443/rvl//')).toBe('https://ledger.example.com/rvl');
    expect(pinKeyOf('http://127.0.0.1:8080')).not.toBe(pinKeyOf('http://127.0.0.1:8081'));
    expect(refusal(() => pinKeyOf('not a url')).code).toBe('BAD_STATE');
  });

  it('round-trips through JSON, and refuses a damaged state', () => {
    const pins = new LedgerPins();
    pins.check(URL_, a.ledgerId, T0);
    pins.check('https://ledger.example.com', b.ledgerId, T1);
    const back = LedgerPins.fromJSON(JSON.stringify(pins.toJSON()));
    expect(back.toJSON()).toEqual(pins.toJSON());
    expect(refusal(() => back.check(URL_, b.ledgerId, T1)).code).toBe('LEDGER_CHANGED');
    for (const bad of [
      '{',
      '{"v":2,"pins":{}}',
      '{"v":1,"pins":[]}',
      JSON.stringify({ v: 1, pins: { [URL_]: { ledgerId: 'xyz', since: T0 } } }),
      JSON.stringify({ v: 1, pins: { 'http://A:80/': { ledgerId: a.ledgerId, since: T0 } } }),
    ]) {
      expect(refusal(() => LedgerPins.fromJSON(bad)).code, bad).toBe('BAD_STATE');
    }
  });
});
