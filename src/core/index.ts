export * from './errors.js';
export * from './units.js';
export * from './nodeset.js';
export * from './config.js';
export * from './home.cjs';
export * from './log.js';
export * from './process.js';
export * from './concurrency.js';
