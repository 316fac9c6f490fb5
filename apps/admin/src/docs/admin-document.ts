import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ROLES } from '../auth/auth.service.js';
import { BEARER } from '../auth/roles.guard.js';
import { AdminModule } from '../admin.module.js';

const DESCRIPTION = `The operators' API behind the Tally dashboard: tenants and API keys, the ledger's
transactions and accounts, interventions (freeze, adjust, re-run), dead letters, usage, webhooks,
metrics and the audit log.

**Sign in** with \`POST /admin/api/auth/login\`, then send the access token as
\`Authorization: Bearer …\`; spend the refresh token at \`POST /admin/api/auth/refresh\` before the
access token expires. Each operation says the least role it needs (\`x-required-role\`:
${ROLES.join(' < ')}); a lower role gets 403 \`forbidden\`. Every change is written to the audit log
with its reason.

**Errors** are \`application/problem+json\` with a stable \`code\`; a \`validation_error\` lists every
bad field in \`errors\`. Amounts are minor units; the ones the database adds up are exact digits in
strings.`;

/** The admin API's OpenAPI 3.1 document, generated from its controllers and DTO classes. */
export function adminDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Tally admin API')
    .setDescription(DESCRIPTION)
    .setVersion('1')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from sign-in.' },
      BEARER,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    include: [AdminModule],
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  noteRoles(document);
  return document;
}

/** Swagger UI at /admin/docs, the document at /admin/docs-json: open, like the dashboard's sign-in page. */
export function serveAdminDocs(app: INestApplication): void {
  SwaggerModule.setup('admin/docs', app, () => adminDocument(app), {
    jsonDocumentUrl: 'admin/docs-json',
    customSiteTitle: 'Tally admin API',
    swaggerOptions: { showExtensions: true, displayOperationId: false },
  });
}

/** Each operation's description says the role `@Needs` gave it (its `x-required-role`). */
function noteRoles(document: OpenAPIObject): void {
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as { description?: string; 'x-required-role'?: string }[]) {
      const role = operation['x-required-role'];
      if (!role) continue;
      const note = role === 'public' ? 'Open: no token needed.' : `Needs the **${role}** role or above.`;
      operation.description = operation.description ? `${operation.description}\n\n${note}` : note;
    }
  }
}
