export * from './codes.js';
export * from './limits.js';
export * from './types.js';
export { decide } from './decide.js';
export { parseOp, type ParseResult } from './schema.js';
export { MemoryState, involvedParties, operatorParty } from './state.js';
export { voucherToWire, voucherFromWire, type WireVoucher, type LedgerInfo, type Receipt, type ReceiptEffects } from './wire.js';
export { formatAmount } from './money.js';
