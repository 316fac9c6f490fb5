import { SimpleList } from '../components/SimpleList';

export function Webhooks() {
  return (
    <>
      <SimpleList
        title="Webhook endpoints"
        path="/webhook-endpoints"
        columns={[
          ['id', 'Endpoint'],
          ['tenantId', 'Tenant'],
          ['url', 'URL'],
          ['status', 'Status'],
          ['disabledReason', 'Why disabled'],
          ['pending', 'Pending'],
          ['failed', 'Failed'],
        ]}
      />
      <SimpleList
        title="Deliveries"
        path="/webhook-deliveries"
        columns={[
          ['id', 'Delivery'],
          ['url', 'Endpoint'],
          ['eventType', 'Event'],
          ['status', 'Status'],
          ['attempts', 'Attempts'],
          ['lastStatus', 'Last HTTP'],
          ['lastError', 'Last error'],
          ['createdAt', 'Created'],
        ]}
      />
    </>
  );
}
