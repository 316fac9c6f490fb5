export * from './app-process.js';
export * from './broker-probe.js';
export * from './env.js';
export * from './tcp-proxy.js';
export * from './stack.js';
export * from './routes.js';
export * from './operators.js';
export * from './metrics.js';
