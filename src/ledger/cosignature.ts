/**
 * docs/protocol.md §11.3: witness cosignatures, C2SP tlog-cosignature v1 (c2sp.org/tlog-cosignature,
 * the Ed25519 type), and witness verifier keys (c2sp.org/signed-note "vkeys"). Portable: the SDK,
 * the console and the witness use it alike.
 *
 *   key ID   = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[:4]
 *   message  = "cosignature/v1\n" ‖ "time <POSIX seconds>\n" ‖ the checkpoint's note text
 *   line     = "— <name> " base64(key ID ‖ u64 big-endian timestamp ‖ 64-byte Ed25519 signature) "\n"
 *   vkey     = <name> "+" <hex key ID> "+" base64(0x04 ‖ public key)
 *
 * A verifier with a witness policy (known witnesses and a quorum k) accepts a checkpoint only with
 * valid cosignatures from at least k of them: it ignores lines of keys it does not know, and a
 * line of a known key that does not verify fails the check.
 */
import { parseBase64, toBase64 } from './base64.js';
import { isStrictPublicKey, publicKeyFromSeed, sign as signPortable, verify as verifyPortable } from './ed25519.js';
import { fail, type LedgerResult } from './errors.js';
import { bytesEqual, concatBytes, fromHex, toHex } from './hex.js';
import { isKeyName, parseNote, type SignFn, type VerifyFn } from './checkpoint.js';
import { sha256 } from './sha256.js';
import { utf8 } from './utf8.js';

/** c2sp.org/tlog-cosignature: the Ed25519 cosignature's signature type (key ID and vkey). */
export const COSIGNATURE_TYPE_ED25519 = 0x04;
const KEY_ID_BYTES = 4;
const TIMESTAMP_BYTES = 8;
const SIGNATURE_BYTES = 64;

/** A witness as a verifier knows it: its key name and Ed25519 public key (hex). */
export interface Witness {
  readonly name: string;
  readonly publicKey: string;
}

/** key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]. */
export const cosignerKeyId = (name: string, publicKeyHex: string): Uint8Array =>
  sha256(utf8(name), Uint8Array.of(0x0a, COSIGNATURE_TYPE_ED25519), fromHex(publicKeyHex, 32)).slice(0, KEY_ID_BYTES);

/** The bytes a cosignature signs: the header line, the time line, then the note text. */
export const cosignedMessage = (noteText: string, timestamp: number): Uint8Array => utf8(`cosignature/v1\ntime ${timestamp}\n${noteText}`);

/**
 * A cosignature line (ending in a newline) by witness `name` over a checkpoint's note text (the
 * note without its signature lines), made at `timestamp` (POSIX seconds, > 0).
 */
export const cosign = (
  noteText: string,
  name: string,
  seedHex: string,
  timestamp: number,
  signFn: SignFn = signPortable,
  publicKeyHex: string = publicKeyFromSeed(seedHex),
): string => {
  if (!isKeyName(name)) throw new Error('a witness name must be non-empty, without spaces or "+"');
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new Error('a cosignature timestamp must be a positive integer');
  if (!noteText.endsWith('\n')) throw new Error('a note text ends in a newline');
  const sig = fromHex(signFn(seedHex, cosignedMessage(noteText, timestamp)), SIGNATURE_BYTES);
  const ts = new Uint8Array(TIMESTAMP_BYTES);
  new DataView(ts.buffer).setBigUint64(0, BigInt(timestamp));
  return `\u2014 ${name} ${toBase64(concatBytes(cosignerKeyId(name, publicKeyHex), ts, sig))}\n`;
};

/** A witness's vkey: `<name>+<hex key ID>+base64(0x04 ‖ public key)`. */
export const witnessVkey = (w: Witness): string =>
  `${w.name}+${toHex(cosignerKeyId(w.name, w.publicKey))}+${toBase64(concatBytes(Uint8Array.of(COSIGNATURE_TYPE_ED25519), fromHex(w.publicKey, 32)))}`;

