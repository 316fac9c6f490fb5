import { Controller, Get, Inject, Res, ServiceUnavailableException, type Type } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';

/** Something the app needs to do its work; readiness fails while any check throws. */
export interface ReadinessCheck {
  readonly name: string;
  check(signal: AbortSignal): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');
export type ReadinessCheckClass = Type<ReadinessCheck>;

const CHECK_TIMEOUT_MS = 2_000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
  ) {}

  /** The process is alive and its event loop turns. Never depends on the database or broker. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** The process can do its work: every dependency answers. */
  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: { code(status: number): unknown }) {
    try {
      return await this.health.check(
        this.checks.map(
          (c) => () =>
            this.indicators
              .check(c.name)
              .attempt(({ signal }) => c.check(signal))
              .withTimeout(CHECK_TIMEOUT_MS),
        ),
      );
    } catch (error) {
      // Answer terminus's own report whatever error filter the app installs for its API.
      if (!(error instanceof ServiceUnavailableException)) throw error;
      reply.code(503);
      return error.getResponse();
    }
  }
}
