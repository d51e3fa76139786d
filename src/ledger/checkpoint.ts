import { parseBase64, toBase64 } from './base64.js';
import { isStrictPublicKey, publicKeyFromSeed, sign as signPortable, verify as verifyPortable } from './ed25519.js';
import { fail, LedgerError, type LedgerResult } from './errors.js';
import { bytesEqual, concatBytes, fromHex, isHex, parseHex, toHex } from './hex.js';
import { LEDGER_LIMITS } from './limits.js';
import { HASH_BYTES } from './merkle.js';
import { sha256 } from './sha256.js';
import { decodeUtf8Strict, hasLoneSurrogate, utf8 } from './utf8.js';

/**
 * docs/protocol.md §6 checkpoints: a C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint) in a C2SP
 * signed note (c2sp.org/signed-note@v1.0.0), signed by the node key.
 *
 *   rvl/<ledgerId>\n<size>\n<base64 root>\n\n— rvl/<ledgerId> <base64(key id ‖ signature)>\n
 *
 * Parsing follows signed-note: valid UTF-8, no control characters but newline, text ending in a
 * newline, then a blank line, then one or more lines "— <name> <base64>" (the last blank line
 * separates text and signatures). Signature lines of unknown keys (other name or key id) are
 * ignored; if a line of our key fails to verify the whole note is refused (signed-note: SHOULD).
 * Checkpoint extension lines after the root are accepted and returned, as tlog-checkpoint allows;
 * our signer never writes them.
 */

/** c2sp.org/signed-note: a signature line starts with U+2014 EM DASH and a space. */
const SIGNATURE_LINE_PREFIX = '\u2014 ';
/** c2sp.org/signed-note "Signature types": 0x01 is Ed25519. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** c2sp.org/signed-note: the key id is the first 4 bytes of SHA-256(name ‖ 0x0A ‖ type ‖ key). */
const KEY_ID_SEPARATOR = 0x0a;
export const KEY_ID_BYTES = 4;
const ED25519_SIGNATURE_BYTES = 64;

/** docs/protocol.md §6: the origin line and the key name are `rvl/<ledgerId>`. */
export const CHECKPOINT_ORIGIN_PREFIX = 'rvl/';
export const checkpointOrigin = (ledgerId: string): string => `${CHECKPOINT_ORIGIN_PREFIX}${ledgerId}`;

/** c2sp.org/signed-note: control characters below U+0020 other than newline are forbidden. */
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/u;
/** c2sp.org/signed-note: key names are non-empty, with no Unicode spaces and no '+'. */
const BAD_KEY_NAME_CHAR = /[\p{White_Space}+]/u;

/** Whether `name` is a signed-note key name (non-empty, no spaces, no '+', well-formed UTF-16). */
export const isKeyName = (name: string): boolean => name.length > 0 && !BAD_KEY_NAME_CHAR.test(name) && !hasLoneSurrogate(name);
/** c2sp.org/tlog-checkpoint: ASCII decimal, no leading zeroes (except "0"). */
const SIZE_PATTERN = /^(?:0|[1-9][0-9]{0,15})$/;

export interface CheckpointInput {
  readonly ledgerId: string;
  readonly size: number;
  /** The Merkle root: 32 bytes, or 64 lowercase hex chars. */
  readonly root: Uint8Array | string;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The signature bytes after the key id. */
  readonly signature: Uint8Array;
}

export interface ParsedNote {
  /** Note text including its final newline, excluding the blank separator line. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

export interface CheckpointBody {
  readonly origin: string;
  readonly size: number;
  /** Hex. */
  readonly root: string;
  readonly extensions: readonly string[];
}

/** key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)[:4]. */
export const keyId = (name: string, publicKeyHex: string): Uint8Array =>
  sha256(utf8(name), Uint8Array.of(KEY_ID_SEPARATOR, SIGNATURE_TYPE_ED25519), fromHex(publicKeyHex, 32)).slice(0, KEY_ID_BYTES);

/** The note text of a checkpoint: origin, size and base64 root, each line ending in a newline. */
export const checkpointText = ({ ledgerId, size, root }: CheckpointInput): string => {
  if (!isHex(ledgerId, 32)) throw new LedgerError('BAD_HEX', 'ledger id must be 64 lowercase hex chars');
  if (!Number.isSafeInteger(size) || size < 0) throw new LedgerError('BAD_SIZE', 'size must be a safe non-negative integer');
  const rootBytes = typeof root === 'string' ? parseHex(root, HASH_BYTES) : root;
  if (!(rootBytes instanceof Uint8Array) || rootBytes.length !== HASH_BYTES) {
    throw new LedgerError('BAD_HASH', 'root must be a 32-byte hash');
  }
  return `${checkpointOrigin(ledgerId)}\n${size}\n${toBase64(rootBytes)}\n`;
};

