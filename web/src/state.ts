/**
 * The console's state: the ledger it talks to, who is signed in, and the current route.
 *
 * The secret key lives in memory (`session.key`) and in the tab's sessionStorage, so a reload or a
 * link opened in the tab keeps the party signed in; closing the tab or "sign out" drops it. With
 * "remember in this browser" it is also kept in localStorage, sealed under a passphrase
 * (keystore.ts), until "forget" removes it. Names carry the ledger id. The key is never sent
 * anywhere: the console signs ops and read tokens (docs/protocol.md §8 JWTs) itself.
 */
import { useLayoutEffect, useReducer } from 'preact/hooks';

import { CheckpointTracker, keyFileText, LedgerClient, LedgerPins, parseKeyFile, type KeyFile, type LedgerInfo, type Party } from '../../src/client/index.js';
import type { Role } from '../../src/domain/types.js';
import { openSealedKey, readSealedKey, SealError, sealKey, type SealedKey } from './keystore.js';
import { toShown, type Shown } from './explain.js';

/** A value with subscribers; `use(store)` re-renders a component when it changes. */
export class Store<T> {
  #value: T;
  readonly #listeners = new Set<() => void>();
  constructor(value: T) {
    this.#value = value;
  }
  get value(): T {
    return this.#value;
  }
  set(value: T): void {
    this.#value = value;
    for (const l of [...this.#listeners]) l();
  }
  update(f: (v: T) => T): void {
    this.set(f(this.#value));
  }
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export const use = <T>(store: Store<T>): T => {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const rendered = store.value;
  // Subscribe as soon as the component is in the page (a layout effect runs right after the
  // render, an effect only after a paint), and catch a change that came in between.
  useLayoutEffect(() => {
    const unsubscribe = store.subscribe(() => bump(undefined as never));
    if (store.value !== rendered) bump(undefined as never);
    return unsubscribe;
  }, [store]);
  return rendered;
};

// ---- the ledger ----

export const BASE_URL = location.origin;

export type LedgerState =
  | { readonly kind: 'loading' }
  | { readonly kind: 'ready'; readonly info: LedgerInfo }
  | { readonly kind: 'failed'; readonly problem: Shown };

export const ledger = new Store<LedgerState>({ kind: 'loading' });

/** A client that reads only public endpoints. */
export const publicClient = (): LedgerClient => {
  const l = ledger.value;
  return new LedgerClient({ baseUrl: BASE_URL, ...(l.kind === 'ready' ? { ledgerId: l.info.ledgerId } : {}) });
};

export const loadLedger = async (): Promise<void> => {
  try {
    const info = await new LedgerClient({ baseUrl: BASE_URL }).ledger();
    ledger.set({ kind: 'ready', info });
  } catch (err) {
    ledger.set({ kind: 'failed', problem: toShown(err) });
  }
};

/** Re-reads `GET /v1/ledger` (its size grows); keeps what it had if the read fails. */
export const refreshLedger = async (): Promise<void> => {
  try {
    const info = await publicClient().ledger();
    ledger.set({ kind: 'ready', info });
  } catch {
    // The pages that need the ledger show their own failures.
  }
};

export const ledgerInfo = (): LedgerInfo => {
  const l = ledger.value;
  if (l.kind !== 'ready') throw new Error('the ledger is not loaded yet');
  return l.info;
};

// ---- who is signed in ----

export interface Session {
  readonly key: KeyFile;
  readonly party: Party;
  /** Acts as `key.party`: signs read tokens, pinned to the ledger id. */
  readonly client: LedgerClient;
  /** Whether this browser keeps the key sealed under a passphrase. */
  readonly remembered: boolean;
}

export const session = new Store<Session | undefined>(undefined);

/** True while the console signs the tab's key back in after a reload. */
export const restoring = new Store<boolean>(false);

/** The tab's key (sessionStorage: it survives a reload and goes with the tab). */
const sessionName = (ledgerId: string): string => `rvl-console/session-key/${ledgerId}`;
/** The key sealed under a passphrase (localStorage, see keystore.ts). */
const sealedName = (ledgerId: string): string => `rvl-console/sealed-key/${ledgerId}`;
/** Where earlier consoles kept a remembered key file in clear; read only to delete it. */
const clearTextName = (ledgerId: string): string => `rvl-console/key/${ledgerId}`;

const storage = (kind: 'local' | 'session'): Storage | undefined => {
  try {
    return kind === 'local' ? globalThis.localStorage : globalThis.sessionStorage;
  } catch {
    return undefined; // storage disabled by the browser
  }
};

/** What to do with the remembered (sealed) key when signing in: forget this party's, seal this one, or leave it. */
export type Remember = { readonly kind: 'forget' } | { readonly kind: 'seal'; readonly passphrase: string } | { readonly kind: 'keep' };

/**
 * Signs in with a key: makes a read token and reads the party's own record with it, which proves
 * to the ledger (and to us) that the key is the party's current key. Keeps the key for this tab,
 * and seals it under the passphrase if asked. Throws the SDK's errors and `SealError`.
 */
export const signIn = async (key: KeyFile, remember: Remember): Promise<Session> => {
  const info = ledgerInfo();
  const client = new LedgerClient({ baseUrl: BASE_URL, ledgerId: info.ledgerId, key });
  const party = await client.party(key.party);
  const local = storage('local');
  if (remember.kind === 'seal')
    local?.setItem(sealedName(info.ledgerId), JSON.stringify(await sealKey(key, keyFileText(key), remember.passphrase, info.ledgerId)));
  // Not remembering this key forgets its sealed copy; another party's stays until its "forget".
  if (remember.kind === 'forget' && rememberedKey()?.party === key.party) local?.removeItem(sealedName(info.ledgerId));
  storage('session')?.setItem(sessionName(info.ledgerId), keyFileText(key));
  const sealed = rememberedKey();
  const s: Session = { key, party, client, remembered: sealed?.party === key.party && sealed.publicKey === key.publicKey };
  session.set(s);
  parties.set(undefined);
  return s;
};

/** Signs out; the key is dropped from memory and the tab (and the sealed copy if `forget`). */
export const signOut = (forget: boolean): void => {
  const l = ledger.value;
  if (l.kind === 'ready') {
    storage('session')?.removeItem(sessionName(l.info.ledgerId));
    if (forget) storage('local')?.removeItem(sealedName(l.info.ledgerId));
  }
  session.set(undefined);
  parties.set(undefined);
};

/** The key this browser keeps sealed for the ledger (not opened), if any. */
export const rememberedKey = (): SealedKey | undefined => {
  const l = ledger.value;
  if (l.kind !== 'ready') return undefined;
  const text = storage('local')?.getItem(sealedName(l.info.ledgerId));
  if (text == null) return undefined;
  try {
    return readSealedKey(text);
  } catch {
    storage('local')?.removeItem(sealedName(l.info.ledgerId));
    return undefined;
  }
};

/** Opens the sealed key with the passphrase and signs in with it; throws `SealError` on a wrong one. */
export const signInRemembered = async (passphrase: string): Promise<Session> => {
  const sealed = rememberedKey();
  if (sealed === undefined) throw new SealError('BAD_SEALED_KEY', 'this browser remembers no key');
  const key = await openSealedKey(sealed, passphrase, ledgerInfo().ledgerId);
  return signIn(key, { kind: 'keep' });
};

/**
 * On start: deletes a key file an earlier console kept in clear (and says so once), then signs the
 * tab's key back in, if the tab has one. A key the ledger no longer accepts is dropped.
 */
export const restoreSession = async (): Promise<{ clearTextKeyDeleted: string | undefined }> => {
  const l = ledger.value;
  if (l.kind !== 'ready') return { clearTextKeyDeleted: undefined };
  const local = storage('local');
  const old = local?.getItem(clearTextName(l.info.ledgerId)) ?? null;
  let clearTextKeyDeleted: string | undefined;
  if (old !== null) {
    local?.removeItem(clearTextName(l.info.ledgerId));
    try {
      clearTextKeyDeleted = parseKeyFile(old).party;
    } catch {
      clearTextKeyDeleted = '?';
    }
  }
  const text = storage('session')?.getItem(sessionName(l.info.ledgerId));
  if (text == null) return { clearTextKeyDeleted };
  restoring.set(true);
  try {
    await signIn(parseKeyFile(text), { kind: 'keep' });
  } catch {
    storage('session')?.removeItem(sessionName(l.info.ledgerId));
  } finally {
    restoring.set(false);
  }
  return { clearTextKeyDeleted };
};

/**
 * The ledger id the user trusts, typed from what the operator gave out of band (published, printed
 * in a contract), remembered in this browser for Verify and Bank check. Public, so kept in clear.
 */
const trustedIdName = 'rvl-console/trusted-ledger-id';

export const trustedLedgerId = (): string => storage('local')?.getItem(trustedIdName) ?? '';

export const setTrustedLedgerId = (id: string): void => {
  if (id.length === 0) storage('local')?.removeItem(trustedIdName);
  else storage('local')?.setItem(trustedIdName, id);
};

/**
 * The ledger this address was first found serving (`LedgerPins`, keyed by this console's origin),
 * and the checkpoint trusted per ledger (`CheckpointTracker` state), kept in this browser so a
 * reload does not trust a new ledger, a rollback or a fork as a first use. Public, so kept in
 * clear. A damaged pins value is `TrustError('BAD_STATE')`, shown and fixed by a deliberate re-pin.
 */
const pinsName = 'rvl-console/ledger-pins';
const trackerName = (ledgerId: string): string => `rvl-console/trusted-checkpoint/${ledgerId}`;

export const loadPins = (): LedgerPins => {
  const text = storage('local')?.getItem(pinsName);
  return text === null || text === undefined ? new LedgerPins() : LedgerPins.fromJSON(text);
};

export const savePins = (pins: LedgerPins): void => {
  storage('local')?.setItem(pinsName, JSON.stringify(pins.toJSON()));
};

/** The tracker kept for this ledger, else a new one anchored by the ledger id and node key. */
export const loadTracker = (info: LedgerInfo): CheckpointTracker => {
  const text = storage('local')?.getItem(trackerName(info.ledgerId));
  return text === null || text === undefined ? new CheckpointTracker({ ledgerId: info.ledgerId, nodeKey: info.nodeKey }) : CheckpointTracker.fromJSON(text);
};

export const saveTracker = (tracker: CheckpointTracker): void => {
  storage('local')?.setItem(trackerName(tracker.ledgerId), JSON.stringify(tracker.toJSON()));
};

/** Where each role starts: the page of the work it does. */
export const LANDING: Record<Role, string> = {
  core: '/vouchers',
  supplier: '/vouchers',
  bank: '/pledges',
  auditor: '/audit',
  operator: '/parties',
};

// ---- parties (names and roles for forms and views) ----

export const parties = new Store<readonly Party[] | undefined>(undefined);

export const loadParties = async (): Promise<readonly Party[]> => {
  const s = session.value;
  if (s === undefined) return [];
  const all: Party[] = [];
  for await (const p of s.client.parties({ limit: 1000 })) all.push(p);
  parties.set(all);
  return all;
};

// ---- route ----

export interface Route {
  readonly path: string;
  readonly query: URLSearchParams;
}

const current = (): Route => ({ path: location.pathname, query: new URLSearchParams(location.search) });

export const route = new Store<Route>(current());

addEventListener('popstate', () => route.set(current()));

export const navigate = (to: string, replace = false): void => {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  route.set(current());
  scrollTo(0, 0);
};

/** The console's path for a voucher (ids are valid path segments: `:` is allowed). */
export const voucherPath = (id: string): string => `/vouchers/${encodeURIComponent(id).replace(/%3A/gi, ':')}`;
