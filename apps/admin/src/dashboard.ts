import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, type INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

// Compiled, this file is in dist/apps/admin/src; loaded from its source (in-process tests), in
// apps/admin/src of the checkout.
const above = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where `npm run build` puts the dashboard (Vite): dist/admin-web. */
export const DASHBOARD_DIR = path.join(
  path.basename(above) === 'dist' ? above : path.join(above, 'dist'),
  'admin-web',
);

/**
 * Serves the React dashboard at `/`: index.html and its hashed assets, nothing else (its routes
 * live in the URL's hash, so every page is a shareable link without server routes).
 */
export function serveDashboard(app: INestApplication): void {
  if (!existsSync(path.join(DASHBOARD_DIR, 'index.html'))) {
    new Logger('Dashboard').warn(`no dashboard build at ${DASHBOARD_DIR}; run npm run build`);
    return;
  }
  (app as NestFastifyApplication).useStaticAssets({
    root: DASHBOARD_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
  });
}
