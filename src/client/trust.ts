/**
 * A trusted checkpoint store (docs/protocol.md §5–§6): the client's memory of the largest checkpoint
 * it has verified, moved forward only along an append-only path.
 *
 * `update(client)` reads the service's latest checkpoint and checks, in this order:
 *  1. the note names this ledger (origin `rvl/<ledgerId>`)            → WRONG_LEDGER
 *  2. the node key signed it (C2SP signed-note, key id and Ed25519)   → BAD_CHECKPOINT
 *  3. it is not smaller than the trusted one                          → ROLLBACK
 *  4. at the same size, it has the same root                          → FORK
 *  5. an RFC 9162 consistency proof from the trusted size and root to
 *     the new ones verifies                                           → BAD_CONSISTENCY_PROOF
 * and only then trusts it. A refusal leaves the trusted state as it was; `TrustError.evidence`
 * keeps both notes (two node-signed notes with equal sizes and different roots prove a fork).
 *
 * With no trusted checkpoint yet, the first verified one is trusted as it is (trust on first
 * use, anchored by the ledger id and node key the caller gives). The state is plain JSON
 * (`toJSON` / `CheckpointTracker.fromJSON`) so a CLI can keep it in a file.
 *
 * A tracker is per ledger, so it cannot see a service address that starts answering for another
 * ledger (a new data folder behind the same URL): that would look like a first use of the new
 * ledger. `LedgerPins` closes that gap: it pins each service URL to the ledger id first found
 * there and refuses (`LEDGER_CHANGED`) a known URL that serves another ledger, until the caller
 * re-pins it deliberately (`repin`, `forget`).
 */
import { isStrictPublicKey, verify as verifyPortable } from '../ledger/ed25519.js';
import { checkpointOrigin, parseCheckpoint, verifyCheckpoint, type VerifyFn } from '../ledger/checkpoint.js';
import { isHex } from '../ledger/hex.js';
import { verifyConsistency } from '../ledger/merkle.js';
import type { LedgerClient } from './client.js';

/**
 * | code                  | meaning                                                        |
 * |-----------------------|----------------------------------------------------------------|
 * | WRONG_LEDGER          | the service or the checkpoint is for another ledger            |
 * | BAD_CHECKPOINT        | not a checkpoint note, or not signed by the node key           |
 * | ROLLBACK              | smaller than the trusted checkpoint                            |
 * | FORK                  | same size as the trusted checkpoint, another root              |
 * | BAD_CONSISTENCY_PROOF | the proof from the trusted checkpoint does not verify          |
 * | BAD_STATE             | a serialized tracker or pins state that is not one             |
 * | LEDGER_CHANGED        | a URL pinned to one ledger now serves another                  |
 */
export type TrustErrorCode = 'WRONG_LEDGER' | 'BAD_CHECKPOINT' | 'ROLLBACK' | 'FORK' | 'BAD_CONSISTENCY_PROOF' | 'BAD_STATE' | 'LEDGER_CHANGED';

export class TrustError extends Error {
  override readonly name = 'TrustError';
  constructor(
    readonly code: TrustErrorCode,
    readonly detail: string,
    /**
     * The trusted note and the refused one, when there are both; for `LEDGER_CHANGED`, the
     * pinned ledger id and the one the URL serves now.
     */
    readonly evidence: { readonly trusted?: string; readonly offered?: string } = {},
  ) {
    super(`${code}: ${detail}`);
  }
}

export interface TrustedCheckpoint {
  readonly size: number;
  /** Merkle root, hex. */
  readonly root: string;
  /** The signed note as the service sent it. */
  readonly note: string;
}

/** The serialized state (`toJSON`), version 1. */
export interface TrackerState {
  readonly v: 1;
  readonly ledgerId: string;
  readonly nodeKey: string;
  readonly checkpoint: TrustedCheckpoint | null;
}

export interface TrackerOptions {
  readonly ledgerId: string;
  /** The node key from genesis, hex. */
  readonly nodeKey: string;
  /** A checkpoint trusted already (e.g. from a previous run's state). It is re-verified. */
  readonly initial?: TrustedCheckpoint | string | null;
  /** Signature verifier; default the portable one. */
  readonly verify?: VerifyFn;
}

export interface UpdateResult {
  /** The size trusted before (0 if none). */
  readonly from: number;
  /** The size trusted now. */
  readonly to: number;
  readonly changed: boolean;
  readonly checkpoint: TrustedCheckpoint;
}

export class CheckpointTracker {
  readonly ledgerId: string;
  readonly nodeKey: string;
  readonly #verify: VerifyFn;
  #trusted: TrustedCheckpoint | undefined;

