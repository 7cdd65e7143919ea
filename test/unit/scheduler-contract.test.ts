import { POLICY_NAMES } from '../../src/scheduler/policies/index.js';
import { runSchedulerContract } from './schedulerContract.js';

for (const p of POLICY_NAMES) runSchedulerContract(p);
