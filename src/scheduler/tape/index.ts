export { TapeScheduler, type TapeSchedulerOptions } from './scheduler.js';
export type { TapeSchedulerStatus, TapeDriveActivity } from './status.js';
export { FairShare, parseShares, type ReqType, type ShareSetting } from './fairShare.js';
export { chooseWriteMedia, type WriteCandidate } from './writeChoice.js';
export { ACTIVITIES, type Activity } from './counters.js';
