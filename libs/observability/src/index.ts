export * from './correlation.js';
export * from './health.js';
export * from './logging.js';
export * from './metrics.js';
export * from './observability.module.js';
export * from './metrics.controller.js';
