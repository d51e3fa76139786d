#!/usr/bin/env node
/**
 * `rvl`: the receivable voucher ledger's command line (see program.ts, and `rvl --help`).
 */
import { run } from './program.js';

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
