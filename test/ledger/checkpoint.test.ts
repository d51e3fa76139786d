import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBase64, toBase64 } from '../../src/ledger/base64.js';
import { checkpointText, keyId, parseCheckpoint, parseNote, signCheckpoint, signNote, verifyCheckpoint, verifyNote } from '../../src/ledger/checkpoint.js';
import { signNode, verifyNode } from '../../src/ledger/node/ed25519-node.js';
import { publicKeyFromSeed } from '../../src/ledger/ed25519.js';
import { concatBytes, fromHex, toHex } from '../../src/ledger/hex.js';
import { EMPTY_ROOT } from '../../src/ledger/merkle.js';
import { expectLedgerError, flipBit, loadVectors } from './helpers.js';

interface SignedNoteVectors {
  goNote: { verifierKey: string; signerKey: string; name: string; keyId: string; text: string; note: string };
  signedNoteExample: { note: string; text: string; name: string };
  checkpointExample: { note: string; origin: string; size: number; rootBase64: string };
}
const SN = loadVectors<SignedNoteVectors>('c2sp-signed-note.json');
const { tests: rfc8032 } = loadVectors<{ tests: Array<{ secretKey: string; publicKey: string }> }>('rfc8032.json');

const SEED = rfc8032[0]!.secretKey; // RFC 8032 TEST 1
const NODE_KEY = rfc8032[0]!.publicKey;
const OTHER_SEED = rfc8032[1]!.secretKey;
const LEDGER_ID = '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4';
const ROOT = '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328';
const NAME = `rvl/${LEDGER_ID}`;
const trust = { ledgerId: LEDGER_ID, nodePublicKey: NODE_KEY };
const fast = { ...trust, verify: verifyNode };

/**
 * Frozen output of signCheckpoint({LEDGER_ID, size 8, ROOT}) with the RFC 8032 TEST 1 seed: a
 * known answer for implementations in other languages (it equals the independent construction).
 */
const KNOWN_NOTE =
  'rvl/4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4\n' +
  '8\n' +
  'XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n' +
  '\n' +
  '\u2014 rvl/4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4 ' +
  '/6cExD04W6vXl7EAu5LgiVjCd/YdM2v8G/bcUgnAL8hueCFCeMMiDON4kAxy90plk8XxqqmlOqpamjrhL2HElUzjlwg=\n';

const note = signCheckpoint({ ledgerId: LEDGER_ID, size: 8, root: ROOT }, SEED);

describe('checkpoint notes (docs/protocol.md §6, C2SP tlog-checkpoint + signed-note)', () => {
  it('matches a note assembled independently with node:crypto and Buffer', () => {
    const text = `${NAME}\n8\n${Buffer.from(ROOT, 'hex').toString('base64')}\n`;
    const id = createHash('sha256')
      .update(Buffer.concat([Buffer.from(NAME), Buffer.from([0x0a, 0x01]), Buffer.from(NODE_KEY, 'hex')]))
      .digest()
      .subarray(0, 4);
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(SEED, 'hex')]);
    const sig = nodeSign(null, Buffer.from(text), createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    const expected = `${text}\n\u2014 ${NAME} ${Buffer.concat([id, sig]).toString('base64')}\n`;
    expect(note).toBe(expected);
    expect(signCheckpoint({ ledgerId: LEDGER_ID, size: 8, root: fromHex(ROOT) }, SEED, signNode)).toBe(expected);
    expect(signCheckpoint({ ledgerId: LEDGER_ID, size: 8, root: ROOT }, SEED, signNode, NODE_KEY)).toBe(expected);
  });

  it('matches the frozen known answer', () => {
    expect(note).toBe(KNOWN_NOTE);
    const sigB64 = KNOWN_NOTE.trimEnd().split(' ').at(-1)!;
    expect(toHex(parseBase64(sigB64)!.subarray(0, 4))).toBe(toHex(keyId(NAME, NODE_KEY)));
    expect(verifyCheckpoint(KNOWN_NOTE, trust)).toMatchObject({ ok: true, size: 8, root: ROOT });
  });

  it('round trip: verifies under the node key, with both verifiers', () => {
    const expected = { ok: true, size: 8, root: ROOT, extensions: [] };
    expect(verifyCheckpoint(note, trust)).toEqual(expected);
    expect(verifyCheckpoint(note, fast)).toEqual(expected);
    expect(verifyCheckpoint(new TextEncoder().encode(note), trust)).toEqual(expected);
    const empty = signCheckpoint({ ledgerId: LEDGER_ID, size: 0, root: EMPTY_ROOT }, SEED);
    expect(verifyCheckpoint(empty, trust)).toEqual({ ok: true, size: 0, root: toHex(EMPTY_ROOT), extensions: [] });
  });

  it('checkpointText refuses bad input with coded errors', () => {
    expect(checkpointText({ ledgerId: LEDGER_ID, size: 8, root: ROOT })).toBe(`${NAME}\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n`);
    expectLedgerError(() => checkpointText({ ledgerId: LEDGER_ID.toUpperCase(), size: 8, root: ROOT }), 'BAD_HEX');
    expectLedgerError(() => checkpointText({ ledgerId: LEDGER_ID, size: -1, root: ROOT }), 'BAD_SIZE');
    expectLedgerError(() => checkpointText({ ledgerId: LEDGER_ID, size: 1.5, root: ROOT }), 'BAD_SIZE');
    expectLedgerError(() => checkpointText({ ledgerId: LEDGER_ID, size: 8, root: ROOT.slice(2) }), 'BAD_HASH');
  });
});

