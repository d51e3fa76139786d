/**
 * The `rvl` command line: every op and read of docs/protocol.md §7–§8, co-signed pledges across two
 * machines, offline proof checks and the audit. `run(argv)` parses, runs one command and returns
 * the exit code (see errors.ts); it never throws and never prints a stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, CommanderError, Option } from 'commander';

import { LIMITS } from '../domain/limits.js';
import {
  amountArg,
  amountsArg,
  collect,
  countArg,
  dateArg,
  durationArg,
  ledgerIdArg,
  partyIdArg,
  publicKeyArg,
  refArg,
  statusListArg,
  textArg,
  tokenTtlArg,
  voucherIdArg,
} from './args.js';
import type { IssueOptions } from './commands/ops.js';
import type { RegisterOptions, UpdateOptions } from './commands/party.js';
import { Context, URL_DEFAULT, type GlobalOptions, type Streams } from './context.js';
import { describeError, EXIT, type ExitCode } from './errors.js';

/** The package version, from the nearest package.json above this file. */
const version = (): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'receivable-voucher-ledger' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not ours; keep looking
      }
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
};

const EXAMPLES = `
Getting started:
  rvl keygen --party dongguan-parts                 # ~/.rvl/keys/dongguan-parts.key (secret) and .pub
  export RVL_URL=http://ledger.example:8080 RVL_KEY=dongguan-parts
  rvl list                                          # your vouchers, with totals per status
  rvl accept v3f9a0c…                               # accept a voucher offered to you
  rvl transfer v3f9a0c… --to chen-electronics --amount 200,000.00

Amounts are in the ledger's currency, as you would write them. Yuan: 1,000,000.00, ¥ 1,234.56,
１０００, 100万, 1.5亿元; another currency: 1,000,000.00, USD 1,234.56 (exactly; anything that
could be read two ways is refused).
The ledger id to trust comes from the operator (published, or in your contract), not from the service.
Exit codes: 0 done, 1 refused or a check failed, 2 usage error, 3 ledger unreachable or unavailable.`;

/** Builds the program. `exec` runs a command's handler with its context. */
// Command modules load on first use, so that help, --version and usage errors answer at once.
const ops = () => import('./commands/ops.js');
const party = () => import('./commands/party.js');
const pledge = () => import('./commands/pledge.js');
const reads = () => import('./commands/reads.js');
const checks = () => import('./commands/checks.js');
const tokens = () => import('./commands/token.js');
const witnesses = () => import('./commands/witness.js');
const backups = () => import('./commands/backup.js');

