import { createHash } from 'node:crypto';

/**
 * sun_path holds at most 107 bytes; a long $DEIMOS_HOME gets a Linux
 * abstract socket named after it instead.
 */
export function socketAddress(path: string): string {
  if (Buffer.byteLength(path) <= 100) return path;
  return `\0deimos-${createHash('sha256').update(path).digest('hex').slice(0, 32)}`;
}
