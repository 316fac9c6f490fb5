export * from './bought-together.js';
export * from './neighbour-sets.js';
export * from './pair.repository.js';
