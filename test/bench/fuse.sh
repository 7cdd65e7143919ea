#!/usr/bin/env bash
# The mount against the native cache disk, bindfs (a C FUSE passthrough: the
# FUSE limit here) and rclone mount --vfs-cache-mode full (what sites run),
# side by side in one run, REPS repetitions, medians in seconds.
#   bash test/bench/fuse.sh [SIZE_MIB=1024] [FILES=10000] [REPS=3] [FAMILY=tape]
# FAMILY is where deimos flushes: `tape` (the product: grouped puts to the sim
# library, DEIMOS_LIBRARY_TIME_SCALE=0.1 unless set) or `dir` (a directory
# medium on the same disk, one put per file).
# Needs root (FUSE mounts, drop_caches), bindfs, rclone, rsync; `npm run build` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-1024}; files=${2:-10000}; reps=${3:-3}; family=${4:-tape}
source test/bench/mountLib.sh
bench_root fusebench
export DEIMOS_HOME=$root/home

bench_tree "$files"

mkdir -p "$root/native" "$root/bind-back" "$root/mnt-bindfs" "$root/rclone-back" "$root/rclone-cache" "$root/mnt-rclone" "$root/mnt-deimos" "$root/media"
bindfs -o big_writes "$root/bind-back" "$root/mnt-bindfs"
rclone mount --vfs-cache-mode full --cache-dir "$root/rclone-cache" "$root/rclone-back" "$root/mnt-rclone" --daemon
if [ "$family" = tape ]; then
  export DEIMOS_LIBRARY_TIME_SCALE=${DEIMOS_LIBRARY_TIME_SCALE:-0.1}
  bench_tapes
else
  "$deimos" dir add --unlock "$root/media" >/dev/null && "$deimos" dir format "$root/media" >/dev/null
fi
DEIMOS_CACHE_FAMILY=$family "$deimos" mount "$root/mnt-deimos" --cache-dir "$root/deimos-cache" --cache-size 100G >/dev/null
for _ in $(seq 50); do mountpoint -q "$root/mnt-rclone" && break; sleep 0.2; done

targets=(native mnt-bindfs mnt-rclone mnt-deimos)
drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
# Times one command; a command that fails is reported and fails the run (a fast failure is no figure).
t() {
  local s e; s=$(date +%s%N)
  if ! "$@" >/dev/null 2>"$root/last.err"; then echo "$* failed: $(head -c 400 "$root/last.err")" >> "$root/failures"; fi
  e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.3f", d / 1e9 }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A R
# Each repetition takes the targets in another order (a Latin square: each
# target comes after each other one), and every row waits until the machine
# is idle: rclone uploads what was written a few seconds after its rows, and
# a rotation alone had left deimos always right after rclone.
orders=("0 1 2 3" "1 3 0 2" "2 0 3 1" "3 2 1 0")
for ((r = 0; r < reps; r++)); do
  order=(); for i in ${orders[r % 4]}; do order+=("${targets[i]}"); done
  for x in "${order[@]}"; do
    dir="$root/$x/r$r"; mkdir -p "$dir"
    settle
    R[$x,write]+="$(t dd if=/dev/zero of="$dir/big" bs=1M count="$size" conv=fsync) "
    drop; settle
    R[$x,read]+="$(t dd if="$dir/big" of=/dev/null bs=1M) "
    settle; R[$x,tarx]+="$(t tar -C "$dir" -xf "$root/tree.tar") "
    settle; R[$x,lslR]+="$(t ls -lR "$dir/tree") "
    settle; R[$x,rsync]+="$(t rsync -a "$root/tree/" "$dir/rsynced/") "
    rm -rf "$dir"
  done
done
echo "| operation | native | bindfs | rclone full cache | deimos | deimos vs bindfs | deimos vs rclone |"
echo "|---|---|---|---|---|---|---|"
for op in write read tarx lslR rsync; do
  declare -A m
  for x in "${targets[@]}"; do m[$x]=$(echo "${R[$x,$op]}" | tr ' ' '\n' | grep . | median); done
  label=$op
  case $op in write) label="dd write ${size} MiB (fsync)";; read) label="dd read ${size} MiB (cold)";; tarx) label="tar x of $files files";; lslR) label="ls -lR of the tree";; rsync) label="rsync -a of the tree";; esac
  printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f× | %.2f× |\n' "$label" "${m[native]}" "${m[mnt-bindfs]}" "${m[mnt-rclone]}" "${m[mnt-deimos]}" \
    "$(awk -v a="${m[mnt-bindfs]}" -v b="${m[mnt-deimos]}" 'BEGIN { print a / b }')" "$(awk -v a="${m[mnt-rclone]}" -v b="${m[mnt-deimos]}" 'BEGIN { print a / b }')"
done
echo "(seconds, medians of $reps; the ratios are speed: >1 means deimos is faster; deimos flushes to $family)"
"$deimos" umount "$root/mnt-deimos" >/dev/null
if [ -s "$root/failures" ]; then
  echo "FAILED, these figures are not valid:" >&2; cat "$root/failures" >&2
  echo "last lines of the deimos service log:" >&2; tail -20 "$DEIMOS_HOME/mount.log" >&2
  exit 1
fi