const build = (exec: (cmd: Command, handler: (ctx: Context) => Promise<void>) => Promise<void>, io: Streams): Command => {
  const program = new Command('rvl')
    .description('Receivable voucher ledger: issue, pass on, pledge and settle vouchers; verify proofs; audit.')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--url <url>', `the ledger service (default: $RVL_URL or ${URL_DEFAULT})`)
    .option('--key <file>', 'your key file, or your party id for <key folder>/<id>.key (default: $RVL_KEY)')
    .option('--json', 'print machine-readable JSON on stdout')
    .option('--expires-in <duration>', 'ops you sign expire after this long, e.g. 10m, 2h, 1d', durationArg)
    .addHelpText('after', EXAMPLES)
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(`rvl: ${s.replace(/^error: /, '').replace(/\n(?!$)/g, ' ')}`),
    });

  /** A subcommand that inherits the program's output handling. */
  const sub = (parent: Command, name: string, description: string): Command =>
    parent.command(name).description(description).exitOverride().showSuggestionAfterError(true);

  // ---- keys and parties ----

  program.commandsGroup('Keys and parties:');
  sub(program, 'keygen', 'make a new key pair: a secret key file (mode 0600) and a public file for the operator')
    .requiredOption('--party <id>', 'the party id the key is for', partyIdArg)
    .option('--out <file>', 'where to write the key file (default: <party>.key in $RVL_KEY_DIR, else ~/.rvl/keys; refuses to overwrite)')
    .action((o: { party: string; out?: string }, cmd: Command) => exec(cmd, async (ctx) => (await party()).keygen(ctx, o)));

  const partyCmd = sub(program, 'party', "the party register (the operator's ops, and reads)");
  sub(partyCmd, 'register', 'register a party (operator key)')
    .option('--id <id>', 'the new party id (default: the one in --key-file)', partyIdArg)
    .requiredOption('--name <name>', 'its display name', textArg(LIMITS.partyNameCharsMax))
    .addOption(new Option('--role <role>', 'its role').choices(['core', 'supplier', 'bank', 'auditor']).makeOptionMandatory())
    .option('--public-key <hex>', 'its Ed25519 public key', publicKeyArg)
    .option('--key-file <file>', 'its public file (from rvl keygen) or key file, instead of --public-key')
    .action((o: RegisterOptions, cmd: Command) => exec(cmd, async (ctx) => (await party()).register(ctx, o)));
  sub(partyCmd, 'update', "rotate a party's key or suspend/reactivate it (operator key)")
    .argument('<id>', 'the party', partyIdArg)
    .option('--public-key <hex>', 'its new public key', publicKeyArg)
    .option('--key-file <file>', 'its new public file or key file, instead of --public-key')
    .addOption(new Option('--status <status>', 'suspend or reactivate').choices(['active', 'suspended']))
    .action((id: string, o: UpdateOptions, cmd: Command) => exec(cmd, async (ctx) => (await party()).update(ctx, id, o)));
  sub(partyCmd, 'list', 'list every party').action((_o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await party()).list(ctx)));
  sub(partyCmd, 'show', 'show one party')
    .argument('<id>', 'the party', partyIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await party()).show(ctx, id)));

  // ---- voucher ops ----

  program.commandsGroup('Vouchers (signed with your key):');
  sub(program, 'issue', 'issue a voucher (a core enterprise’s key) to a supplier')
    .requiredOption('--to <party>', 'the supplier', partyIdArg)
    .requiredOption('--amount <yuan>', 'e.g. 1,000,000.00', amountArg)
    .requiredOption('--due <date>', 'the due date, YYYY-MM-DD', dateArg)
    .requiredOption('--invoice <id>', 'an invoice it is backed by (repeat for several)', collect)
    .option('--memo <text>', 'a note on the voucher', textArg(LIMITS.memoCharsMax))
    .action((o: IssueOptions, cmd: Command) => exec(cmd, async (ctx) => (await ops()).issue(ctx, o)));
  sub(program, 'accept', 'accept a voucher offered to you')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await ops()).accept(ctx, id)));
  sub(program, 'reject', 'refuse a voucher offered to you')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .option('--reason <text>', 'why', textArg(LIMITS.reasonCharsMax))
    .action((id: string, o: { reason?: string }, cmd: Command) => exec(cmd, async (ctx) => (await ops()).reject(ctx, id, o)));
  sub(program, 'cancel', 'withdraw a voucher you offered')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await ops()).cancel(ctx, id)));
  sub(program, 'split', 'split a voucher you hold into parts that add up to it')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .requiredOption('--amounts <yuan...>', 'the parts, e.g. 600,000.00 400,000.00', amountsArg)
    .action((id: string, o: { amounts: string[] }, cmd: Command) => exec(cmd, async (ctx) => (await ops()).split(ctx, id, o)));
  sub(program, 'transfer', 'offer a voucher you hold, or part of it, to a supplier or bank')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .requiredOption('--to <party>', 'the recipient', partyIdArg)
    .option('--amount <yuan>', 'transfer only this much (the rest stays with you)', amountArg)
    .action((id: string, o: { to: string; amount?: string }, cmd: Command) => exec(cmd, async (ctx) => (await ops()).transfer(ctx, id, o)));
  sub(program, 'release', 'release a voucher pledged to you (the bank’s key)')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await ops()).release(ctx, id)));
  sub(program, 'settle', 'pay a voucher you issued (to its holder, or to the bank if pledged)')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .requiredOption('--payment-ref <ref>', 'the bank payment reference', refArg)
    .action((id: string, o: { paymentRef: string }, cmd: Command) => exec(cmd, async (ctx) => (await ops()).settle(ctx, id, o)));

  // ---- co-signed pledges ----

  program.commandsGroup('Pledges (holder and bank co-sign):');
  const pledgeCmd = sub(program, 'pledge', 'pledge a voucher to a bank: the holder prepares, the bank co-signs, either submits');
  sub(pledgeCmd, 'prepare', 'as the holder: sign a pledge request for the bank (default expiry 1 day)')
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .requiredOption('--bank <party>', 'the bank', partyIdArg)
    .requiredOption('--loan-ref <ref>', "the bank's loan reference", refArg)
    .option('--amount <yuan>', 'pledge only this much of the voucher', amountArg)
    .requiredOption('--out <file>', 'where to write the request (refuses to overwrite)')
    .action((id: string, o: { bank: string; loanRef: string; amount?: string; out: string }, cmd: Command) =>
      exec(cmd, async (ctx) => (await pledge()).prepare(ctx, id, o)),
    );
  sub(pledgeCmd, 'cosign', "as the bank: check a pledge request, show it, and add the bank's signature in place")
    .argument('<file>', 'the pledge request')
    .option('-y, --yes', 'sign without asking (on no terminal this is required)')
    .option('--ledger <id>', 'the ledger id, to co-sign without asking the service', ledgerIdArg)
    .action((file: string, o: { yes?: boolean; ledger?: string }, cmd: Command) => exec(cmd, async (ctx) => (await pledge()).cosign(ctx, file, o)));
  sub(program, 'submit', 'submit a co-signed pledge request or any signed envelope')
    .argument('<file>', 'the file')
    .action((file: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await pledge()).submit(ctx, file)));

  // ---- reads ----

  program.commandsGroup('Reading:');
  sub(program, 'ledger', "the ledger's id, name, size and keys, as the service reports them (no key needed)").action((_o: unknown, cmd: Command) =>
    exec(cmd, async (ctx) => (await reads()).ledger(ctx)),
  );
  sub(program, 'show', "a voucher's state")
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await reads()).show(ctx, id)));
  sub(program, 'list', "a party's vouchers (default: yours), every page, with totals per status")
    .argument('[party]', 'the party (operator and auditor keys may list anyone)', partyIdArg)
    .option('--status <list>', 'only these statuses, e.g. offered,active', statusListArg)
    .action((who: string | undefined, o: { status?: never }, cmd: Command) => exec(cmd, async (ctx) => (await reads()).list(ctx, who, o)));
  sub(program, 'history', "a voucher's timeline: every entry of it and its ancestors")
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await reads()).history(ctx, id)));
  sub(program, 'tree', "the split tree of a voucher's root, with amount and status per node")
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .action((id: string, _o: unknown, cmd: Command) => exec(cmd, async (ctx) => (await reads()).tree(ctx, id)));
  sub(program, 'proof', "save a voucher's proof bundle, for an offline check (rvl verify-bundle)")
    .argument('<voucher>', 'the voucher id', voucherIdArg)
    .requiredOption('--out <file>', 'where to save it (refuses to overwrite without --force)')
    .option('--force', 'overwrite --out')
    .option('--ledger <id>', 'the ledger id you trust, as its operator published it: refuse a service of another ledger', ledgerIdArg)
    .action((id: string, o: { out: string; force?: boolean; ledger?: string }, cmd: Command) => exec(cmd, async (ctx) => (await reads()).proof(ctx, id, o)));
  sub(program, 'entries', 'raw ledger entries (operator and auditor keys)')
    .option('--from <seq>', 'first seq (default 0)', countArg)
    .option('--limit <n>', `how many (1–${LIMITS.pageLimitMax}, default ${LIMITS.pageLimitDefault})`, countArg)
    .action((o: { from?: number; limit?: number }, cmd: Command) => exec(cmd, async (ctx) => (await reads()).entries(ctx, o)));
  sub(program, 'token', 'print a read token for your key, for the API docs (/docs "Authorize") or curl')
    .option('--ttl <duration>', 'how long it is valid, e.g. 10m (the default), at most 1h', tokenTtlArg)
    .option('--ledger <id>', 'the ledger id for the token (default: the one the service reports)', ledgerIdArg)
    .action((o: { ttl?: number; ledger?: string }, cmd: Command) => exec(cmd, async (ctx) => (await tokens()).token(ctx, o)));

  // ---- checks ----

  program.commandsGroup('Checking (trust nothing but the ledger id):');
  sub(program, 'checkpoint', 'the latest signed checkpoint, checked against the one you trusted last (kept in ~/.rvl)')
    .option('--trust <file>', 'the trust file (default: ~/.rvl/trust-<ledger id>.json)')
    .option('--ledger <id>', 'the ledger id you trust, as its operator published it: refuse a service of another ledger', ledgerIdArg)
    .option(
      '--trust-new-ledger',
      'the URL now serves another ledger than the one it was pinned to, and you checked that with the operator: re-pin it to the new one',
    )
    .option('--forget <url>', 'remove the ledger pin of this service URL (kept in ~/.rvl/ledgers.json) and do nothing else')
    .action((o: { trust?: string; ledger?: string; trustNewLedger?: boolean; forget?: string }, cmd: Command) =>
      exec(cmd, async (ctx) => (await checks()).checkpoint(ctx, o)),
    );
  sub(program, 'verify-bundle', 'check a proof bundle offline, trusting only the ledger id; then, if it can, ask the ledger whether the voucher changed since')
    .argument('<file>', 'the bundle (from rvl proof)')
    .requiredOption('--ledger <id>', 'the ledger id you trust, as its operator published it (not as a server says it)', ledgerIdArg)
    .option('--voucher <id>', 'insist the bundle is for this voucher', voucherIdArg)
    .option('--offline', 'do not ask the ledger whether the voucher changed since (without a key, rvl never asks)')
    .action((file: string, o: { ledger: string; voucher?: string; offline?: boolean }, cmd: Command) =>
      exec(cmd, async (ctx) => (await checks()).verifyBundle(ctx, file, o)),
    );
  sub(program, 'audit', 'check the whole log against the signed checkpoint (operator or auditor key)')
    .option('--no-replay', 'skip replaying every op under the rules (less memory)')
    .action((o: { replay?: boolean }, cmd: Command) => exec(cmd, async (ctx) => (await checks()).audit(ctx, o)));

  program.commandsGroup('Operations:');
  sub(program, 'backup', 'save a consistent backup of the running ledger (operator key); restore it with npm run restore')
    .requiredOption('--out <file>', 'where to save it (refuses to overwrite without --force)')
    .option('--force', 'replace --out')
    .action((o: { out: string; force?: boolean }, cmd: Command) => exec(cmd, async (ctx) => (await backups()).backup(ctx, o)));

  program.commandsGroup('Witness (a bank or auditor cosigns checkpoints):');
  const witnessCmd = sub(program, 'witness', "run a witness: cosign the ledger's checkpoints only if each extends the last (docs/protocol.md §11.3)");
  sub(witnessCmd, 'init', "make the witness's key in a folder and print its verifier key")
    .requiredOption('--dir <folder>', "the witness's folder (made 0700)")
    .requiredOption('--name <name>', 'its key name, e.g. witness.yourbank.example/w1')
    .action((o: { dir: string; name: string }, cmd: Command) => exec(cmd, async (ctx) => (await witnesses()).init(ctx, o)));
  sub(witnessCmd, 'add-log', 'trust a ledger: its id (from the operator) and the node key of a genesis entry that hashes to it')
    .requiredOption('--dir <folder>', "the witness's folder")
    .requiredOption('--ledger <id>', 'the ledger id, as its operator published it', ledgerIdArg)
    .option('--genesis <file>', 'the genesis entry (JSON); without it, entry 0 is read from --url with --key (operator or auditor)')
    .action((o: { dir: string; ledger: string; genesis?: string }, cmd: Command) => exec(cmd, async (ctx) => (await witnesses()).addLogCommand(ctx, o)));
  sub(witnessCmd, 'serve', 'answer C2SP tlog-witness add-checkpoint until SIGTERM')
    .requiredOption('--dir <folder>', "the witness's folder")
    .option('--host <address>', 'the address to listen on', '127.0.0.1')
    .option('--port <port>', 'the port (0: a free one)', countArg, 8090)
    .option('--prefix <path>', 'the submission prefix, e.g. /witness', '')
    .action((o: { dir: string; host: string; port: number; prefix: string }, cmd: Command) => exec(cmd, async (ctx) => (await witnesses()).serve(ctx, o)));

  program.commandsGroup('Help:');
  return program;
};

/** Runs `rvl` with `argv` (without `node` and the script). Resolves with the exit code. */
export const run = async (argv: readonly string[], io: Streams): Promise<ExitCode> => {
  let url = io.env.RVL_URL ?? URL_DEFAULT;
  let json = false;
  let context: Context | undefined;
  const exec = async (cmd: Command, handler: (ctx: Context) => Promise<void>): Promise<void> => {
    const ctx = new Context(cmd.optsWithGlobals<GlobalOptions>(), io);
    context = ctx;
    url = ctx.url;
    json = ctx.json;
    await handler(ctx);
  };
  const program = build(exec, io);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT.usage;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const d = await describeError(err, url, context?.party);
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: d.json }, null, 2)}\n`);
    io.stderr.write(`rvl: ${d.line}\n`);
    return d.exit;
  }
};
