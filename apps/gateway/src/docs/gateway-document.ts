import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import { API_KEY_SCHEME, CUSTOMER_TOKEN_SCHEME } from '../auth/access.js';
import { GatewayModule } from '../gateway.module.js';
import { WebhookEventView } from '../webhooks/webhook-endpoints.dto.js';
import { WEBHOOKS_GUIDE, WEBHOOK_EVENT_EXAMPLE } from './webhooks-guide.js';

/** The bearer scheme's name in the document (an API key, `tk_…`). */
export const API_KEY = API_KEY_SCHEME;

const DESCRIPTION =
  'Move money and credits reliably. Writes are accepted in one database transaction and applied in the background exactly once. ' +
  'Errors are RFC 9457 problem+json with a stable `code`. Every POST accepts an `Idempotency-Key` (required on transactions and holds). ' +
  'Holds reserve funds now and capture them later; usage events are recorded, priced by meters and charged in the background. ' +
  'Webhook endpoints receive signed outcome events (see Webhooks below).\n\n' +
  WEBHOOKS_GUIDE;

/** The public API's OpenAPI 3.1 document, generated from its controllers and DTO classes. */
export function gatewayDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tally API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0.0')
    .addServer('/')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'API key', description: 'Authorization: Bearer tk_…' },
      API_KEY,
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description:
          'Authorization: Bearer <accessToken> from POST /v1/customer-sessions: a storefront customer, on the operations ' +
          'that list this scheme (`x-customer-scope`), on its own account and orders only.',
      },
      CUSTOMER_TOKEN_SCHEME,
    )
    .addSecurityRequirements(API_KEY)
    .addGlobalParameters({
      name: 'X-Request-Id',
      in: 'header',
      required: false,
      schema: { type: 'string', maxLength: 128 },
      description: 'Echoed, and carried through every service log.',
    })
    .addTag('Accounts')
    .addTag('Transactions')
    .addTag(
      'Customer sessions',
      'Storefronts call Tally from a browser or app with short-lived customer access tokens; your backend opens the session with its API key.',
    )
    .addTag('Holds', 'Reserve available funds now; capture or void them later.')
    .addTag('Usage', 'Record usage events, price them with meters, and read usage totals.')
    .addTag(
      'Webhooks',
      'Register HTTPS endpoints that receive signed events (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), ' +
        'rotate their secrets, read every delivery attempt, and send failed deliveries again. ' +
        'How deliveries are signed, retried and ordered, and how to verify them, is under Webhooks in the description above.',
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    include: [GatewayModule],
    extraModels: [WebhookEventView],
  });
  return { ...document, webhooks: { event: receiveWebhookEvent() } } as OpenAPIObject;
}

/** Swagger UI at /docs, the document at /docs-json: open, no API key needed. */
export function serveGatewayDocs(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => gatewayDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Tally API',
  });
}

/** What Tally POSTs to a webhook endpoint (the document's `webhooks`). */
function receiveWebhookEvent() {
  return {
    post: {
      tags: ['Webhooks'],
      operationId: 'receiveWebhookEvent',
      summary: 'What Tally POSTs to a webhook endpoint',
      description:
        'One request per event and endpoint, signed per Standard Webhooks. Answer 2xx within 10 seconds; anything else is retried ' +
        '(5 s, 5 min, 30 min, 2 h, 5 h, 10 h, with jitter; Retry-After honoured). 410 disables the endpoint.',
      security: [],
      parameters: [
        {
          name: 'webhook-id',
          in: 'header',
          required: true,
          schema: { type: 'string', example: WEBHOOK_EVENT_EXAMPLE.id },
          description: 'The event id: the same on every retry. Deduplicate on it.',
        },
        {
          name: 'webhook-timestamp',
          in: 'header',
          required: true,
          schema: { type: 'string', pattern: '^[0-9]+$', example: '1795262400' },
          description: 'When this attempt was signed, in Unix seconds.',
        },
        {
          name: 'webhook-signature',
          in: 'header',
          required: true,
          schema: { type: 'string', example: 'v1,y7cyfPhPURM4BQ0OApZpd1i5fm4KlPRRmHuLuZMTXvs=' },
          description:
            '`v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")), key being the secret base64-decoded without `whsec_`; ' +
            'during 24 hours after a rotation, one signature per live secret, separated by spaces. ' +
            "The example signs the example body (as compact JSON) with the example timestamp and createWebhookEndpoint's example secret.",
        },
      ],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { $ref: getSchemaPath(WebhookEventView) },
            example: WEBHOOK_EVENT_EXAMPLE,
          },
        },
      },
      responses: {
        200: { description: 'Any 2xx: delivered.' },
        410: { description: 'Gone: the endpoint is disabled at once.' },
      },
    },
  };
}
