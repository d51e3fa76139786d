import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSeed, publicKeyFromSeed, sign, verify } from '../../src/ledger/ed25519.js';
import { KeyFileError, newKeyFile, readKeyFile, writeKeyFile } from '../../src/service/keyfile.js';
import { tempDir } from '../support/service-process.js';

describe('key files (§3), as the service reads and writes them', () => {
  it('a new key file holds a pair that @noble agrees with, and reads back unchanged with mode 0600', async () => {
    const key = newKeyFile('node');
    expect(key.publicKey).toBe(publicKeyFromSeed(key.secretKey));
    const msg = new TextEncoder().encode('checkpoint');
    expect(verify(key.publicKey, msg, sign(key.secretKey, msg))).toBe(true);

    const file = path.join(await tempDir('rvl-keyfile-'), 'node.key');
    await writeKeyFile(file, key);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readKeyFile(file)).toEqual(key);
  });

  it('a public key that does not belong to the seed is refused', async () => {
    const key = newKeyFile('node');
    const other = generateSeed();
    const file = path.join(await tempDir('rvl-keyfile-'), 'node.key');
    await writeFile(file, JSON.stringify({ ...key, publicKey: publicKeyFromSeed(other) }), { mode: 0o600 });
    await expect(readKeyFile(file)).rejects.toThrow(KeyFileError);
    await expect(readKeyFile(file)).rejects.toThrow(/publicKey does not belong to secretKey/);
  });

  it('a file that is not a key file is refused with a KeyFileError, not a crash', async () => {
    const dir = await tempDir('rvl-keyfile-');
    const key = newKeyFile('node');
    const cases: Record<string, string> = {
      'not-json': '{"party":',
      null: 'null',
      'upper-hex': JSON.stringify({ ...key, secretKey: key.secretKey.toUpperCase() }),
      'short-seed': JSON.stringify({ ...key, secretKey: key.secretKey.slice(2) }),
      'no-party': JSON.stringify({ publicKey: key.publicKey, secretKey: key.secretKey }),
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = path.join(dir, `${name}.key`);
      await writeFile(file, text, { mode: 0o600 });
      await expect(readKeyFile(file), name).rejects.toThrow(KeyFileError);
    }
    await expect(readKeyFile(path.join(dir, 'missing.key'))).rejects.toThrow(KeyFileError);
    // The secret never appears in the message.
    const wrong = path.join(dir, 'wrong.key');
    await writeFile(wrong, JSON.stringify({ ...key, publicKey: publicKeyFromSeed(generateSeed()) }), { mode: 0o600 });
    const err = await readKeyFile(wrong).catch((e: unknown) => e as Error);
    expect(String(err)).not.toContain(key.secretKey);
    expect(await readFile(wrong, 'utf8')).toContain(key.secretKey);
  });
});
