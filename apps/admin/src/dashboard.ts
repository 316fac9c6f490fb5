import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Logger, type INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Where `npm run build` puts the dashboard (Vite): dist/admin-web. */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../admin-web');

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
