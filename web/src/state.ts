/**
 * The console's state: the ledger it talks to, who is signed in, and the current route.
 *
 * The secret key lives in memory only (in `session.key`), unless the user ticks "remember in this
 * browser": then the key file's text is kept in localStorage under a name that carries the ledger
 * id, until "forget" removes it. It is never sent anywhere: the console signs ops and read tokens
 * (§8 JWTs) itself.
 */
import { useLayoutEffect, useReducer } from 'preact/hooks';

import { keyFileText, LedgerClient, parseKeyFile, type KeyFile, type LedgerInfo, type Party } from '../../src/client/index.js';
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

export const use = <T,>(store: Store<T>): T => {
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
  readonly remembered: boolean;
}

export const session = new Store<Session | undefined>(undefined);

const storageName = (ledgerId: string): string => `rvl-console/key/${ledgerId}`;

const storage = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled by the browser
  }
};

/**
 * Signs in with a key: makes a read token and reads the party's own record with it, which proves
 * to the ledger (and to us) that the key is the party's current key. Throws the SDK's errors.
 */
export const signIn = async (key: KeyFile, remember: boolean): Promise<Session> => {
  const info = ledgerInfo();
  const client = new LedgerClient({ baseUrl: BASE_URL, ledgerId: info.ledgerId, key });
  const party = await client.party(key.party);
  const s: Session = { key, party, client, remembered: remember };
  const store = storage();
  if (remember) store?.setItem(storageName(info.ledgerId), keyFileText(key));
  else store?.removeItem(storageName(info.ledgerId));
  session.set(s);
  parties.set(undefined);
  return s;
};

/** Signs out; the key is dropped from memory (and from this browser if `forget`). */
export const signOut = (forget: boolean): void => {
  const l = ledger.value;
  if (forget && l.kind === 'ready') storage()?.removeItem(storageName(l.info.ledgerId));
  session.set(undefined);
  parties.set(undefined);
};

/** Whether this browser remembers a key for the ledger. */
export const rememberedKey = (): KeyFile | undefined => {
  const l = ledger.value;
  if (l.kind !== 'ready') return undefined;
  const text = storage()?.getItem(storageName(l.info.ledgerId));
  if (text == null) return undefined;
  try {
    return parseKeyFile(text);
  } catch {
    storage()?.removeItem(storageName(l.info.ledgerId));
    return undefined;
  }
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
