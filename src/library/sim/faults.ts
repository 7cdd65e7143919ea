import type { Config } from '../../core/config.js';
import { parseFaults } from './inventory.js';

/**
 * Failures injected from the config (library.fail_load, library.fail_read),
 * so tests and demos exercise the error paths of the real code: logs,
 * health counting, a drive marked failed, the scheduler going elsewhere.
 * Counts are per process: a restart re-arms them.
 */
export class Faults {
  private readonly load: Map<string, number>;
  private readonly read: Map<string, number>;

  constructor(c: Config) {
    this.load = parseFaults(c.str('library', 'fail_load'), 'library.fail_load');
    this.read = parseFaults(c.str('library', 'fail_read'), 'library.fail_read');
  }

  /** Which of `names` (the drive and the cartridge of a load attempt) make it fail now. */
  loadFails(names: string[]): string[] {
    return names.filter((n) => take(this.load, n));
  }

  readFails(label: string): boolean {
    return take(this.read, label);
  }
}

function take(left: Map<string, number>, name: string): boolean {
  const n = left.get(name);
  if (n === undefined || n <= 0) return false;
  left.set(name, n - 1);
  return true;
}
