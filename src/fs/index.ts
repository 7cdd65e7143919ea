/** The file-system box: the mount's operations over the disk cache and the catalog. */
export { Vfs } from './vfs.js';
export * from './types.js';
export { CONTROL, catalogPath, treePattern } from './paths.js';
