#!/usr/bin/env bash
# Two builds of deimos side by side in one run, with bindfs and rclone mount
# --vfs-cache-mode full as in fuse.sh: the rows of fuse.sh, REPS repetitions,
# the two builds' order alternating from one repetition to the next, every
# figure printed and the medians.
#   BASE=/path/to/other/checkout [AB_ONLY=1] bash test/bench/fuse-ab.sh [SIZE_MIB=256] [FILES=2000] [REPS=3] [FAMILY=tape] [OPS="write read tarx lslR rsync"]
# BASE is a directory with bin/, dist/, package.json and node_modules of the
# build to compare against (A); this checkout is B. Needs root, bindfs,
# rclone, rsync; build both first.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-256}; files=${2:-2000}; reps=${3:-3}; family=${4:-tape}; ops=${5:-"write read tarx lslR rsync"}
[ -n "${BASE:-}" ] && [ -x "$BASE/bin/deimos" ] || { echo "set BASE to a build to compare against" >&2; exit 2; }
source test/bench/mountLib.sh
bench_root fuseab
declare -A BIN=([mnt-A]="$BASE/bin/deimos" [mnt-B]="$PWD/bin/deimos")

bench_tree "$files"

mkdir -p "$root/native" "$root/bind-back" "$root/mnt-bindfs" "$root/rclone-back" "$root/rclone-cache" "$root/mnt-rclone"
bindfs -o big_writes "$root/bind-back" "$root/mnt-bindfs"
rclone mount --vfs-cache-mode full --cache-dir "$root/rclone-cache" "$root/rclone-back" "$root/mnt-rclone" --daemon 2>/dev/null
export DEIMOS_LIBRARY_TIME_SCALE=${DEIMOS_LIBRARY_TIME_SCALE:-0.1}
for x in mnt-A mnt-B; do
  export DEIMOS_HOME=$root/home-$x
  mkdir -p "$root/$x" "$root/media-$x"
  if [ "$family" = tape ]; then
    bench_tapes "${BIN[$x]}"
  else
    "${BIN[$x]}" dir add --unlock "$root/media-$x" >/dev/null && "${BIN[$x]}" dir format "$root/media-$x" >/dev/null
  fi
  DEIMOS_CACHE_FAMILY=$family "${BIN[$x]}" mount "$root/$x" --cache-dir "$root/cache-$x" --cache-size 100G >/dev/null
done
for _ in $(seq 50); do mountpoint -q "$root/mnt-rclone" && break; sleep 0.2; done

drop() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
t() {
  local s e; s=$(date +%s%N)
  if ! "$@" >/dev/null 2>"$root/last.err"; then echo "$* failed: $(head -c 400 "$root/last.err")" >> "$root/failures"; fi
  e=$(date +%s%N); awk -v d=$((e - s)) 'BEGIN { printf "%.3f", d / 1e9 }'
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
has() { [[ " $ops " == *" $1 "* ]]; }
declare -A R
for ((r = 0; r < reps; r++)); do
  if ((r % 2 == 0)); then targets=(native mnt-bindfs mnt-rclone mnt-A mnt-B); else targets=(native mnt-bindfs mnt-rclone mnt-B mnt-A); fi
  # AB_ONLY=1: the two builds alone (more repetitions in the same time when only their difference matters).
  if [ -n "${AB_ONLY:-}" ]; then targets=("${targets[@]:3}"); fi
  for x in "${targets[@]}"; do
    dir="$root/$x/r$r"; mkdir -p "$dir"
    if has write || has read; then R[$x,write]+="$(t dd if=/dev/zero of="$dir/big" bs=1M count="$size" conv=fsync) "; fi
    if has read; then drop; R[$x,read]+="$(t dd if="$dir/big" of=/dev/null bs=1M) "; fi
    if has tarx || has lslR; then R[$x,tarx]+="$(t tar -C "$dir" -xf "$root/tree.tar") "; fi
    if has lslR; then R[$x,lslR]+="$(t ls -lR "$dir/tree") "; fi
    if has rsync; then R[$x,rsync]+="$(t rsync -a "$root/tree/" "$dir/rsynced/") "; fi
    rm -rf "$dir"
  done
done
all=(native mnt-bindfs mnt-rclone mnt-A mnt-B)
echo "| operation | native | bindfs | rclone | deimos A | deimos B | B vs A | B vs bindfs | B vs rclone |"
echo "|---|---|---|---|---|---|---|---|---|"
for op in write read tarx lslR rsync; do
  [ -n "${R[mnt-A,$op]:-}" ] || continue
  declare -A m
  for x in "${all[@]}"; do [ -n "${R[$x,$op]:-}" ] || R[$x,$op]=0; m[$x]=$(echo "${R[$x,$op]}" | tr ' ' '\n' | grep . | median); done
  printf '| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f× | %.2f× | %.2f× |\n' "$op" "${m[native]}" "${m[mnt-bindfs]}" "${m[mnt-rclone]}" "${m[mnt-A]}" "${m[mnt-B]}" \
    "$(awk -v a="${m[mnt-A]}" -v b="${m[mnt-B]}" 'BEGIN { print a / b }')" \
    "$(awk -v a="${m[mnt-bindfs]}" -v b="${m[mnt-B]}" 'BEGIN { print a / b }')" "$(awk -v a="${m[mnt-rclone]}" -v b="${m[mnt-B]}" 'BEGIN { print a / b }')"
done
echo "(seconds, medians of $reps, size $size MiB, $files files, deimos flushes to $family; ratios are speed, > 1: B faster)"
echo "every figure:"
for op in write read tarx lslR rsync; do
  [ -n "${R[mnt-A,$op]:-}" ] || continue
  for x in "${all[@]}"; do echo "  $op $x: ${R[$x,$op]}"; done
done
for x in mnt-A mnt-B; do DEIMOS_HOME=$root/home-$x "${BIN[$x]}" umount "$root/$x" >/dev/null || true; done
if [ -s "$root/failures" ]; then
  echo "FAILED, these figures are not valid:" >&2; cat "$root/failures" >&2
  exit 1
fi
