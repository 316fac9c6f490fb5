import { useState } from 'react';
import { api } from '../api';
import { Keys } from '../components/ApiKeys';
import { withReason } from '../components/dialogs';
import { ListPage } from '../components/ListPage';
import { useLoad } from '../load';
import type { PageProps, Row } from '../types';

export function Tenants({ query, go }: PageProps) {
  const before = query.get('before');
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(
    `/tenants${before ? `?before=${encodeURIComponent(before)}` : ''}`,
  );
  const [message, setMessage] = useState<string>();
  const keysOf = query.get('keys');
  const create = async () => {
    const name = window.prompt('Name of the new tenant:');
    if (!name) return;
    try {
      const t = await api<{ id: string; apiKey: string }>('POST', '/tenants', { name });
      setMessage(`Created ${t.id}. Its API key, shown only now: ${t.apiKey}`);
      list.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const toggle = async (r: Row) => {
    const action = r.status === 'active' ? 'disable' : 'enable';
    setMessage(
      (await withReason(`${action} ${r.id}? Reason:`, 'POST', `/tenants/${r.id}/${action}`)) ??
        `${r.id}: ${action}d.`,
    );
    list.reload();
  };
  return (
    <ListPage
      title="Tenants"
      controls={
        <button type="button" onClick={create}>
          New tenant
        </button>
      }
      message={message}
      load={list}
      paging={{ before, onPage: (b) => go(b ? `/tenants?before=${encodeURIComponent(b)}` : '/tenants') }}
      columns={[
        ['id', 'Id'],
        ['name', 'Name'],
        ['status', 'Status'],
        ['activeKeys', 'Keys'],
        ['notificationEmail', 'Email'],
      ]}
      actions={(r) => (
        <>
          <a href={`#/accounts?tenantId=${r.id}`}>Accounts</a>
          <button type="button" className="secondary" onClick={() => go(`/tenants?keys=${r.id}`)}>
            Keys
          </button>
          <button type="button" className="secondary" onClick={() => toggle(r)}>
            {r.status === 'active' ? 'Disable' : 'Enable'}
          </button>
        </>
      )}
    >
      {keysOf && <Keys tenantId={keysOf} onMessage={setMessage} />}
    </ListPage>
  );
}