/** Parses a witness vkey (an Ed25519 cosigner key); checks that its key ID is its name's and key's. */
export const parseWitnessVkey = (vkey: string): LedgerResult<Witness> => {
  // The name and the hex key ID hold no '+'; the base64 key may.
  const first = vkey.indexOf('+');
  const second = vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) return fail('BAD_VKEY', 'a vkey is <name>+<key id>+<key>');
  const [name, id, key] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  if (!isKeyName(name)) return fail('BAD_VKEY', 'the vkey has a bad key name');
  if (!/^[0-9a-f]{8}$/.test(id)) return fail('BAD_VKEY', 'the vkey key id is not 8 lowercase hex digits');
  const bytes = parseBase64(key);
  if (bytes === undefined || bytes.length !== 33) return fail('BAD_VKEY', 'the vkey key is not base64 of a type byte and 32 bytes');
  if (bytes[0] !== COSIGNATURE_TYPE_ED25519)
    return fail('BAD_VKEY', `the vkey is not an Ed25519 cosignature key (type 0x04), but type 0x${bytes[0]!.toString(16).padStart(2, '0')}`);
  const publicKey = toHex(bytes.slice(1));
  if (!isStrictPublicKey(publicKey)) return fail('BAD_VKEY', 'the vkey key is not a strict Ed25519 public key');
  if (toHex(cosignerKeyId(name, publicKey)) !== id) return fail('BAD_VKEY', 'the vkey key id does not match its name and key');
  return { ok: true, name, publicKey };
};

export interface WitnessPolicy {
  readonly witnesses: readonly Witness[];
  /** How many of them must have cosigned (1 ≤ quorum ≤ witnesses). */
  readonly quorum: number;
}

export interface CosignatureCheck {
  /** Witnesses with a valid cosignature, in the policy's order, with the time each cosigned. */
  readonly signed: readonly { readonly name: string; readonly timestamp: number }[];
  /** Witnesses of the policy without one. */
  readonly missing: readonly string[];
}

/**
 * The witnesses of `policy` that validly cosigned `note` (a checkpoint note with its signature
 * lines), and whether they reach the quorum. Never throws. `QUORUM_NOT_MET` names who signed
 * and who did not; `BAD_COSIGNATURE` a known witness's line that does not verify.
 */
export const checkCosignatures = (note: unknown, policy: WitnessPolicy, verify: VerifyFn = verifyPortable): LedgerResult<CosignatureCheck> => {
  if (!Number.isSafeInteger(policy.quorum) || policy.quorum < 1 || policy.quorum > policy.witnesses.length) {
    return fail('BAD_POLICY', `the quorum must be from 1 to the ${policy.witnesses.length} witnesses given`);
  }
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  const signed: { name: string; timestamp: number }[] = [];
  const missing: string[] = [];
  for (const w of policy.witnesses) {
    const id = cosignerKeyId(w.name, w.publicKey);
    const lines = parsed.signatures.filter((s) => s.name === w.name && bytesEqual(s.keyId, id));
    if (lines.length === 0) {
      missing.push(w.name);
      continue;
    }
    let timestamp = 0;
    for (const line of lines) {
      if (line.signature.length !== TIMESTAMP_BYTES + SIGNATURE_BYTES) return fail('BAD_COSIGNATURE', `a cosignature by ${w.name} has the wrong length`);
      const ts = new DataView(line.signature.buffer, line.signature.byteOffset, TIMESTAMP_BYTES).getBigUint64(0);
      if (ts === 0n || ts > BigInt(Number.MAX_SAFE_INTEGER)) return fail('BAD_COSIGNATURE', `a cosignature by ${w.name} has no usable timestamp`);
      const sig = toHex(line.signature.slice(TIMESTAMP_BYTES));
      if (!verify(w.publicKey, cosignedMessage(parsed.text, Number(ts)), sig)) return fail('BAD_COSIGNATURE', `a cosignature by ${w.name} does not verify`);
      timestamp = Math.max(timestamp, Number(ts));
    }
    signed.push({ name: w.name, timestamp });
  }
  if (signed.length < policy.quorum) {
    return fail(
      'QUORUM_NOT_MET',
      `${signed.length} of the ${policy.quorum} witness cosignatures required: signed by ${signed.map((s) => s.name).join(', ') || 'none'}; not by ${missing.join(', ')}`,
    );
  }
  return { ok: true, signed, missing };
};
