import { useState } from 'react';
import { api } from '../api';
import { Choice } from '../components/filters';
import { ListPage } from '../components/ListPage';
import { useLoad } from '../load';
import type { PageProps, Row } from '../types';

export function DeadLetters({ query, go }: PageProps) {
  const status = query.get('status') ?? 'pending';
  const before = query.get('before');
  const list = useLoad<{ data: Row[]; nextBefore: string | null }>(
    `/dead-letters?status=${status}${before ? `&before=${encodeURIComponent(before)}` : ''}`,
  );
  const [message, setMessage] = useState<string>();
  const act = async (row: Row, action: 'replay' | 'discard') => {
    const reason = window.prompt(`${action === 'replay' ? 'Replay' : 'Discard'} ${row.id}? Give a reason:`);
    if (!reason) return;
    try {
      await api('POST', `/dead-letters/${row.id}/${action}`, { reason });
      setMessage(`${row.id} ${action === 'replay' ? 'replayed' : 'discarded'}.`);
      list.reload();
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const replayAll = async () => {
    const reason = window.prompt(`Replay every ${status} dead letter? Give a reason:`);
    if (!reason) return;
    const r = await api<{ replayed: number }>('POST', '/dead-letters/replay', { filter: { status }, reason });
    setMessage(`${r.replayed} replayed.`);
    list.reload();
  };
  return (
    <ListPage
      title="Dead letters"
      controls={
        <>
          <Choice
            label="Status"
            value={status}
            options={['pending', 'replayed', 'discarded']}
            onChange={(v) => go(`/dead-letters?status=${v}`)}
          />
          {status === 'pending' && (
            <button type="button" onClick={replayAll}>
              Replay all
            </button>
          )}
        </>
      }
      message={message}
      load={list}
      paging={{
        before,
        onPage: (b) => go(`/dead-letters?status=${status}${b ? `&before=${encodeURIComponent(b)}` : ''}`),
      }}
      columns={[
        ['type', 'Type'],
        ['failedQueue', 'Queue'],
        ['errorCode', 'Code'],
        ['error', 'Error'],
        ['failedAt', 'Failed'],
        ['status', 'Status'],
      ]}
      testId={(r) => `dead-letter-${r.id}`}
      actions={(r) => (
        <>
          {r.status !== 'discarded' && (
            <button type="button" onClick={() => act(r, 'replay')}>
              Replay
            </button>
          )}
          {r.status === 'pending' && (
            <button type="button" className="secondary" onClick={() => act(r, 'discard')}>
              Discard
            </button>
          )}
        </>
      )}
    />
  );
}