  constructor(options: TrackerOptions) {
    if (!isHex(options.ledgerId, 32)) throw new TrustError('BAD_STATE', 'ledgerId must be 64 lowercase hex chars');
    if (!isStrictPublicKey(options.nodeKey)) throw new TrustError('BAD_STATE', 'nodeKey is not a strict Ed25519 public key');
    this.ledgerId = options.ledgerId;
    this.nodeKey = options.nodeKey;
    this.#verify = options.verify ?? verifyPortable;
    const initial = options.initial ?? null;
    if (initial !== null) {
      const note = typeof initial === 'string' ? initial : initial.note;
      const checked = this.verifyNote(note);
      if (typeof initial !== 'string' && (checked.size !== initial.size || checked.root !== initial.root)) {
        throw new TrustError('BAD_STATE', 'the stored size and root are not those of the stored note');
      }
      this.#trusted = checked;
    }
  }

  /** Restores a tracker from `toJSON` output (an object, or its JSON text). */
  static fromJSON(state: unknown, options: { readonly verify?: VerifyFn } = {}): CheckpointTracker {
    let value = state;
    if (typeof state === 'string') {
      try {
        value = JSON.parse(state);
      } catch {
        throw new TrustError('BAD_STATE', 'the tracker state is not JSON');
      }
    }
    const s = value as Partial<TrackerState> | null;
    if (typeof s !== 'object' || s === null || s.v !== 1 || typeof s.ledgerId !== 'string' || typeof s.nodeKey !== 'string') {
      throw new TrustError('BAD_STATE', 'not a tracker state of version 1');
    }
    const cp = s.checkpoint;
    if (cp !== null && (typeof cp !== 'object' || cp === undefined || typeof cp.note !== 'string')) {
      throw new TrustError('BAD_STATE', 'the tracker state has no valid checkpoint field');
    }
    return new CheckpointTracker({ ledgerId: s.ledgerId, nodeKey: s.nodeKey, initial: cp, ...options });
  }

  /** The trusted checkpoint, if any. */
  get trusted(): TrustedCheckpoint | undefined {
    return this.#trusted;
  }

