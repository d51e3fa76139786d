/**
 * The LevelDB adapter's key encodings (src/store/level-store.ts); the port speaks of seqs, tree
 * nodes and list places, never of these keys. The offline admin tools that read the adapter's
 * records wholesale (src/admin) use them too. Numbers are fixed-width lowercase hex so that keys sort in numeric
 * order; composite keys join their parts with NUL, which no party id, voucher id or hex string can
 * contain, so two different tuples never encode to the same key.
 */
const SEP = '\u0000';

/** Sequence numbers and tree indexes: 12 hex digits cover 2^48 entries. */
export const seqKey = (seq: number): string => seq.toString(16).padStart(12, '0');
export const parseSeqKey = (key: string): number => Number.parseInt(key, 16);

/** Range offsets: amounts are at most 10^15 < 16^13, so 13 hex digits always suffice. */
export const offsetKey = (n: bigint): string => n.toString(16).padStart(13, '0');

/** A Merkle node: level (2 hex digits) then index. */
export const nodeKey = (level: number, index: number): string => `${level.toString(16).padStart(2, '0')}${seqKey(index)}`;

/** The per-party voucher list key: party, then the §8 list order (`createdSeq`, then range start). */
export const partyVoucherKey = (party: string, createdSeq: number, start: bigint): string => `${party}${SEP}${seqKey(createdSeq)}${SEP}${offsetKey(start)}`;

/** A list key's place: its `createdSeq` and range start (the inverse of `partyVoucherKey` past the party). */
export const parseListPlace = (key: string): { createdSeq: number; start: bigint } => {
  const [, seq = '', start = ''] = key.split(SEP);
  return { createdSeq: parseSeqKey(seq), start: BigInt(`0x${start}`) };
};

/** The prefix under which one party's voucher keys sort. */
export const partyVoucherPrefix = (party: string): string => `${party}${SEP}`;

/** The entries that registered or updated a party, in seq order. */
export const partySeqKey = (partyId: string, seq: number): string => `${partyId}${SEP}${seqKey(seq)}`;
export const partySeqPrefix = (partyId: string): string => `${partyId}${SEP}`;

/** The smallest string greater than every key that starts with `prefix`. */
export const prefixEnd = (prefix: string): string => `${prefix}\uffff`;
