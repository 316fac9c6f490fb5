import { InboxEntry } from './inbox-entry.entity.js';
import { OutboxMessage } from './outbox-message.entity.js';

export { InboxEntry, OutboxMessage };

/** Every entity the data source knows. */
export const entities = [OutboxMessage, InboxEntry];
