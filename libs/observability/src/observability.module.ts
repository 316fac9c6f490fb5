import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import {
  DEGRADING_CHECKS,
  HealthController,
  READINESS_CHECKS,
  type ReadinessCheck,
  type ReadinessCheckClass,
} from './health.js';
import { loggerParams } from './logging.js';
import { Metrics } from './metrics.js';
import { MetricsController } from './metrics.controller.js';
import { DatabasePoolGauge } from './pool-gauge.js';

export interface ObservabilityOptions {
  app: string;
  logLevel: string;
  /** What /health/ready checks: the app's database, broker, … */
  readiness: ReadinessCheckClass[];
  /** Also shown in /health/ready, but their failure only marks the app degraded (still ready). */
  degradedBy?: ReadinessCheckClass[];
}

/** JSON logs with correlation ids, /metrics and /health/{live,ready} for one app. */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        LoggerModule.forRoot(loggerParams(options.app, options.logLevel)),
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: Metrics, useFactory: () => new Metrics(options.app) },
        DatabasePoolGauge,
        ...options.readiness,
        ...(options.degradedBy ?? []),
        {
          provide: READINESS_CHECKS,
          useFactory: (...checks: ReadinessCheck[]) => checks,
          inject: options.readiness,
        },
        {
          provide: DEGRADING_CHECKS,
          useFactory: (...checks: ReadinessCheck[]) => checks,
          inject: options.degradedBy ?? [],
        },
      ],
      exports: [Metrics],
    };
  }
}
