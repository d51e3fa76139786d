import { concatBytes } from './hex.js';
import { canonicalBytes } from './jcs.js';
import { sha256Hex } from './sha256.js';
import { utf8 } from './utf8.js';

/** docs/protocol.md §3: the op preimage is the bytes of this string followed by JCS(payload). */
export const OP_DOMAIN = 'rvl/op/v1\n';
const OP_DOMAIN_BYTES = utf8(OP_DOMAIN);

/**
 * Bytes every required signer signs. `payload` is the wire payload (plain JSON, amounts as
 * decimal strings). Throws `LedgerError('BAD_JSON_VALUE')` if it is not JSON-encodable.
 */
export const opPreimage = (payload: unknown): Uint8Array => concatBytes(OP_DOMAIN_BYTES, canonicalBytes(payload));

/** The preimage from the payload's JCS text, for callers that keep that text (the writer). */
export const opPreimageFromJcs = (payloadJcs: string): Uint8Array => concatBytes(OP_DOMAIN_BYTES, utf8(payloadJcs));

/** docs/protocol.md §3: `opId` = hex SHA-256 of the op preimage; the op's identity and idempotency key. */
export const opIdOfPreimage = (preimage: Uint8Array): string => sha256Hex(preimage);

/** `opIdOfPreimage` of the payload's preimage. */
export const opId = (payload: unknown): string => opIdOfPreimage(opPreimage(payload));
