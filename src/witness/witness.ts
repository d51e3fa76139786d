/**
 * A witness (docs/protocol.md §11.3): it cosigns a ledger's checkpoint only after checking that it
 * extends the last one it cosigned for that ledger, so that no operator can show two histories.
 * The protocol is C2SP tlog-witness v1 `add-checkpoint`; the cosignature C2SP tlog-cosignature v1
 * (src/ledger/cosignature.ts). It depends on the ledger layer only, not on the service.
 *
 * Its folder holds `witness.key` (its own key), `logs.json` (the ledgers it trusts: origin,
 * ledger id, node key, URL) and `state/<sha256(origin)>.json` (the size and root it last cosigned
 * for each). A cosigned size and root are written durably (fsync'd, renamed into place) before
 * the cosignature is answered, and the check and the write happen under one lock per origin, so
 * two requests racing can never make it cosign two inconsistent checkpoints.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseBase64 } from '../ledger/base64.js';
import { checkpointOrigin, isKeyName, parseCheckpoint, verifyNote } from '../ledger/checkpoint.js';
import { cosign, type Witness } from '../ledger/cosignature.js';
import { generateSeed, publicKeyFromSeed } from '../ledger/ed25519.js';
import { fromHex, toHex } from '../ledger/hex.js';
import { EMPTY_ROOT, verifyConsistency } from '../ledger/merkle.js';
import { writeFileDurably } from '../ledger/node/durable-file.js';
import { signNode, verifyNode } from '../ledger/node/ed25519-node.js';

/** c2sp.org/tlog-witness: a client sends at most 63 proof lines. */
export const PROOF_LINES_MAX = 63;
/** The largest request body the witness reads (a checkpoint, its signatures and a proof). */
export const ADD_CHECKPOINT_BYTES_MAX = 16 * 1024;

/** A ledger the witness trusts (`rvl witness add-log`). */
export interface TrustedLog {
  readonly origin: string;
  readonly ledgerId: string;
  /** The node key genesis names, hex. */
  readonly nodeKey: string;
  readonly url: string;
}

/** What the witness last cosigned for one origin. */
export interface Cosigned {
  readonly size: number;
  /** Hex. */
  readonly root: string;
}

/** An answer of `add-checkpoint`, as C2SP tlog-witness v1 defines them. */
export type AddCheckpointAnswer =
  | { readonly status: 200; readonly body: string }
  | { readonly status: 409; readonly size: number }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: string };

export interface WitnessIdentity extends Witness {
  /** Hex seed of the witness key. */
  readonly seed: string;
}

const stateName = (origin: string): string => `${createHash('sha256').update(origin).digest('hex')}.json`;

/** The parts of an add-checkpoint body: `old N`, proof lines, a blank line, the signed checkpoint. */
export const parseAddCheckpoint = (body: string): { oldSize: number; proof: Uint8Array[]; note: string } | string => {
  const blank = body.indexOf('\n\n');
  if (blank < 0) return 'no blank line after the old size and the proof';
  const head = body.slice(0, blank).split('\n');
  const note = body.slice(blank + 2);
  const old = /^old (0|[1-9][0-9]{0,15})$/.exec(head[0] ?? '');
  if (!old || !Number.isSafeInteger(Number(old[1]))) return 'the first line is not "old <size>" in canonical decimal';
  const lines = head.slice(1);
  if (lines.length > PROOF_LINES_MAX) return `more than ${PROOF_LINES_MAX} proof lines`;
  const proof: Uint8Array[] = [];
  for (const line of lines) {
    const hash = parseBase64(line);
    if (hash?.length !== 32) return 'a proof line is not canonical base64 of a 32-byte hash';
    proof.push(hash);
  }
  return { oldSize: Number(old[1]), proof, note };
};

export class WitnessState {
  readonly #dir: string;
  readonly #logs: ReadonlyMap<string, TrustedLog>;
  readonly #me: WitnessIdentity;
  readonly #now: () => number;
  /** One chain of promises per origin: a check and its write never interleave with another's. */
  readonly #locks = new Map<string, Promise<unknown>>();

  private constructor(dir: string, logs: ReadonlyMap<string, TrustedLog>, me: WitnessIdentity, now: () => number) {
    this.#dir = dir;
    this.#logs = logs;
    this.#me = me;
    this.#now = now;
  }

  /** Opens a witness folder made by `rvl witness init`. */
  static async open(dir: string, me: WitnessIdentity, o: { now?: () => number } = {}): Promise<WitnessState> {
    const logs = await readLogs(dir);
    await fs.mkdir(path.join(dir, 'state'), { recursive: true, mode: 0o700 });
    return new WitnessState(dir, new Map(logs.map((l) => [l.origin, l])), me, o.now ?? Date.now);
  }

