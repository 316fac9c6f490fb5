import { MessagingBackbone1763726400000 } from './1763726400000-MessagingBackbone.js';

/** Every migration, oldest first. A new migration is added here and nowhere else. */
export const migrations = [MessagingBackbone1763726400000];
