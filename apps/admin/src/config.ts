import { z } from 'zod';
import { amqpEnv, databaseEnv, int, loadEnv, port, requiredInProduction, runtimeEnv } from '#config';

export const adminEnv = {
  ...runtimeEnv,
  ...databaseEnv,
  ...amqpEnv,
  ...port('ADMIN_PORT', 3001),
  /** Signs operators' access tokens (HS256, ≥ 32 characters). Unset: a random key per start (development only). */
  ADMIN_JWT_SECRET: requiredInProduction(z.string().min(32, 'must be at least 32 characters').optional()),
  /** Access token lifetime. */
  ADMIN_ACCESS_TTL_SECONDS: int(30, 24 * 3600, 900),
  /** Refresh token lifetime. */
  ADMIN_REFRESH_TTL_SECONDS: int(300, 90 * 24 * 3600, 7 * 24 * 3600),
  /** Balance adjustments above this (minor units) need a second operator's approval. */
  ADMIN_ADJUSTMENT_APPROVAL_THRESHOLD: int(0, Number.MAX_SAFE_INTEGER, 100_000),
  /** The first admin, created on first start when there is no operator yet. */
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
};
export type AdminConfig = ReturnType<typeof loadAdminConfig>;
export const loadAdminConfig = () => loadEnv(adminEnv);
