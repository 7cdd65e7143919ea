#!/usr/bin/env bash
# Regenerates the scheduler benchmark: the traces (deterministic), then one
# markdown table per trace, every policy against the lower bound, on the
# virtual clock through the real scheduler and sim library.
#   bash test/bench/sched.sh [DRIVES]      (default 4 drives)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f dist/test/bench/gen-trace.js ] && [ -f dist/test/bench/sched.js ] || npx tsc -p .
node dist/test/bench/gen-trace.js test/bench/traces >&2
node dist/test/bench/sched.js "${1:-4}" | tee test/bench/sched-results.md
