import { api } from '../api';
import { useLoad } from '../load';
import type { Row } from '../types';
import { withReason } from './dialogs';
import { Listing } from './Table';

/** The API keys of one tenant, beside the tenants list: create and revoke. */
export function Keys({ tenantId, onMessage }: { tenantId: string; onMessage: (m: string) => void }) {
  const keys = useLoad<{ data: Row[] }>(`/tenants/${tenantId}/keys`);
  const create = async () => {
    const name = window.prompt('A name for the new key (what uses it):');
    if (!name) return;
    try {
      const k = await api<{ id: string; apiKey: string }>('POST', `/tenants/${tenantId}/keys`, { name });
      onMessage(`Key ${k.id} created. Shown only now: ${k.apiKey}`);
      keys.reload();
    } catch (e) {
      onMessage((e as Error).message);
    }
  };
  const revoke = async (r: Row) => {
    onMessage(
      (await withReason(
        `Revoke ${r.prefix}…? Reason:`,
        'POST',
        `/tenants/${tenantId}/keys/${r.id}/revoke`,
      )) ?? `Key ${r.id} revoked.`,
    );
    keys.reload();
  };
  return (
    <aside className="detail" aria-label="API keys">
      <header className="row">
        <h2>API keys of {tenantId}</h2>
        <button type="button" onClick={create}>
          New key
        </button>
      </header>
      <Listing
        load={keys}
        columns={[
          ['prefix', 'Prefix'],
          ['name', 'Name'],
          ['createdAt', 'Created'],
          ['lastUsedAt', 'Last used'],
          ['revokedAt', 'Revoked'],
        ]}
        actions={(k) =>
          !k.revokedAt && (
            <button type="button" className="secondary" onClick={() => revoke(k)}>
              Revoke
            </button>
          )
        }
      />
    </aside>
  );
}