describe('published signed-note vectors', () => {
  const b64Tail = (key: string, skip: number): Uint8Array => parseBase64(key.split('+').slice(skip).join('+'))!;
  const goSeed = toHex(b64Tail(SN.goNote.signerKey, 4).subarray(1));
  const goPub = toHex(b64Tail(SN.goNote.verifierKey, 2).subarray(1));

  it('golang.org/x/mod/sumdb/note: key id, and the note reproduced byte for byte', () => {
    expect(publicKeyFromSeed(goSeed)).toBe(goPub);
    expect(toHex(keyId(SN.goNote.name, goPub))).toBe(SN.goNote.keyId);
    expect(signNote(SN.goNote.text, SN.goNote.name, goSeed)).toBe(SN.goNote.note);
    expect(signNote(SN.goNote.text, SN.goNote.name, goSeed, signNode)).toBe(SN.goNote.note);
  });

  it('golang.org/x/mod/sumdb/note: verifies, and a changed text does not', () => {
    const key = { name: SN.goNote.name, publicKey: goPub };
    expect(verifyNote(SN.goNote.note, key)).toEqual({ ok: true, text: SN.goNote.text });
    expect(verifyNote(SN.goNote.note.replace('cryptography', 'cryptographY'), key)).toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(verifyNote(SN.goNote.note, { name: 'PeterNeumann2', publicKey: goPub })).toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('c2sp.org/signed-note example: the text keeps its inner blank line', () => {
    const parsed = parseNote(SN.signedNoteExample.note);
    expect(parsed).toMatchObject({ ok: true, text: SN.signedNoteExample.text });
    expect(parsed.ok && parsed.signatures.map((s) => [s.name, s.signature.length])).toEqual([[SN.signedNoteExample.name, 64]]);
  });

  it('c2sp.org/tlog-checkpoint example: origin, size and root', () => {
    expect(parseCheckpoint(SN.checkpointExample.note)).toMatchObject({
      ok: true,
      origin: SN.checkpointExample.origin,
      size: SN.checkpointExample.size,
      root: toHex(parseBase64(SN.checkpointExample.rootBase64)!),
      extensions: [],
    });
    expect(verifyCheckpoint(SN.checkpointExample.note, trust)).toMatchObject({ code: 'UNKNOWN_KEY' });
  });
});

describe('unknown signatures are ignored; our key must sign, and validly', () => {
  const sigLines = (n: string): string[] =>
    n
      .slice(n.lastIndexOf('\n\n') + 2)
      .trimEnd()
      .split('\n');
  const textOf = (n: string): string => n.slice(0, n.lastIndexOf('\n\n') + 1);
  const witness = signNote(textOf(note), 'witness.example/w1', OTHER_SEED).split('\n').at(-2)!;
  const sameNameOtherKey = signNote(textOf(note), NAME, OTHER_SEED).split('\n').at(-2)!;

  it('cosignature lines of other keys, before or after ours, are ignored', () => {
    const ours = sigLines(note)[0]!;
    for (const lines of [
      [witness, ours],
      [ours, witness],
      [sameNameOtherKey, ours, witness],
    ]) {
      expect(verifyCheckpoint(`${textOf(note)}\n${lines.join('\n')}\n`, trust)).toMatchObject({ ok: true, size: 8 });
    }
  });

  it('without a line of our key (name and key id) the note is UNKNOWN_KEY', () => {
    expect(verifyCheckpoint(`${textOf(note)}\n${witness}\n${sameNameOtherKey}\n`, trust)).toMatchObject({ code: 'UNKNOWN_KEY' });
    expect(verifyCheckpoint(note, { ...trust, nodePublicKey: rfc8032[1]!.publicKey })).toMatchObject({ code: 'UNKNOWN_KEY' });
    expect(verifyCheckpoint(note, { ...trust, ledgerId: ROOT })).toMatchObject({ code: 'UNKNOWN_KEY' });
  });

  it('a second, invalid line of our key refuses the whole note', () => {
    const ours = sigLines(note)[0]!;
    const bytes = parseBase64(ours.split(' ').at(-1))!;
    const broken = `\u2014 ${NAME} ${toBase64(flipBit(bytes, 100))}`;
    expect(verifyCheckpoint(`${textOf(note)}\n${ours}\n${broken}\n`, trust)).toMatchObject({ code: 'BAD_SIGNATURE' });
    const short = `\u2014 ${NAME} ${toBase64(concatBytes(bytes.subarray(0, 4), bytes.subarray(4, 40)))}`;
    expect(verifyCheckpoint(`${textOf(note)}\n${short}\n`, trust)).toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  it('a node key that is not strict is BAD_KEY; a bad ledger id is BAD_HEX', () => {
    expect(verifyCheckpoint(note, { ...trust, nodePublicKey: '01' + '00'.repeat(31) })).toMatchObject({ code: 'BAD_KEY' });
    // NODE_KEY plus a point of order 8: a mixed-order key.
    const mixed = '9158312a9a8d6e3b34c891d6d61444f8b8211c5117ebad15bdb0bd68b07e0245';
    for (const verify of [undefined, verifyNode]) {
      expect(verifyCheckpoint(note, { ...trust, nodePublicKey: mixed, ...(verify ? { verify } : {}) })).toMatchObject({ code: 'BAD_KEY' });
    }
    expect(verifyCheckpoint(note, { ...trust, ledgerId: 'xyz' })).toMatchObject({ code: 'BAD_HEX' });
  });

  it('a validly signed note with another origin is ORIGIN_MISMATCH', () => {
    const other = signNote(`rvl/${ROOT}\n8\n${toBase64(fromHex(ROOT))}\n`, NAME, SEED);
    expect(verifyCheckpoint(other, trust)).toMatchObject({ code: 'ORIGIN_MISMATCH' });
  });

  it('extension lines are accepted and returned (C2SP allows them; our signer never writes them)', () => {
    const text = `${checkpointText({ ledgerId: LEDGER_ID, size: 8, root: ROOT })}ext one\next two\n`;
    expect(verifyCheckpoint(signNote(text, NAME, SEED), trust)).toEqual({ ok: true, size: 8, root: ROOT, extensions: ['ext one', 'ext two'] });
  });
});

describe('every single-bit change fails', () => {
  const bytes = new TextEncoder().encode(note);
  const sigStart = note.lastIndexOf(' ') + 1;

  it('every bit of the whole note (as bytes), node verifier', () => {
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      expect(verifyCheckpoint(flipBit(bytes, bit), fast).ok, `bit ${bit}`).toBe(false);
    }
  });

  it('every bit of the decoded key id and signature: UNKNOWN_KEY or BAD_SIGNATURE (portable: one bit a byte)', () => {
    const raw = parseBase64(note.slice(sigStart, -1))!;
    const head = note.slice(0, sigStart);
    for (let bit = 0; bit < raw.length * 8; bit++) {
      const changed = `${head}${toBase64(flipBit(raw, bit))}\n`;
      const code = bit < 32 ? 'UNKNOWN_KEY' : 'BAD_SIGNATURE';
      expect(verifyCheckpoint(changed, fast)).toMatchObject({ code });
      if (bit % 9 === 0) expect(verifyCheckpoint(changed, trust)).toMatchObject({ code });
    }
  });

  it('every bit of the body text (as a string), portable verifier on a sample', () => {
    const text = note.slice(0, note.lastIndexOf('\n\n') + 1);
    const tail = note.slice(text.length);
    const textBytes = new TextEncoder().encode(text);
    for (let bit = 0; bit < textBytes.length * 8; bit++) {
      const changed = new TextDecoder().decode(flipBit(textBytes, bit)) + tail;
      expect(verifyCheckpoint(changed, fast).ok).toBe(false);
      if (bit % 17 === 0) expect(verifyCheckpoint(changed, trust).ok).toBe(false);
    }
  });
});

describe('malformed notes are refused with codes', () => {
  const [text, sigLine] = [note.slice(0, note.lastIndexOf('\n\n') + 1), note.slice(note.lastIndexOf('\n\n') + 2, -1)];
  const withText = (t: string): string => signNote(t, NAME, SEED);
  const rootB64 = toBase64(fromHex(ROOT));
  const cases: Array<[string, unknown, string]> = [
    ['no blank line', `${text}${sigLine}\n`, 'BAD_NOTE'],
    ['no final newline', note.slice(0, -1), 'BAD_NOTE'],
    ['CRLF line ends', note.replaceAll('\n', '\r\n'), 'BAD_NOTE'],
    ['a tab', note.replace('\n8\n', '\n8\t\n'), 'BAD_NOTE'],
    ['a NUL', `\u0000${note}`, 'BAD_NOTE'],
    ['no signature lines', `${text}\n`, 'BAD_NOTE'],
    ['hyphen instead of em dash', note.replace('\u2014 ', '- '), 'BAD_NOTE'],
    ['en dash instead of em dash', note.replace('\u2014 ', '\u2013 '), 'BAD_NOTE'],
    ['no space after the dash', note.replace('\u2014 ', '\u2014'), 'BAD_NOTE'],
    ['empty key name', `${text}\n\u2014  ${sigLine.split(' ').at(-1)}\n`, 'BAD_NOTE'],
    ['"+" in the key name', note.replace(`\u2014 ${NAME}`, `\u2014 ${NAME}+x`), 'BAD_NOTE'],
    ['no-break space in the key name', note.replace(`\u2014 ${NAME}`, `\u2014 rvl/\u00a0x`), 'BAD_NOTE'],
    ['base64 without padding', note.replace(/=\n$/, '\n'), 'BAD_NOTE'],
    ['url-safe base64', note.replace(/[+/]/g, '-'), 'BAD_NOTE'],
    ['signature of only a key id', `${text}\n\u2014 ${NAME} ${toBase64(new Uint8Array(4))}\n`, 'BAD_NOTE'],
    // The last blank line separates: the first signature line becomes part of the (changed) text.
    ['blank line among signatures', `${text}\n${sigLine}\n\n${sigLine}\n`, 'BAD_SIGNATURE'],
    ['over 100 signature lines', `${text}\n${`${sigLine}\n`.repeat(101)}`, 'BAD_NOTE'],
    ['over 64 KiB', `${text}\n${`${sigLine}\n`.repeat(50)}${'x'.repeat(64 * 1024)}\n`, 'BAD_NOTE'],
    ['invalid UTF-8', Uint8Array.of(...new TextEncoder().encode(note.slice(0, 10)), 0xff, ...new TextEncoder().encode(note.slice(10))), 'BAD_NOTE'],
    ['a lone surrogate', `${note.slice(0, 5)}\ud800${note.slice(5)}`, 'BAD_NOTE'],
    ['not a string', 42, 'BAD_NOTE'],
    ['size with a leading zero', withText(`${NAME}\n08\n${rootB64}\n`), 'BAD_CHECKPOINT'],
    ['negative size', withText(`${NAME}\n-1\n${rootB64}\n`), 'BAD_CHECKPOINT'],
    ['size with a plus sign', withText(`${NAME}\n+8\n${rootB64}\n`), 'BAD_CHECKPOINT'],
    ['decimal size', withText(`${NAME}\n8.0\n${rootB64}\n`), 'BAD_CHECKPOINT'],
    ['size past 2^53 − 1', withText(`${NAME}\n9007199254740992\n${rootB64}\n`), 'BAD_CHECKPOINT'],
    ['root of 31 bytes', withText(`${NAME}\n8\n${toBase64(new Uint8Array(31))}\n`), 'BAD_CHECKPOINT'],
    ['root in hex', withText(`${NAME}\n8\n${ROOT}\n`), 'BAD_CHECKPOINT'],
    ['no root line', withText(`${NAME}\n8\n`), 'BAD_CHECKPOINT'],
    ['empty extension line', withText(`${NAME}\n8\n${rootB64}\n\nx\n`), 'BAD_CHECKPOINT'],
    ['a BOM before the origin', `\ufeff${note}`, 'BAD_SIGNATURE'],
  ];
  it.each(cases.map(([name, input, code]) => ({ name, input, code })))('$name → $code', ({ input, code }) => {
    expect(verifyCheckpoint(input, fast)).toMatchObject({ ok: false, code });
  });

  it('signNote refuses texts and names that cannot be notes', () => {
    expectLedgerError(() => signNote('no newline', NAME, SEED), 'BAD_NOTE');
    expectLedgerError(() => signNote('a\r\n', NAME, SEED), 'BAD_NOTE');
    expectLedgerError(() => signNote('ok\n', 'has space', SEED), 'BAD_NOTE');
    expectLedgerError(() => signNote('ok\n', '', SEED), 'BAD_NOTE');
  });

  it('arbitrary input never throws (property)', () => {
    const noteChars = fc.constantFrom('\n', ' ', '\u2014', '+', '/', '=', 'A', 'a', '0', '8', 'r', 'v', 'l', '\r', '\ud800', '\u00a0');
    const arb = fc.oneof(
      fc.string(),
      fc.string({ unit: noteChars, maxLength: 200 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.anything(),
      fc.constantFrom(note).chain((n) => fc.tuple(fc.nat(n.length), fc.string({ maxLength: 3 })).map(([i, s]) => n.slice(0, i) + s + n.slice(i))),
    );
    fc.assert(
      fc.property(arb, (input) => {
        const results = [parseNote(input), parseCheckpoint(input), verifyCheckpoint(input, fast)];
        return results.every((r) => typeof r.ok === 'boolean');
      }),
      { numRuns: 500 },
    );
  });
});
