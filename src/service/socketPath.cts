// CommonJS, node built-ins only: the CLI's socket-only path (cli/quick.cts) loads it without the ESM loader.

/**
 * sun_path holds at most 107 bytes; a long $DEIMOS_HOME gets a Linux
 * abstract socket named after it instead. node:crypto is loaded only then:
 * every CLI command resolves this address, and loading it costs a few ms
 * of the start-up that a put or get through the service waits for.
 */
export function socketAddress(path: string): string {
  if (Buffer.byteLength(path) <= 100) return path;
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return `\0deimos-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
}
