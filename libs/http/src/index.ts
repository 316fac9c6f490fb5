export * from './http-app.js';
export * from './problem.js';
export * from './rate-limit.js';
