/**
 * The parties of the supply-chain story (CONTEXT.md) as the suites name them: one id, display name
 * and role each, their deterministic test keys, and their registration through the SDK with key
 * files on disk (for the CLI and the browser, which read keys from files).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { generateKeyFile, keyFileText, LedgerClient, parseKeyFile, partyRegister, signEnvelope, type KeyFile } from '../../src/client/index.js';
import type { RegistrableRole } from '../../src/domain/types.js';
import { keyed, type Keyed } from './world.js';

export interface PartySpec {
  readonly id: string;
  readonly name: string;
  readonly role: RegistrableRole;
}

/** The story's core enterprise, two tiers of supplier, two banks and an auditor. */
export const CAST = {
  core: { id: 'gz-motors', name: 'Guangzhou Motors', role: 'core' },
  tier1: { id: 'dongguan-parts', name: 'Dongguan Parts', role: 'supplier' },
  tier2: { id: 'chen-electronics', name: 'Chen Electronics', role: 'supplier' },
  bank: { id: 'icbc-gz', name: 'ICBC Guangzhou', role: 'bank' },
  bank2: { id: 'cmb-sz', name: 'CMB Shenzhen', role: 'bank' },
  auditor: { id: 'csrc-audit', name: 'Audit Office', role: 'auditor' },
} as const satisfies Record<string, PartySpec>;

export type CastMember = keyof typeof CAST;

/** The cast's deterministic keys (test/support/world.ts `keyed`). */
export const castKeys = (): Record<CastMember, Keyed> => {
  const out = {} as Record<CastMember, Keyed>;
  for (const [member, p] of Object.entries(CAST) as [CastMember, PartySpec][]) out[member] = keyed(p.id, p.role);
  return out;
};

/** Generates a key file for each party, writes it into `dir` as `<id>.key`, and has the operator register it. */
export const registerParties = async (
  url: string,
  dataDir: string,
  dir: string,
  specs: readonly PartySpec[],
): Promise<Record<string, { key: KeyFile; file: string }>> => {
  const operator = parseKeyFile(await readFile(path.join(dataDir, 'operator.key'), 'utf8'));
  const client = new LedgerClient({ baseUrl: url, key: operator });
  const ledger = await client.ledgerId();
  await mkdir(dir, { recursive: true });
  const out: Record<string, { key: KeyFile; file: string }> = {};
  for (const spec of specs) {
    const key = generateKeyFile(spec.id);
    const file = path.join(dir, `${spec.id}.key`);
    await writeFile(file, keyFileText(key), { mode: 0o600 });
    const payload = partyRegister({ ledger, party: { id: spec.id, name: spec.name, role: spec.role, publicKey: key.publicKey } });
    await client.submit(signEnvelope(payload, [operator]));
    out[spec.id] = { key, file };
  }
  return out;
};

/**
 * The parties of a load run, named `<prefix>-…`: a core enterprise, `suppliers` suppliers
 * (`<prefix>-s0`, …), a bank and an auditor, with deterministic keys.
 */
export const loadCast = (prefix: string, suppliers: number): { core: Keyed; suppliers: Keyed[]; bank: Keyed; auditor: Keyed } => ({
  core: keyed(`${prefix}-core`, 'core'),
  suppliers: Array.from({ length: suppliers }, (_, i) => keyed(`${prefix}-s${i}`, 'supplier')),
  bank: keyed(`${prefix}-bank`, 'bank'),
  auditor: keyed(`${prefix}-auditor`, 'auditor'),
});
