#!/usr/bin/env bash
# Round trip of one FUSE op, in µs (medians of 5 runs of N calls): getxattr of
# a missing user attribute (one op, no catalog write) and chmod (a setattr and
# libfuse's getattr after it, one lazy catalog commit), on bindfs (C, libfuse)
# and on deimos with the worker's answer polling off (DEIMOS_FUSE_SPIN_US=0)
# and at its default.
#   bash test/bench/fuse-latency.sh [N=5000]
# Needs root (FUSE mounts), bindfs, python3; `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-5000}
source test/bench/mountLib.sh
bench_root latency
mkdir -p "$root/bind-back" "$root/mnt-bindfs"
bindfs "$root/bind-back" "$root/mnt-bindfs"
mount_deimos_dir nospin DEIMOS_FUSE_SPIN_US=0
mount_deimos_dir default
echo "| mount | getxattr µs | chmod µs |"
echo "|---|---|---|"
for m in bindfs nospin default; do
  echo x > "$root/mnt-$m/f"
  python3 - "$root/mnt-$m/f" "$m" "$n" <<'PY'
import os, statistics, sys, time
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def per_op(fn):
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(n): fn(i)
        runs.append(1e6 * (time.perf_counter() - t) / n)
    return statistics.median(runs)
def getx(i):
    try: os.getxattr(path, 'user.none')
    except OSError: pass
label = {'bindfs': 'bindfs', 'nospin': 'deimos, DEIMOS_FUSE_SPIN_US=0', 'default': 'deimos (default: 50)'}[name]
print(f"| {label} | {per_op(getx):.0f} | {per_op(lambda i: os.chmod(path, 0o600 if i % 2 else 0o644)):.0f} |")
PY
done
