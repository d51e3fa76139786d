import { hash } from 'node:crypto';
import { installSha256, type Sha256 } from '../sha256.js';

/** SHA-256 on node:crypto's one-shot `hash` (the parts are joined first: one native call). */
export const nodeSha256Of: Sha256 = (parts) => {
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return new Uint8Array(hash('sha256', data, 'buffer'));
};

/** Makes `sha256` of `sha256.ts` use node:crypto in this process (service, CLI, benchmarks). */
export const installNodeSha256 = (): void => installSha256(nodeSha256Of);
