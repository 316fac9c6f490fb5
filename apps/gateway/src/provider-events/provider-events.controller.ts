import { Body, Controller, Headers, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { parseProviderSignature, signatureMatches } from '#domain';
import { ApiError } from '#http';
import { PayoutRepository } from '#persistence';
import { NoCredentials } from '../auth/access.js';
import { ApiProblems, BODY_PROBLEMS } from '../docs/problems.js';
import { Answer } from '../docs/operations.js';
import { validated } from '../http/validation.js';
import { ProviderEventDto, ProviderEventReceipt, ProviderPayoutDto } from './provider-events.dto.js';

export interface ProviderEventsOptions {
  /** The secret the provider signs with; unset, every event is refused. */
  secret: string | undefined;
  /** How far a signature's timestamp may be from now (replays of old events are refused). */
  toleranceSeconds: number;
}

const unauthorized = (detail: string) => new ApiError(401, 'unauthorized', detail);

/**
 * The payment provider's webhooks: no API key, a signature instead (HMAC-SHA256 of
 * `<timestamp>.<body>` with the shared secret, in `Provider-Signature: t=…,v1=…`), a timestamp
 * within the tolerance, and the event id recorded once. The transaction-worker applies the
 * recorded events (a payout settled or returned); this only checks and records.
 */
@ApiTags('Provider events')
@Controller('v1/provider-events')
export class ProviderEventsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PayoutRepository) private readonly payouts: PayoutRepository,
    @Inject('PROVIDER_EVENTS_OPTIONS') private readonly options: ProviderEventsOptions,
  ) {}

  @Post()
  @NoCredentials('provider-events') // the provider's signature instead, checked below
  @HttpCode(200)
  @ApiOperation({
    operationId: 'receiveProviderEvent',
    summary: "Receive a payment provider's payout event",
    description:
      'Called by the payment provider, not by tenants: no API key; the `Provider-Signature` header must be the HMAC-SHA256 of ' +
      '`<t>.<raw body>` with the shared secret (`PAYOUT_PROVIDER_WEBHOOK_SECRET`), and `t` within the tolerance of now. ' +
      'An event id received before is answered `duplicate: true` and changes nothing. The withdrawal named by `data.reference` ' +
      'is settled by the worker: `paid` → succeeded, `returned` or `failed` → failed and its funds released.',
  })
  @ApiHeader({
    name: 'Provider-Signature',
    required: true,
    description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`',
    schema: { type: 'string' },
  })
  @ApiBody({ type: ProviderEventDto })
  @Answer(200, ProviderEventReceipt, 'Recorded (or recorded before)', {
    example: { id: 'pevt_9a8b7c', duplicate: false },
  })
  @ApiProblems(...BODY_PROBLEMS)
  async receive(
    @Req() request: { rawBody?: string },
    @Headers('provider-signature') signature: string | undefined,
    @Body() body: unknown,
  ): Promise<ProviderEventReceipt> {
    this.verify(request.rawBody ?? '', signature);
    // The provider's payload carries more than Tally reads (amounts, times…): only these are ours.
    const raw = (body ?? {}) as Record<string, unknown>;
    const event = validated(ProviderEventDto, { id: raw.id, type: raw.type, data: raw.data });
    const data = event.data as unknown as Record<string, unknown>;
    const payout = validated(ProviderPayoutDto, {
      id: data.id,
      reference: data.reference,
      status: data.status,
    });
    const fresh = await this.payouts.recordEvent(this.dataSource, {
      id: event.id,
      type: event.type,
      payoutId: payout.id,
      reference: payout.reference ?? null,
      status: payout.status,
      payload: request.rawBody!,
    });
    return { id: event.id, duplicate: !fresh };
  }

  private verify(raw: string, header: string | undefined): void {
    const { secret, toleranceSeconds } = this.options;
    if (!secret)
      throw unauthorized('Provider events are not accepted here (no PAYOUT_PROVIDER_WEBHOOK_SECRET).');
    const parsed = header ? parseProviderSignature(header) : null;
    if (!parsed) throw unauthorized('The Provider-Signature header is missing or malformed.');
    if (Math.abs(Date.now() / 1000 - parsed.timestamp) > toleranceSeconds)
      throw unauthorized('The signature timestamp is outside the tolerance (a replay, or a skewed clock).');
    if (!signatureMatches(secret, header!, raw)) throw unauthorized('The signature does not match the body.');
  }
}
