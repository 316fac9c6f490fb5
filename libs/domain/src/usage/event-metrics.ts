/** The `type` label of an event's metrics when the type is neither registered nor metered. */
export const OTHER_EVENT_TYPE = 'other';
/** Most distinct `type` label values one process gives out; later types count as `other`. */
export const MAX_EVENT_TYPE_LABELS = 200;

/**
 * The `type` label of the per-type event metrics, with bounded cardinality: an event's type when
 * a tenant registered it (POST /v1/event-types) or metered it (POST /v1/meters) — types somebody
 * declared, not whatever clients send — else `other`. Declared types are still a tenant's to
 * choose, so a process names at most `max` of them (the first it sees) and counts the rest as
 * `other` too.
 */
export class EventTypeLabels {
  private readonly named = new Set<string>();

  constructor(private readonly max = MAX_EVENT_TYPE_LABELS) {}

  label(type: string, declared: boolean): string {
    if (!declared || type === OTHER_EVENT_TYPE) return OTHER_EVENT_TYPE;
    if (this.named.has(type)) return type;
    if (this.named.size >= this.max) return OTHER_EVENT_TYPE;
    this.named.add(type);
    return type;
  }
}
