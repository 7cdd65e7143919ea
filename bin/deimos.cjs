#!/usr/bin/env node
// CommonJS (.cjs): a put or get through the service starts without the ESM loader (see src/cli/quick.cts).
require('../dist/src/cli/quick.cjs').main(process.argv);
