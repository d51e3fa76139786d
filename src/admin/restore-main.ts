/**
 * `npm run restore -- --from FILE --data-dir DIR [--node-key FILE] [--ledger ID]`: the operator's
 * restore of a backup on the server machine (src/admin/restore.ts does the work). Progress goes to
 * stderr, the result to stdout.
 *
 * Exit codes: 0 restored and verified, 1 refused (a bad file, the wrong key, a log that does not
 * verify), 2 usage.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { count, keyValues, plural } from '../cli/format.js';
import { restore, RestoreError, type RestoreOptions } from './restore.js';

const USAGE = `usage: npm run restore -- --from FILE --data-dir DIR [--node-key FILE] [--ledger ID]

Restores a backup taken with \`rvl backup\` into a new, empty data folder, checks the whole log
against its signed checkpoint, and only then says it is ready.

  --from FILE      the backup file
  --data-dir DIR   the new data folder (empty or missing)
  --node-key FILE  the ledger's node key file (a backup never holds it); copied to DIR/node.key.
                   Without it, $LEDGER_NODE_KEY_FILE is used where it is, as the service will.
  --ledger ID      refuse a backup of any other ledger
`;

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

const mb = (bytes: number): string => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

const main = async (): Promise<number> => {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: {
        from: { type: 'string' },
        'data-dir': { type: 'string' },
        'node-key': { type: 'string' },
        ledger: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`restore: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const from = values.from;
  const dataDir = values['data-dir'];
  const keyFile = values['node-key'] ?? process.env.LEDGER_NODE_KEY_FILE;
  if (!from || !dataDir) {
    process.stderr.write(`restore: --from and --data-dir are required\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (!keyFile) {
    process.stderr.write("restore: give the ledger's node key file with --node-key FILE (a backup never holds it), or set LEDGER_NODE_KEY_FILE\n");
    return EXIT.usage;
  }
  if (values.ledger !== undefined && !/^[0-9a-f]{64}$/.test(values.ledger)) {
    process.stderr.write('restore: --ledger must be a ledger id (64 lowercase hex characters)\n');
    return EXIT.usage;
  }

  const fileBytes = await import('node:fs/promises').then((fs) =>
    fs.stat(from).then(
      (s) => s.size,
      () => 0,
    ),
  );
  let lastTenth = 0;
  const options: RestoreOptions = {
    from,
    dataDir,
    nodeKey: values['node-key'] !== undefined ? { copy: keyFile } : { at: keyFile },
    ...(values.ledger !== undefined ? { expectLedgerId: values.ledger } : {}),
    // The ledger's own start-up log lines (warnings and errors only) go to stderr.
    logger: pino({ level: 'warn', base: { service: 'rvl-restore' } }, pino.destination({ fd: 2, sync: true })),
    onProgress: (records, read) => {
      const tenth = fileBytes > 0 ? Math.floor((read / fileBytes) * 10) : 0;
      if (tenth > lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`restore: ${tenth * 10}% of ${from} read (${mb(read)}, ${count(records)} records)\n`);
      }
    },
    onVerifying: (size) => process.stderr.write(`restore: checking the whole log (${plural(size, 'entry', 'entries')}) against its signed checkpoint…\n`),
  };
  try {
    const r = await restore(options);
    const dir = path.resolve(dataDir);
    process.stdout.write(
      `Restored ledger ${r.ledgerId} (${r.name}) into ${dir}\n` +
        keyValues(
          [
            [
              'entries',
              `${count(r.size)}, the whole log verified against the signed checkpoint (every entry's hash, seq, prev link and time, and the Merkle root)`,
            ],
            ['backup', `${from}: ${count(r.records)} records, ${mb(r.fileBytes)}, taken ${r.createdAt}`],
            ['time', `${(r.loadMs / 1000).toFixed(1)} s to load, ${(r.verifyMs / 1000).toFixed(1)} s to verify`],
            ['node key', r.nodeKeyFile],
          ],
          '  ',
        ) +
        `  checkpoint\n${r.checkpoint.replace(/^/gm, '    ').trimEnd()}\n\n` +
        `Ready. Check the ledger id against the one you publish, then start the service on it:\n` +
        `  LEDGER_DATA_DIR=${dir}${values['node-key'] === undefined ? ` LEDGER_NODE_KEY_FILE=${path.resolve(keyFile)}` : ''} npm start\n`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof RestoreError) {
      const seq = err.seq === undefined ? '' : ` (first bad seq: ${err.seq})`;
      process.stderr.write(`restore: refused, nothing was restored: ${err.code}: ${err.detail}${seq}\n`);
      return err.code === 'DIR_NOT_EMPTY' ? EXIT.usage : EXIT.refused;
    }
    process.stderr.write(`restore: failed, nothing was restored: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.refused;
  }
};

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`restore: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
