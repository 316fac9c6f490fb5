import { SimpleList } from '../components/SimpleList';

export function Usage() {
  return (
    <SimpleList
      title="Usage"
      path="/usage-events"
      columns={[
        ['id', 'Event'],
        ['tenantId', 'Tenant'],
        ['type', 'Type'],
        ['accountId', 'Account'],
        ['status', 'Status'],
        ['billingStatus', 'Billing'],
        ['amount', 'Amount'],
        ['failureCode', 'Failure'],
        ['receivedAt', 'Received'],
      ]}
    />
  );
}
