#!/usr/bin/env node
/**
 * `rvl`: the receivable voucher ledger's command line (see program.ts, and `rvl --help`).
 */
import { installNodeSha256 } from '../ledger/node/sha256-node.js';
import { run } from './program.js';

// Hashing on node:crypto: the audit recomputes every entry's hash and the root.
installNodeSha256();

// Output piped into a reader that stops early (`rvl list | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = code;
