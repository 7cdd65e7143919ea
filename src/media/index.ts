export type { ExtentHeader, WrittenExtent, MediumSpace, MediumIO, PayloadReader } from './interface.js';
export { PosixMedium, openPosixMedium, type PosixMediumOptions } from './posix.js';
export { formatPosixMedium, readLabel, syncDir, LABEL_FILE, type PosixLabel } from './posixLabel.js';
export { MAGIC as EXTENT_MAGIC, FOOTER_LEN as EXTENT_FOOTER_LEN } from './extentFile.js';
