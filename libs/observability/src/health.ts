import { Controller, Get, Inject, Res, ServiceUnavailableException, type Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

/** Something the app needs to do its work; readiness fails while any check throws. */
export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
/** Checks shown in /health/ready whose failure marks the app degraded, not unready. */
export const DEGRADING_CHECKS = Symbol('DEGRADING_CHECKS');
export type ReadinessCheckClass = Type<ReadinessCheck>;

const CHECK_TIMEOUT_MS = 2_000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    @Inject(DEGRADING_CHECKS) private readonly degrading: ReadinessCheck[],
  ) {}

  /** The process is alive and its event loop turns. Never depends on the database or broker. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /**
   * The process can do its work: every required dependency answers. A degrading check that fails
   * shows as `degraded` (still 200): the app serves without that dependency.
   */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: { code(status: number): unknown }) {
    const attempt = (c: ReadinessCheck) =>
      this.indicators
        .check(c.name)
        .attempt(({ signal }) => c.check(signal))
        .withTimeout(CHECK_TIMEOUT_MS);
    try {
      return await this.health.check([
        ...this.checks.map((c) => () => attempt(c)),
        ...this.degrading.map((c) => async () => {
          const result = await attempt(c);
          const { status, ...data } = result[c.name];
          return status === 'down' ? this.indicators.check(c.name).degraded(data) : result;
        }),
      ]);
    } catch (error) {
      // Answer terminus's own report whatever error filter the app installs for its API.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.code(503);
      return error.getResponse();
    }
  }
}