/** Signs `msg` with a hex seed, returning a hex signature (`sign` or `signNode`). */
export type SignFn = (seedHex: string, msg: Uint8Array) => string;
/** The same off the calling thread (`signNodeAsync`). */
export type AsyncSignFn = (seedHex: string, msg: Uint8Array) => Promise<string>;
/** Verifies a hex signature by a hex key (`verify` or `verifyNode`). */
export type VerifyFn = (publicKeyHex: string, msg: Uint8Array, sigHex: string) => boolean;

/** The bytes a note's signature covers, after checking the text and the key name. */
const noteMessage = (text: string, name: string): Uint8Array => {
  if (!text.endsWith('\n') || hasLoneSurrogate(text) || FORBIDDEN_CONTROL.test(text)) {
    throw new LedgerError('BAD_NOTE', 'note text must be well-formed, end in a newline and have no control characters');
  }
  if (!isKeyName(name)) {
    throw new LedgerError('BAD_NOTE', 'key name must be non-empty, without spaces or "+"');
  }
  return utf8(text);
};

/** The signed note: the text, a blank line, and the signature line (key id ‖ signature). */
const withSignatureLine = (text: string, name: string, publicKeyHex: string, sigHex: string): string => {
  const signature = fromHex(sigHex, ED25519_SIGNATURE_BYTES);
  const id = keyId(name, publicKeyHex);
  return `${text}\n${SIGNATURE_LINE_PREFIX}${name} ${toBase64(concatBytes(id, signature))}\n`;
};

/**
 * c2sp.org/signed-note: `text` (ending in a newline) plus one Ed25519 signature line by `name`.
 * `publicKeyHex` (for the key id) defaults to the seed's public key; pass it to save the
 * derivation when signing often.
 */
export const signNote = (
  text: string,
  name: string,
  seedHex: string,
  signFn: SignFn = signPortable,
  publicKeyHex: string = publicKeyFromSeed(seedHex),
): string => withSignatureLine(text, name, publicKeyHex, signFn(seedHex, noteMessage(text, name)));

/** The signed note of a checkpoint, signed with the node key's seed; key name = origin. */
export const signCheckpoint = (
  checkpoint: CheckpointInput,
  seedHex: string,
  signFn: SignFn = signPortable,
  publicKeyHex: string = publicKeyFromSeed(seedHex),
): string => signNote(checkpointText(checkpoint), checkpointOrigin(checkpoint.ledgerId), seedHex, signFn, publicKeyHex);

/** `signCheckpoint` with the signing itself off the calling thread; the same note. */
export const signCheckpointAsync = async (checkpoint: CheckpointInput, seedHex: string, signFn: AsyncSignFn, publicKeyHex: string): Promise<string> => {
  const text = checkpointText(checkpoint);
  const name = checkpointOrigin(checkpoint.ledgerId);
  return withSignatureLine(text, name, publicKeyHex, await signFn(seedHex, noteMessage(text, name)));
};

const toNoteString = (note: unknown): string | undefined => {
  if (note instanceof Uint8Array) {
    return note.length > LEDGER_LIMITS.noteBytesMax ? undefined : decodeUtf8Strict(note);
  }
  if (typeof note !== 'string' || note.length > LEDGER_LIMITS.noteBytesMax || hasLoneSurrogate(note)) return undefined;
  return utf8(note).length > LEDGER_LIMITS.noteBytesMax ? undefined : note;
};

/** Splits a C2SP signed note into its text and signature lines. Never throws. */
export const parseNote = (note: unknown): LedgerResult<ParsedNote> => {
  const s = toNoteString(note);
  if (s === undefined) {
    return fail('BAD_NOTE', `note is not valid UTF-8 of at most ${LEDGER_LIMITS.noteBytesMax} bytes`);
  }
  if (FORBIDDEN_CONTROL.test(s)) return fail('BAD_NOTE', 'note has a control character other than newline');
  if (!s.endsWith('\n')) return fail('BAD_NOTE', 'note does not end with a newline');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) return fail('BAD_NOTE', 'note has no blank line before its signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0) return fail('BAD_NOTE', 'note has no signature lines');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > LEDGER_LIMITS.noteSignaturesMax) {
    return fail('BAD_NOTE', `note has more than ${LEDGER_LIMITS.noteSignaturesMax} signature lines`);
  }
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(SIGNATURE_LINE_PREFIX)) return fail('BAD_NOTE', 'signature line does not start with "— "');
    const rest = line.slice(SIGNATURE_LINE_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, Math.max(space, 0));
    if (space <= 0 || BAD_KEY_NAME_CHAR.test(name)) return fail('BAD_NOTE', 'signature line has a bad key name');
    const bytes = parseBase64(rest.slice(space + 1));
    if (bytes === undefined || bytes.length <= KEY_ID_BYTES) {
      return fail('BAD_NOTE', 'signature is not canonical base64 of a key id and a signature');
    }
    signatures.push({ name, keyId: bytes.slice(0, KEY_ID_BYTES), signature: bytes.slice(KEY_ID_BYTES) });
  }
  return { ok: true, text, signatures };
};

