#!/usr/bin/env bash
# rsync -a into a mount whose flusher has a backlog: one deimos mount
# (flushing to the sim library), tar x of FILES small files, then ls -lR,
# then rsync -a of the same tree beside it, as fuse.sh's rows follow each
# other, and `rm -rf` of both at the end of each repetition, as fuse.sh
# does. Prints wall time, the service's CPU (all threads) and its main
# thread's CPU for each step: the main thread runs JS, and the flusher's
# work shares it with the FUSE ops; and after each repetition the size of
# the catalog's files (the database and its WAL).
#   [ENV="DEIMOS_CACHE_FLUSH_NB=1000000 ..."] bash test/bench/fuse-backlog.sh [FILES=10000] [REPS=1]
# Needs root (FUSE mounts), rsync; build first.
set -euo pipefail
cd "$(dirname "$0")/../.."
files=${1:-10000}; reps=${2:-1}
source test/bench/mountLib.sh
bench_root backlog
export DEIMOS_HOME=$root/home DEIMOS_LIBRARY_TIME_SCALE=${DEIMOS_LIBRARY_TIME_SCALE:-0.1}
bench_tree "$files"
mkdir -p "$root/mnt-d"
bench_tapes
env ${ENV:-X=1} DEIMOS_CACHE_FAMILY=tape "$deimos" mount "$root/mnt-d" --cache-dir "$root/cache" --cache-size 100G >/dev/null
pid=$(pgrep -f "deimos(\.cjs)? mount $root/mnt-d" | tail -1)
ticks() { awk '{print $14 + $15}' "$1"; }
step() {
  local c0 m0 s e
  c0=$(ticks "/proc/$pid/stat"); m0=$(ticks "/proc/$pid/task/$pid/stat"); s=$(date +%s%N)
  "$@" >/dev/null
  e=$(date +%s%N)
  echo "$1: wall $(((e - s) / 1000000)) ms, service cpu $((($(ticks "/proc/$pid/stat") - c0) * 10)) ms, main thread $((($(ticks "/proc/$pid/task/$pid/stat") - m0) * 10)) ms"
}
for ((r = 0; r < reps; r++)); do
  mkdir -p "$root/mnt-d/r$r"
  step tar -C "$root/mnt-d/r$r" -xf "$root/tree.tar"
  settle; step ls -lR "$root/mnt-d/r$r/tree"
  settle; step rsync -a "$root/tree/" "$root/mnt-d/r$r/rsynced/"
  settle; step rm -rf "$root/mnt-d/r$r"
  echo "catalog after repetition $((r + 1)): $(du -k --apparent-size "$DEIMOS_HOME"/catalog.db* | awk '{ sub(".*/", "", $2); printf "%s %.1f MiB  ", $2, $1 / 1024 }')"
done
"$deimos" umount "$root/mnt-d" >/dev/null
