/**
 * `npm run reseal -- --data-dir DIR [--node-key FILE]`: with the service stopped, replays and
 * checks the whole log and every stored record, then seals the state again (src/admin/reseal.ts).
 * Progress goes to stderr, the result to stdout.
 *
 * Exit codes: 0 resealed, 1 refused (the first bad seq or record is named), 2 usage.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { reseal, ResealError } from './reseal.js';

const USAGE = `usage: npm run reseal -- --data-dir DIR [--node-key FILE]

With the service stopped: checks the whole log (hashes, links, every signature under the key in
force at its entry, every op under the rules at its seq and time, each entry's text), compares
every stored party, key, voucher, invoice and index record with the replay, and only then writes
a fresh state seal, so that the service takes writes again.

  --data-dir DIR   the ledger's data folder
  --node-key FILE  the node key file (default $LEDGER_NODE_KEY_FILE, else DIR/node.key)
`;

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

const main = async (): Promise<number> => {
  let values;
  try {
    ({ values } = parseArgs({
      args: process.argv.slice(2),
      options: { 'data-dir': { type: 'string' }, 'node-key': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`reseal: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const dataDir = values['data-dir'];
  if (!dataDir) {
    process.stderr.write(`reseal: --data-dir is required\n\n${USAGE}`);
    return EXIT.usage;
  }
  const nodeKeyFile = path.resolve(values['node-key'] ?? process.env.LEDGER_NODE_KEY_FILE ?? path.join(dataDir, 'node.key'));
  try {
    const r = await reseal({
      dataDir: path.resolve(dataDir),
      nodeKeyFile,
      onProgress: (n, size) => process.stderr.write(`reseal: replayed ${n} of ${size} entries\n`),
    });
    process.stdout.write(
      `resealed ledger ${r.ledgerId}: ${r.size} entries replayed and checked, ${r.records} records compared` +
        `${r.signedCheckpoint ? ', a checkpoint signed over the log' : ''} (${r.ms} ms)\n`,
    );
    return EXIT.ok;
  } catch (err) {
    if (err instanceof ResealError) {
      process.stderr.write(`reseal: refused: ${err.message}${err.seq === undefined ? '' : ` (seq ${err.seq})`}\nnothing was written\n`);
      return EXIT.refused;
    }
    process.stderr.write(`reseal: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.refused;
  }
};

main().then((code) => process.exit(code));
