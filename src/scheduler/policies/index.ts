import { DeimosError } from '../../core/errors.js';
import { costPolicy } from './cost.js';
import { fifoPolicy } from './fifo.js';
import { groupedFifoPolicy } from './groupedFifo.js';
import { groupedSortedPolicy } from './groupedSorted.js';
import { POLICY_NAMES, type PolicyName, type PolicyOptions, type ReadPolicy } from './interface.js';
import { nearestPolicy } from './nearest.js';

export * from './interface.js';

/** The policy named by `io_sched.policy`. */
export function createPolicy(name: string, opts: PolicyOptions): ReadPolicy {
  switch (name as PolicyName) {
    case 'fifo': return fifoPolicy();
    case 'grouped-fifo': return groupedFifoPolicy();
    case 'grouped-sorted': return groupedSortedPolicy();
    case 'nearest': return nearestPolicy();
    case 'cost': return costPolicy(opts);
    default:
      throw new DeimosError('EINVAL', `unknown io_sched.policy '${name}'`, `use one of ${POLICY_NAMES.join(', ')}`);
  }
}

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}
