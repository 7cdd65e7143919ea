#!/usr/bin/env bash
# npm run bench: every benchmark, one after the other (figures go into README.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
node dist/test/bench/store.js "${BENCH_SIZE_MIB:-1024}" "${BENCH_REPS:-5}"
node dist/test/bench/catalog.js "${BENCH_OBJECTS:-1000000}"
node dist/test/bench/sched.js "${BENCH_DRIVES:-4}"