  get identity(): Witness {
    return { name: this.#me.name, publicKey: this.#me.publicKey };
  }

  /** What it last cosigned for `origin` (undefined: nothing yet). */
  async cosigned(origin: string): Promise<Cosigned | undefined> {
    try {
      return JSON.parse(await fs.readFile(path.join(this.#dir, 'state', stateName(origin)), 'utf8')) as Cosigned;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** C2SP tlog-witness v1 `add-checkpoint` on a request body. */
  async addCheckpoint(body: string): Promise<AddCheckpointAnswer> {
    const req = parseAddCheckpoint(body);
    if (typeof req === 'string') return { status: 400, reason: req };
    const cp = parseCheckpoint(req.note);
    if (!cp.ok) return { status: 400, reason: `the checkpoint is malformed: ${cp.detail}` };
    const log = this.#logs.get(cp.origin);
    if (!log) return { status: 404, reason: `unknown origin ${cp.origin}` };
    const verified = verifyNote(req.note, { name: cp.origin, publicKey: log.nodeKey, verify: verifyNode });
    if (!verified.ok) return { status: 403, reason: `the checkpoint is not signed by ${cp.origin}'s node key: ${verified.code}` };
    if (req.oldSize > cp.size) return { status: 400, reason: `old size ${req.oldSize} is greater than the checkpoint's ${cp.size}` };
    return this.#locked(cp.origin, async () => {
      const last = await this.cosigned(cp.origin);
      const lastSize = last?.size ?? 0;
      if (req.oldSize !== lastSize) return { status: 409, size: lastSize };
      const oldRoot = last?.root ?? toHex(EMPTY_ROOT);
      if (cp.size === 0 && cp.root !== toHex(EMPTY_ROOT)) return { status: 422, reason: 'a checkpoint of size 0 must have the empty root' };
      const consistent = verifyConsistency(req.oldSize, cp.size, req.proof, fromHex(oldRoot, 32), fromHex(cp.root, 32));
      if (!consistent.ok) return { status: 422, reason: `the checkpoint is not consistent with size ${lastSize}: ${consistent.code}` };
      await writeFileDurably(path.join(this.#dir, 'state', stateName(cp.origin)), JSON.stringify({ size: cp.size, root: cp.root } satisfies Cosigned));
      const timestamp = Math.max(1, Math.floor(this.#now() / 1000));
      return { status: 200, body: cosign(verified.text, this.#me.name, this.#me.seed, timestamp, signNode, this.#me.publicKey) };
    });
  }

  #locked<T>(origin: string, f: () => Promise<T>): Promise<T> {
    const before = this.#locks.get(origin) ?? Promise.resolve();
    const run = before.then(f, f);
    const settled = run.catch(() => undefined);
    this.#locks.set(origin, settled);
    void settled.then(() => {
      if (this.#locks.get(origin) === settled) this.#locks.delete(origin);
    });
    return run;
  }
}

const LOGS_FILE = 'logs.json';

export const readLogs = async (dir: string): Promise<TrustedLog[]> => {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, LOGS_FILE), 'utf8')) as TrustedLog[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
};

/** Adds (or replaces) a trusted ledger, durably. The origin is `rvl/<ledgerId>`. */
export const addLog = async (dir: string, log: Omit<TrustedLog, 'origin'>): Promise<TrustedLog> => {
  const entry: TrustedLog = { origin: checkpointOrigin(log.ledgerId), ...log };
  const logs = (await readLogs(dir)).filter((l) => l.origin !== entry.origin);
  await writeFileDurably(path.join(dir, LOGS_FILE), `${JSON.stringify([...logs, entry], null, 2)}\n`);
  return entry;
};

const KEY_FILE = 'witness.key';

/** Makes a witness folder (0700) with a new key named `name`; refuses a folder that has a key. */
export const initWitness = async (dir: string, name: string): Promise<WitnessIdentity> => {
  if (!isKeyName(name)) throw new Error(`"${name}" is not a witness name (non-empty, no spaces, no "+"; e.g. witness.yourbank.example/w1)`);
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, KEY_FILE);
  const seed = generateSeed();
  const me: WitnessIdentity = { name, seed, publicKey: publicKeyFromSeed(seed) };
  const handle = await fs.open(file, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new Error(`${file} exists: this folder already holds a witness`) : err;
  });
  try {
    await handle.writeFile(`${JSON.stringify({ name, publicKey: me.publicKey, secretKey: seed })}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return me;
};

/** Reads the witness key of a folder made by `initWitness`. */
export const readWitness = async (dir: string): Promise<WitnessIdentity> => {
  const file = path.join(dir, KEY_FILE);
  const k = JSON.parse(await fs.readFile(file, 'utf8')) as { name?: unknown; publicKey?: unknown; secretKey?: unknown };
  if (typeof k.name !== 'string' || !isKeyName(k.name) || typeof k.secretKey !== 'string' || !/^[0-9a-f]{64}$/.test(k.secretKey)) {
    throw new Error(`${file} is not a witness key file`);
  }
  const publicKey = publicKeyFromSeed(k.secretKey);
  if (k.publicKey !== publicKey) throw new Error(`${file}: its public key is not its secret key's`);
  return { name: k.name, seed: k.secretKey, publicKey };
};
