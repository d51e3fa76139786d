/**
 * `rvl witness init|add-log|serve` (docs/protocol.md §11.3): a witness that a bank, an auditor or
 * a regulator runs on its own machine. `init` makes its key and prints its verifier key (vkey)
 * for the ledger operator and the banks that will require its cosignature; `add-log` trusts a
 * ledger by its id, taking the node key from a genesis entry that must hash to that id; `serve`
 * answers C2SP tlog-witness `add-checkpoint` until SIGTERM or SIGINT.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { genesisOf } from '../../client/genesis.js';
import { witnessVkey } from '../../ledger/cosignature.js';
import { entryHashOfText } from '../../ledger/entry.js';
import { toHex } from '../../ledger/hex.js';
import { canonicalize } from '../../ledger/jcs.js';
import { witnessServer } from '../../witness/server.js';
import { addLog, initWitness, readWitness, WitnessState } from '../../witness/witness.js';
import type { Context } from '../context.js';
import { refusedError, usageError } from '../errors.js';
import type { Entry } from '../../ledger/entry.js';

export const init = async (ctx: Context, o: { readonly dir: string; readonly name: string }): Promise<void> => {
  const me = await initWitness(o.dir, o.name).catch((err: unknown) => {
    throw usageError(err instanceof Error ? err.message : String(err));
  });
  const vkey = witnessVkey(me);
  if (ctx.json) return ctx.emit({ name: me.name, publicKey: me.publicKey, vkey });
  ctx.out(vkey);
  ctx.note(
    `\n见证方密钥已生成 witness key made in ${o.dir}/witness.key (0600; keep it on this machine only).\n` +
      'Give the line above (its verifier key) to the ledger operator and to the banks that will require your cosignature.\n',
  );
};

/** The genesis entry: from a file (its JSON), or entry 0 read from the ledger with your key. */
const genesisEntry = async (ctx: Context, file: string | undefined): Promise<Entry> => {
  if (file !== undefined) {
    const value = JSON.parse(await readFile(file, 'utf8')) as { entry?: Entry } & Entry;
    return value.entry ?? value;
  }
  if (!ctx.hasKey)
    throw usageError('add-log needs the genesis entry: --genesis FILE (from the operator), or --key with an operator or auditor key to read it from --url');
  const client = await ctx.client(true);
  const page = await client.entries(0, 1);
  const first = page.entries[0];
  if (!first) throw refusedError('the ledger returned no entry 0');
  return first.entry;
};

export const addLogCommand = async (ctx: Context, o: { readonly dir: string; readonly ledger: string; readonly genesis?: string }): Promise<void> => {
  const entry = await genesisEntry(ctx, o.genesis);
  const id = toHex(entryHashOfText(canonicalize(entry)));
  if (id !== o.ledger) throw refusedError(`the genesis entry hashes to ${id}, not to the ledger id ${o.ledger} you were given: refusing to trust it`);
  const g = genesisOf(entry);
  if (!g) throw refusedError('entry 0 is not a genesis entry (docs/protocol.md §6)');
  const log = await addLog(o.dir, { ledgerId: o.ledger, nodeKey: g.nodeKey, url: ctx.url });
  if (ctx.json) return ctx.emit(log);
  ctx.out(`Trusting ledger ${o.ledger} (“${g.name}”): origin ${log.origin}, node key ${g.nodeKey}.`);
};

export const serve = async (
  ctx: Context,
  o: { readonly dir: string; readonly host: string; readonly port: number; readonly prefix: string },
): Promise<void> => {
  const me = await readWitness(o.dir);
  const state = await WitnessState.open(o.dir, me);
  const logger = pino({ base: { service: 'rvl-witness', witness: me.name } });
  const server = witnessServer(state, logger, o.prefix);
  server.listen(o.port, o.host);
  await once(server, 'listening');
  const a = server.address() as AddressInfo;
  ctx.note(`见证方已启动 rvl witness ${me.name} listening on http://${a.address}:${a.port}${o.prefix}/add-checkpoint\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
};
