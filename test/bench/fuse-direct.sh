#!/usr/bin/env bash
# The mount's direct data path on and off ([fuse] direct), side by side:
# dd write of SIZE MiB with fsync, cold dd read (caches dropped), and three
# warm O_DIRECT reads (each 1 MiB read reaches the file system: the op
# overhead alone), REPS rounds alternating the two settings, seconds.
#   bash test/bench/fuse-direct.sh [SIZE_MIB=512] [REPS=2]
# Needs root (FUSE, drop_caches); `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-512}; reps=${2:-2}
source test/bench/mountLib.sh
bench_root direct
secs() { awk -v d="$1" 'BEGIN { printf "%.2f", d / 1e9 }'; }
echo "| direct | dd write (fsync) | dd read (cold) | O_DIRECT read (warm), 3 runs |"
echo "|---|---|---|---|"
for ((r = 0; r < reps; r++)); do
  for direct in true false; do
    k=$direct-$r
    mount_deimos_dir "$k" DEIMOS_FUSE_DIRECT=$direct
    f=$root/mnt-$k/big
    s=$(date +%s%N); dd if=/dev/zero of="$f" bs=1M count="$size" conv=fsync 2>/dev/null; e=$(date +%s%N); w=$(secs $((e - s)))
    sync; echo 3 > /proc/sys/vm/drop_caches
    s=$(date +%s%N); dd if="$f" of=/dev/null bs=1M 2>/dev/null; e=$(date +%s%N); c=$(secs $((e - s)))
    warm=""
    for _ in 1 2 3; do s=$(date +%s%N); dd if="$f" of=/dev/null bs=1M iflag=direct 2>/dev/null; e=$(date +%s%N); warm+="$(secs $((e - s))) "; done
    [ "$(stat -c %s "$f")" = $((size << 20)) ] || { echo "size of $f is wrong" >&2; exit 1; }
    echo "| $direct | $w | $c | $warm|"
    "$deimos" umount "$root/mnt-$k" >/dev/null 2>&1 || true
  done
done
