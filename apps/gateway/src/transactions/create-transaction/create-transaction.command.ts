export type { CreateTransactionCommand } from '../transactions.dto.js';
