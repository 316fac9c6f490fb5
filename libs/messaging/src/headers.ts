/** Header names Tally puts on every message, beside the AMQP properties message-id, correlation-id and type. */
export const Headers = {
  schemaVersion: 'x-schema-version',
  /** 1 on the first delivery of a message; +1 for each retry through a delay queue. */
  attempt: 'x-attempt',
  lastError: 'x-last-error',
  error: 'x-error',
  errorName: 'x-error-name',
  errorCode: 'x-error-code',
  errorPermanent: 'x-error-permanent',
  failedQueue: 'x-failed-queue',
  failedAt: 'x-failed-at',
  originalExchange: 'x-original-exchange',
  originalRoutingKey: 'x-original-routing-key',
  /** On a message about one tenant whose body does not say (a dead webhook delivery). */
  tenantId: 'x-tenant-id',
  /** A dead webhook delivery: which one, to which endpoint (replaying it sends it again). */
  webhookDeliveryId: 'x-webhook-delivery-id',
  webhookEndpointId: 'x-webhook-endpoint-id',
  /** Set by quorum queues on redelivery after a consumer dropped the message. */
  deliveryCount: 'x-delivery-count',
} as const;
