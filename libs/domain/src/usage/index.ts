export * from './usage.js';
export * from './event-schema.js';
export * from './event-metrics.js';
