/**
 * Keys and parties: `keygen` writes a §3 key file (mode 0600, never over an existing file) and a
 * public file beside it for the operator, by default in the key folder outside the work tree; `party register` / `party update` are the operator's
 * ops; `party list` / `party show` read the register.
 */
import { existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { generateKeyFile, keyFileFromJson, keyFileText, partyRegister, partyUpdate, type Party } from '../../client/index.js';
import type { RegistrableRole } from '../../domain/types.js';
import { PATTERNS } from '../../domain/limits.js';
import type { Context } from '../context.js';
import { usageError } from '../errors.js';
import { readJson, writeNew } from '../files.js';
import { clean, keyValues } from '../format.js';
import { partyTable } from '../views.js';
import { report, submitSigned } from './ops.js';

/** `icbc-gz.key` → `icbc-gz.pub`; any other name gets `.pub` added. */
export const publicFileOf = (keyFile: string): string => (keyFile.endsWith('.key') ? `${keyFile.slice(0, -'.key'.length)}.pub` : `${keyFile}.pub`);

/**
 * Writes a new key pair: `--out FILE` (the public file beside it), else `<party>.key` and
 * `<party>.pub` in the key folder (`$RVL_KEY_DIR`, else `~/.rvl/keys`, created with mode 0700),
 * which keeps secret keys out of the working folder and so out of any repository.
 */
export const keygen = async (ctx: Context, o: { readonly party: string; readonly out?: string }): Promise<void> => {
  let file = o.out;
  if (file === undefined) {
    const dir = ctx.keyDir;
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    } catch {
      throw usageError(`cannot create the key folder ${dir}; choose where to write the key with --out FILE (or set RVL_KEY_DIR)`);
    }
    const folderMode = (await stat(dir)).mode & 0o777;
    if (process.platform !== 'win32' && (folderMode & 0o077) !== 0) {
      ctx.note(`rvl: warning: the key folder ${dir} can be opened by others (mode ${folderMode.toString(8)}); protect it with: chmod 700 ${dir}`);
    }
    file = path.join(dir, `${o.party}.key`);
  }
  const pubFile = publicFileOf(file);
  for (const f of [file, pubFile]) {
    if (existsSync(f)) throw usageError(`${f} already exists; rvl never overwrites a key (choose another --out, or move it away)`);
  }
  const key = generateKeyFile(o.party);
  await writeNew(file, keyFileText(key), 0o600);
  await writeNew(pubFile, `${JSON.stringify({ party: key.party, publicKey: key.publicKey })}\n`, 0o644);
  if (ctx.json) {
    ctx.emit({ party: key.party, publicKey: key.publicKey, keyFile: file, publicFile: pubFile });
    return;
  }
  // In the key folder a bare party id finds the key (rvl --key <party>); elsewhere, the path does.
  const keyArg = o.out === undefined ? key.party : file;
  ctx.out(
    keyValues([
      ['party', key.party],
      ['public key', key.publicKey],
      ['key file', `${file}  (secret, mode 0600: keep it safe and never send it to anyone)`],
      ['public file', `${pubFile}  (give this one to the ledger operator)`],
    ]) +
      `\nThe operator registers the party with:\n  rvl party register --key-file ${pubFile} --name "…" --role core|supplier|bank|auditor\n` +
      `Then sign and read as ${key.party} with:\n  rvl --key ${keyArg} …     (or: export RVL_KEY=${keyArg})\n`,
  );
};

/** The party and public key of a public file (`{party, publicKey}`) or of a full §3 key file. */
const publicKeyFromFile = async (file: string): Promise<{ party: string; publicKey: string }> => {
  const value = await readJson(file, 'key file');
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    if (Object.hasOwn(record, 'secretKey')) {
      try {
        const k = keyFileFromJson(value);
        return { party: k.party, publicKey: k.publicKey };
      } catch (err) {
        const e = err as { code?: string; detail?: string };
        throw usageError(`${file} is not a usable key file: ${e.code ?? 'BAD'}: ${e.detail ?? ''}`);
      }
    }
    const keys = Object.keys(record).sort();
    const { party, publicKey } = record;
    if (
      keys.join(',') === 'party,publicKey' &&
      typeof party === 'string' &&
      PATTERNS.partyId.test(party) &&
      typeof publicKey === 'string' &&
      PATTERNS.publicKey.test(publicKey)
    ) {
      return { party, publicKey };
    }
  }
  throw usageError(`${file} is neither a public file {"party","publicKey"} nor a key file`);
};

