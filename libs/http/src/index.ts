export * from './amount.js';
export * from './http-app.js';
export * from './problem.js';
export * from './problem-view.js';
export * from './rate-limit.js';
export * from './validation.js';
export * from './validation-metadata.js';
export * from './problem-docs.js';
