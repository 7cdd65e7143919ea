#!/usr/bin/env bash
# Wall time and the mount service's CPU (utime+stime of its process, all
# threads) for tar x and/or rsync -a of FILES small files, two deimos
# mounts (A: the build in BASE, or this one with ENV_A; B: this one with
# ENV_B) alternating, REPS rounds. CPU is steadier than wall time on a
# shared machine.
#   BASE=/path/to/build [ENV_A="DEIMOS_FUSE_SPIN_US=0"] [ENV_B=...] bash test/bench/fuse-cpu.sh [FILES=2000] [REPS=4] [OPS="tarx rsync"]
# Needs root (FUSE mounts), rsync; build first.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000}; reps=${2:-4}; ops=${3:-"tarx rsync"}
BASE=${BASE:-$PWD}
source test/bench/mountLib.sh
bench_root cpuab
export DEIMOS_LIBRARY_TIME_SCALE=0.1
# A service may still be stopping after its unmount: give it a second before the tree goes.
trap 'for m in $root/mnt-*; do fusermount -uz $m 2>/dev/null||true; done; sleep 1; rm -rf $root 2>/dev/null || true' EXIT
bench_tree "$N"
declare -A BIN=([A]="$BASE/bin/deimos" [B]="$PWD/bin/deimos") PID
for x in A B; do
  export DEIMOS_HOME=$root/home-$x; mkdir -p $root/mnt-$x
  bench_tapes "${BIN[$x]}"
  if [ $x = A ]; then xenv=${ENV_A:-X=1}; else xenv=${ENV_B:-X=1}; fi
  env $xenv DEIMOS_CACHE_FAMILY=tape ${BIN[$x]} mount $root/mnt-$x --cache-dir $root/cache-$x --cache-size 100G >/dev/null
  PID[$x]=$(pgrep -f "deimos(\.cjs)? mount $root/mnt-$x" | tail -1)
done
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for ((r = 0; r < reps; r++)); do
  if ((r % 2)); then order="B A"; else order="A B"; fi
  for x in $order; do
    for op in $ops; do
      c0=$(cpu ${PID[$x]}); s=$(date +%s%N)
      case $op in
        rsync) rsync -a $root/tree/ $root/mnt-$x/r$r/ ;;
        tarx) mkdir -p $root/mnt-$x/t$r && tar -C $root/mnt-$x/t$r -xf $root/tree.tar ;;
      esac
      e=$(date +%s%N); c1=$(cpu ${PID[$x]})
      echo "$x $op wall $(( (e - s) / 1000000 )) ms cpu $(( (c1 - c0) * 10 )) ms"
    done
  done
done
for x in A B; do DEIMOS_HOME=$root/home-$x ${BIN[$x]} umount $root/mnt-$x >/dev/null 2>&1 || true; done
