/**
 * Every limit of docs/protocol.md §2, §7 and §8 in one place. Schemas, the API and the store read them
 * from here; nothing else spells these numbers.
 */
export const LIMITS = {
  /** §2: valid amounts are 1 … 10^15 minor units. */
  amountMinMinor: 1n,
  amountMaxMinor: 10n ** 15n,
  /** §7: split parts. */
  splitPartsMin: 2,
  splitPartsMax: 100,
  /** §7: invoice ids per issue, and code points per invoice id. */
  invoiceIdsMin: 1,
  invoiceIdsMax: 100,
  invoiceIdCharsMax: 64,
  /** §7: code points of free text. */
  partyNameCharsMax: 200,
  memoCharsMax: 500,
  reasonCharsMax: 500,
  refCharsMax: 64,
  /** §4: signatures per envelope. */
  signaturesMin: 1,
  signaturesMax: 2,
  /** §8. */
  requestBodyBytesMax: 64 * 1024,
  pageLimitDefault: 100,
  pageLimitMax: 1000,
  jwtLifetimeSecondsMax: 3600,
  jwtIatFutureSkewSecondsMax: 300,
} as const;

/** §2 formats. */
export const PATTERNS = {
  partyId: /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/,
  nonce: /^[A-Za-z0-9_-]{8,64}$/,
  voucherId: /^v[0-9a-f]{24}(:(0|[1-9][0-9]{0,15})-[1-9][0-9]{0,15})?$/,
  amount: /^[1-9][0-9]{0,15}$/,
  hash: /^[0-9a-f]{64}$/,
  publicKey: /^[0-9a-f]{64}$/,
  signature: /^[0-9a-f]{128}$/,
  seed: /^[0-9a-f]{64}$/,
  time: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
  date: /^\d{4}-\d{2}-\d{2}$/,
} as const;

/** §1/§6: the party created at genesis. */
export const OPERATOR_ID = 'operator';
export const CURRENCY_DEFAULT = 'CNY';
