export { runCommand, runDaemon, signalled } from './run.js';
export { Service } from './service.js';
export { OwnerLock } from './lock.js';
export type { CommandResult, Event, Request, CallContext } from './protocol.js';
export { runMount, type MountRunOptions } from './mount.js';
export { callService } from './client.js';
