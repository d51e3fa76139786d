/**
 * Parties: every party registered on the ledger (`GET /v1/parties`, every page) with its role,
 * status and key, the operator's start page. Registering and suspending parties is done with the
 * CLI (`rvl party register`), which holds the operator key.
 */
import { useEffect, useState } from 'preact/hooks';

import type { Party } from '../../src/client/index.js';
import { toShown, type Shown } from './explain.js';
import { loadParties, session, use } from './state.js';
import { ProblemBox, Spinner } from './ui.js';

export const Parties = () => {
  const s = use(session);
  const [list, setList] = useState<readonly Party[] | undefined>(undefined);
  const [problem, setProblem] = useState<Shown | undefined>(undefined);
  useEffect(() => {
    loadParties().then(setList, (err: unknown) => setProblem(toShown(err)));
  }, [s]);
  return (
    <section class="page">
      <h1>Parties</h1>
      <p class="muted">
        Every party registered on this ledger. The operator registers, suspends and re-keys parties with the CLI (rvl party register / update).
      </p>
      {problem ? <ProblemBox problem={problem} title="Could not read the parties" /> : null}
      {list === undefined && !problem ? <Spinner label="Reading the parties…" /> : null}
      {list ? (
        <table class="vouchers stack" data-testid="parties">
          <thead>
            <tr>
              <th>party</th>
              <th>name</th>
              <th>role</th>
              <th>status</th>
              <th>public key</th>
            </tr>
          </thead>
          <tbody>
            {list.map((p) => (
              <tr data-party-row={p.id}>
                <td data-label="party">
                  <code>{p.id}</code>
                </td>
                <td data-label="name">{p.name}</td>
                <td data-label="role">{p.role}</td>
                <td data-label="status">{p.status}</td>
                <td data-label="public key">
                  <code title={p.publicKey}>{p.publicKey.slice(0, 16)}…</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
};