  toJSON(): TrackerState {
    return { v: 1, ledgerId: this.ledgerId, nodeKey: this.nodeKey, checkpoint: this.#trusted ?? null };
  }

  /** Verifies a note as a checkpoint of this ledger signed by the node key. Throws `TrustError`. */
  verifyNote(note: string): TrustedCheckpoint {
    const origin = checkpointOrigin(this.ledgerId);
    const parsed = parseCheckpoint(note);
    if (parsed.ok && parsed.origin !== origin) {
      throw new TrustError('WRONG_LEDGER', `the checkpoint is for ${parsed.origin}, not ${origin}`, this.#evidence(note));
    }
    const verified = verifyCheckpoint(note, { ledgerId: this.ledgerId, nodePublicKey: this.nodeKey, verify: this.#verify });
    if (!verified.ok) {
      throw new TrustError('BAD_CHECKPOINT', `${verified.code}: ${verified.detail}`, this.#evidence(note));
    }
    return { size: verified.size, root: verified.root, note };
  }

  /**
   * Moves to `note` if it extends the trusted checkpoint, given the consistency proof (hex hashes)
   * from the trusted size to the note's size. Pure: no I/O. Throws `TrustError` and then changes
   * nothing.
   */
  advance(note: string, consistencyProof: readonly string[]): UpdateResult {
    const offered = this.verifyNote(note);
    const trusted = this.#trusted;
    const from = trusted?.size ?? 0;
    if (trusted !== undefined) {
      if (offered.size < trusted.size) {
        throw new TrustError('ROLLBACK', `the checkpoint has ${offered.size} entries; ${trusted.size} are trusted`, this.#evidence(note));
      }
      if (offered.size === trusted.size && offered.root !== trusted.root) {
        throw new TrustError('FORK', `two signed checkpoints of size ${offered.size} with different roots`, this.#evidence(note));
      }
      const proof = verifyConsistency(trusted.size, offered.size, consistencyProof, trusted.root, offered.root);
      if (!proof.ok) {
        throw new TrustError('BAD_CONSISTENCY_PROOF', `from ${trusted.size} to ${offered.size}: ${proof.code}: ${proof.detail}`, this.#evidence(note));
      }
    }
    const changed = trusted === undefined || offered.size !== trusted.size;
    if (changed) this.#trusted = offered;
    return { from, to: offered.size, changed, checkpoint: this.#trusted ?? offered };
  }

  /**
   * Fetches the latest checkpoint and, when it is larger than the trusted one, a consistency
   * proof, and advances to it. Throws `TrustError` (or the client's errors for I/O).
   */
  async update(client: LedgerClient): Promise<UpdateResult> {
    const info = await client.ledger();
    if (info.ledgerId !== this.ledgerId) {
      throw new TrustError('WRONG_LEDGER', `the service serves ledger ${info.ledgerId}, not ${this.ledgerId}`);
    }
    const note = await client.checkpoint();
    const offered = this.verifyNote(note);
    const trusted = this.#trusted;
    let proof: readonly string[] = [];
    if (trusted !== undefined && offered.size > trusted.size && trusted.size > 0) {
      const answer = await client.consistency(trusted.size, offered.size);
      if (answer.from !== trusted.size || answer.to !== offered.size) {
        throw new TrustError(
          'BAD_CONSISTENCY_PROOF',
          `asked for a proof from ${trusted.size} to ${offered.size}, got ${answer.from} to ${answer.to}`,
          this.#evidence(note),
        );
      }
      proof = answer.hashes;
    }
    return this.advance(note, proof);
  }

  #evidence(offered: string): { trusted?: string; offered: string } {
    return this.#trusted === undefined ? { offered } : { trusted: this.#trusted.note, offered };
  }
}

// ---- URL → ledger id pins ----

/** The ledger a URL was first found serving, and when (RFC 3339). */
export interface LedgerPin {
  readonly ledgerId: string;
  readonly since: string;
}

/** The serialized pins (`LedgerPins.toJSON`), version 1, keyed by `pinKeyOf(url)`. */
export interface PinsState {
  readonly v: 1;
  readonly pins: Readonly<Record<string, LedgerPin>>;
}

/** What `LedgerPins.check` found. */
export interface PinCheck {
  /** True when the URL had no pin and is pinned now. */
  readonly firstUse: boolean;
  readonly pin: LedgerPin;
}

/**
 * The key a URL is pinned under: its origin (scheme, host and port as the WHATWG URL parser
 * normalizes them, the default port dropped) and path without trailing slashes. Throws
 * `TrustError('BAD_STATE')` for a string that is not an absolute URL.
 */
export const pinKeyOf = (url: string): string => {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    throw new TrustError('BAD_STATE', `"${url}" is not an absolute URL`);
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
};

/**
 * Which ledger each service URL serves, as first found (trust on first use of the URL). Pure:
 * the caller keeps the JSON (a file, browser storage) and gives the time. A refusal changes
 * nothing.
 */
export class LedgerPins {
  readonly #pins = new Map<string, LedgerPin>();

  /** Restores pins from `toJSON` output (an object, or its JSON text). Throws `TrustError('BAD_STATE')`. */
  static fromJSON(state: unknown): LedgerPins {
    let value = state;
    if (typeof state === 'string') {
      try {
        value = JSON.parse(state);
      } catch {
        throw new TrustError('BAD_STATE', 'the pins state is not JSON');
      }
    }
    const s = value as Partial<PinsState> | null;
    if (typeof s !== 'object' || s === null || s.v !== 1 || typeof s.pins !== 'object' || s.pins === null || Array.isArray(s.pins)) {
      throw new TrustError('BAD_STATE', 'not a pins state of version 1');
    }
    const pins = new LedgerPins();
    for (const [key, pin] of Object.entries(s.pins)) {
      const p = pin as Partial<LedgerPin> | null;
      if (typeof p !== 'object' || p === null || !isHex(p.ledgerId, 32) || typeof p.since !== 'string' || pinKeyOf(key) !== key) {
        throw new TrustError('BAD_STATE', `the pin of ${key} is not a ledger id and a time`);
      }
      pins.#pins.set(key, { ledgerId: p.ledgerId, since: p.since });
    }
    return pins;
  }

  /** The pin of `url`, if any. */
  pinned(url: string): LedgerPin | undefined {
    return this.#pins.get(pinKeyOf(url));
  }

  /**
   * Checks that `url` serves the ledger it is pinned to, and pins it to `ledgerId` if it has no
   * pin yet. Throws `TrustError('LEDGER_CHANGED')` (evidence: the pinned id, the served one) when
   * it is pinned to another ledger; re-pinning is then the caller's deliberate act (`repin`).
   */
  check(url: string, ledgerId: string, now: string): PinCheck {
    const key = pinKeyOf(url);
    const pin = this.#pins.get(key);
    if (pin === undefined) {
      const fresh = { ledgerId, since: now };
      this.#pins.set(key, fresh);
      return { firstUse: true, pin: fresh };
    }
    if (pin.ledgerId !== ledgerId) {
      throw new TrustError('LEDGER_CHANGED', `${key} served ledger ${pin.ledgerId} (trusted since ${pin.since}); it now serves ledger ${ledgerId}`, {
        trusted: pin.ledgerId,
        offered: ledgerId,
      });
    }
    return { firstUse: false, pin };
  }

  /** Pins `url` to `ledgerId` whatever it was pinned to; returns the pin it replaced, if any. */
  repin(url: string, ledgerId: string, now: string): LedgerPin | undefined {
    const key = pinKeyOf(url);
    const before = this.#pins.get(key);
    this.#pins.set(key, { ledgerId, since: now });
    return before;
  }

  /** Removes the pin of `url`; returns it, if there was one. */
  forget(url: string): LedgerPin | undefined {
    const key = pinKeyOf(url);
    const before = this.#pins.get(key);
    this.#pins.delete(key);
    return before;
  }

  toJSON(): PinsState {
    return { v: 1, pins: Object.fromEntries([...this.#pins].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) };
  }
}
