export { runCommand, runDaemon, signalled } from './run.js';
export { Service } from './service.js';
export { OwnerLock } from './lock.js';
export type { CommandResult, Event, Request, CallContext } from './protocol.js';
export type { MountRunOptions } from './mount.js';

/** `deimos mount`. Loaded on demand: the cache and FUSE boxes cost every other command's start-up. */
export async function runMount(o: import('./mount.js').MountRunOptions): Promise<void> {
  return (await import('./mount.js')).runMount(o);
}
export { callService } from './client.js';
