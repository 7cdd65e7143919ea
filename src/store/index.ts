export { Store, type PutArgs, type PutTarget, type ReadArgs, type ReadResult, type StoreDeps } from './store.js';
export { AtomicFile, openFileSource } from './files.js';
export { parseFamily, parseKeyValues, parseTags, resolveLayout, checkCopyName, FAMILIES, LAYOUTS } from './options.js';