/** Parses a tlog-checkpoint note text (origin, size, root, extension lines). Never throws. */
export const parseCheckpointText = (text: string): LedgerResult<CheckpointBody> => {
  if (!text.endsWith('\n')) return fail('BAD_CHECKPOINT', 'checkpoint text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) {
    return fail('BAD_CHECKPOINT', 'checkpoint needs origin, size and root lines');
  }
  if (origin.length === 0) return fail('BAD_CHECKPOINT', 'origin is empty');
  if (!SIZE_PATTERN.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    return fail('BAD_CHECKPOINT', 'size is not a canonical decimal safe integer');
  }
  const root = parseBase64(rootLine);
  if (root === undefined || root.length !== HASH_BYTES) {
    return fail('BAD_CHECKPOINT', 'root is not canonical base64 of 32 bytes');
  }
  if (extensions.some((line) => line.length === 0)) return fail('BAD_CHECKPOINT', 'extension lines must be non-empty');
  return { ok: true, origin, size: Number(sizeLine), root: toHex(root), extensions };
};

/** Parses a checkpoint note WITHOUT verifying any signature (for display and diagnosis). */
export const parseCheckpoint = (note: unknown): LedgerResult<CheckpointBody & ParsedNote> => {
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  const body = parseCheckpointText(parsed.text);
  if (!body.ok) return body;
  return { ...body, text: parsed.text, signatures: parsed.signatures };
};

export interface NoteKey {
  /** Key name (for checkpoints: the origin). */
  readonly name: string;
  /** Ed25519 public key, hex. */
  readonly publicKey: string;
  /** Defaults to the portable verifier; the service may pass `verifyNode`. */
  readonly verify?: VerifyFn;
}

/**
 * c2sp.org/signed-note verification against one known Ed25519 key: at least one signature line
 * with its name and key id, and every such line valid. Lines of other keys are ignored.
 * Returns the verified text. Untrusted input; never throws.
 */
export const verifyNote = (note: unknown, { name, publicKey, verify = verifyPortable }: NoteKey): LedgerResult<{ text: string }> => {
  if (!isStrictPublicKey(publicKey)) return fail('BAD_KEY', 'key is not a strict Ed25519 public key');
  const parsed = parseNote(note);
  if (!parsed.ok) return parsed;
  const id = keyId(name, publicKey);
  const ours = parsed.signatures.filter((s) => s.name === name && bytesEqual(s.keyId, id));
  if (ours.length === 0) return fail('UNKNOWN_KEY', `no signature by the key ${name}`);
  const message = utf8(parsed.text);
  for (const s of ours) {
    if (s.signature.length !== ED25519_SIGNATURE_BYTES || !verify(publicKey, message, toHex(s.signature))) {
      return fail('BAD_SIGNATURE', `a signature by the key ${name} does not verify`);
    }
  }
  return { ok: true, text: parsed.text };
};

export interface CheckpointTrust {
  readonly ledgerId: string;
  /** The node key from genesis (hex). */
  readonly nodePublicKey: string;
  /** Defaults to the portable verifier; the service may pass `verifyNode`. */
  readonly verify?: VerifyFn;
}

/**
 * Verifies a checkpoint note against the node key of ledger `ledgerId` (the key name is
 * `rvl/<ledgerId>`), then parses the verified text as a checkpoint of this ledger.
 * Untrusted input; never throws.
 */
export const verifyCheckpoint = (
  note: unknown,
  { ledgerId, nodePublicKey, verify }: CheckpointTrust,
): LedgerResult<{ size: number; root: string; extensions: readonly string[] }> => {
  if (!isHex(ledgerId, 32)) return fail('BAD_HEX', 'ledger id must be 64 lowercase hex chars');
  const name = checkpointOrigin(ledgerId);
  const verified = verifyNote(note, { name, publicKey: nodePublicKey, ...(verify ? { verify } : {}) });
  if (!verified.ok) return verified;
  const body = parseCheckpointText(verified.text);
  if (!body.ok) return body;
  if (body.origin !== name) return fail('ORIGIN_MISMATCH', `checkpoint origin is not ${name}`);
  return { ok: true, size: body.size, root: body.root, extensions: body.extensions };
};