export interface RegisterOptions {
  readonly id?: string;
  readonly name: string;
  readonly role: RegistrableRole;
  readonly publicKey?: string;
  readonly keyFile?: string;
}

export const register = async (ctx: Context, o: RegisterOptions): Promise<void> => {
  if ((o.publicKey === undefined) === (o.keyFile === undefined))
    throw usageError('give the party’s key with exactly one of --public-key HEX or --key-file FILE');
  let id = o.id;
  let publicKey = o.publicKey;
  if (o.keyFile !== undefined) {
    const fromFile = await publicKeyFromFile(o.keyFile);
    if (id !== undefined && id !== fromFile.party) throw usageError(`--id is ${id} but ${o.keyFile} is the key of ${fromFile.party}`);
    id = fromFile.party;
    publicKey = fromFile.publicKey;
  }
  if (id === undefined) throw usageError('give the party id with --id (or a --key-file that names it)');
  const operator = await ctx.key('party register');
  const { ledgerId } = await ctx.ledger();
  const expiresAt = ctx.expiresAt();
  const payload = partyRegister({ ledger: ledgerId, ...(expiresAt ? { expiresAt } : {}), party: { id, name: o.name, role: o.role, publicKey: publicKey! } });
  const receipt = await submitSigned(ctx, payload, [operator]);
  report(
    ctx,
    receipt,
    payload.type,
    receipt.duplicate
      ? []
      : [`Registered ${id} as ${o.role}. It signs with its key file; reads need it too (rvl --key ${id} …, for ${id}.key in the key folder).`],
  );
};

export interface UpdateOptions {
  readonly publicKey?: string;
  readonly keyFile?: string;
  readonly status?: 'active' | 'suspended';
}

export const update = async (ctx: Context, partyId: string, o: UpdateOptions): Promise<void> => {
  if (o.publicKey !== undefined && o.keyFile !== undefined) throw usageError('give the new key with --public-key or --key-file, not both');
  let publicKey = o.publicKey;
  if (o.keyFile !== undefined) {
    const fromFile = await publicKeyFromFile(o.keyFile);
    if (fromFile.party !== partyId) throw usageError(`${o.keyFile} is the key of ${fromFile.party}, not ${partyId}`);
    publicKey = fromFile.publicKey;
  }
  if (publicKey === undefined && o.status === undefined)
    throw usageError('say what changes: --public-key HEX, --key-file FILE and/or --status active|suspended');
  const operator = await ctx.key('party update');
  const { ledgerId } = await ctx.ledger();
  const expiresAt = ctx.expiresAt();
  const payload = partyUpdate({
    ledger: ledgerId,
    ...(expiresAt ? { expiresAt } : {}),
    partyId,
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(o.status === undefined ? {} : { status: o.status }),
  });
  const receipt = await submitSigned(ctx, payload, [operator]);
  report(ctx, receipt, payload.type);
};

export const list = async (ctx: Context): Promise<void> => {
  const client = await ctx.client(true);
  const parties: Party[] = [];
  for await (const p of client.parties({ limit: 1000 })) parties.push(p);
  if (ctx.json) {
    ctx.emit({ items: parties });
    return;
  }
  ctx.out(parties.length === 0 ? 'no parties\n' : partyTable(parties));
};

export const show = async (ctx: Context, partyId: string): Promise<void> => {
  const client = await ctx.client(true);
  const p = await client.party(partyId);
  if (ctx.json) {
    ctx.emit(p);
    return;
  }
  ctx.out(
    keyValues([
      ['party', clean(p.id)],
      ['name', clean(p.name)],
      ['role', clean(p.role)],
      ['status', clean(p.status)],
      ['public key', clean(p.publicKey)],
    ]),
  );
};
