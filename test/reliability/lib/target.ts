/**
 * What the reliability runs talk to: a ledger service, either in this process (the test harness,
 * `app.inject` over a real LevelDB) or a compiled server over loopback HTTP. Both answer the same
 * way, so workloads and checkers are written once.
 */
import type { Harness } from '../../support/harness.js';
import { Client, key as e2eKey, type Envelope, type Key } from '../../e2e/client.js';
import { signNode } from '../../../src/ledger/node/ed25519-node.js';
import { opId, opPreimage } from '../../../src/ledger/op.js';

export type { Envelope, Key };

/** A deterministic key per id (the one test key helper, as in the e2e suites). */
export const key = e2eKey;

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed JSON body, or undefined. */
  readonly body: any;
}

export interface Target {
  readonly ledgerId: string;
  /** Posts an envelope; throws when no answer comes back (connection refused or reset). */
  post(envelope: Envelope): Promise<Answer>;
  /** GET as `as`, or anonymously. Throws when no answer comes back. */
  get(urlPath: string, as?: Key): Promise<Answer>;
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/** A service in this process. */
export const harnessTarget = (h: Harness): Target => ({
  ledgerId: h.ledgerId,
  async post(envelope) {
    const res = await h.post(envelope);
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: res.body, body: parse(res.body) };
  },
  async get(urlPath, as) {
    const res = await h.get(urlPath, as as never);
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), text: res.body, body: parse(res.body) };
  },
});

/** A server over HTTP (`url` as it printed it). */
export const httpTarget = async (url: string): Promise<Target & { readonly url: string; readonly client: Client }> => {
  const client = await Client.connect(url);
  return {
    url,
    client,
    ledgerId: client.ledgerId,
    async post(envelope) {
      const a = await client.post(envelope);
      return { status: a.status, contentType: a.contentType, text: a.text, body: a.body };
    },
    async get(urlPath, as) {
      const a = await client.get(urlPath, as);
      return { status: a.status, contentType: a.contentType, text: a.text, body: a.body };
    },
  };
};

/** Signs `payload` (completed with the ledger id) with each signer. */
export const sign = (ledgerId: string, payload: Record<string, unknown>, signers: readonly Key[]): Envelope => {
  const full = { ledger: ledgerId, ...payload };
  const preimage = opPreimage(full);
  return { payload: full, signatures: signers.map((k) => ({ signer: k.id, sig: signNode(k.seed, preimage) })) };
};

export const opIdOf = (envelope: Envelope): string => opId(envelope.payload);

/** GET that must answer 200; the body. */
export const getOk = async (t: Target, urlPath: string, as?: Key): Promise<any> => {
  const a = await t.get(urlPath, as);
  if (a.status !== 200) throw new Error(`GET ${urlPath}: ${a.status} ${a.text.slice(0, 300)}`);
  return a.body;
};

/** Registers parties (operator-signed), `width` at a time; every one must be 201. */
export const registerAll = async (t: Target, operator: Key, parties: readonly Key[], width = 32): Promise<void> => {
  let next = 0;
  const failures: string[] = [];
  const worker = async () => {
    while (next < parties.length) {
      const k = parties[next++] as Key;
      const env = sign(
        t.ledgerId,
        { type: 'party.register', nonce: `reg-${k.id}`, party: { id: k.id, name: `${k.id} Ltd.`, role: k.role, publicKey: k.publicKey } },
        [operator],
      );
      const a = await t.post(env);
      if (a.status !== 201 && !(a.status === 200 && a.body?.duplicate === true)) failures.push(`${k.id}: ${a.status} ${a.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, parties.length) }, worker));
  if (failures.length > 0) throw new Error(`registering parties failed:\n${failures.join('\n')}`);
};
