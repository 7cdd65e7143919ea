# Sourced by the FUSE benchmarks run from the repository root: a scratch
# directory whose mnt-* mounts are undone on exit, and deimos mounts on it.

# bench_root NAME: sets $root (/var/tmp/deimos-NAME.*) and $deimos.
bench_root() {
  root=$(mktemp -d "/var/tmp/deimos-$1.XXXXXX")
  deimos="$PWD/bin/deimos"
  export DEIMOS_CONFIG=/dev/null DEIMOS_LOG_LEVEL=error
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for m in "$root"/mnt-*; do fusermount -uz "$m" 2>/dev/null || true; done
  pkill -f "rclone mount .*$root" 2>/dev/null || true
  rm -rf "$root"
}

# bench_tree FILES: $root/tree, FILES small files (0..8 KiB) in nested
# directories, and the same as the tarball $root/tree.tar.
bench_tree() {
  mkdir -p "$root/tree"
  for ((i = 0; i < $1; i++)); do
    local d="$root/tree/d$((i % 50))/e$((i % 7))"; mkdir -p "$d"
    head -c $(((i * 131) % 8192)) /dev/urandom > "$d/f$i"
  done
  tar -C "$root" -cf "$root/tree.tar" tree
}

# bench_tapes [BIN]: four drives and four formatted LTO9 cartridges in the
# sim library of $DEIMOS_HOME, with BIN (default $deimos).
bench_tapes() {
  local bin=${1:-$deimos}
  "$bin" drive add --unlock 'st[0-3]' >/dev/null
  "$bin" tape add --type LTO9 --unlock 'L[00000-00003]L9' >/dev/null && "$bin" tape format 'L[00000-00003]L9' >/dev/null
}

# mount_deimos_dir NAME [VAR=value...]: a store of its own (DEIMOS_HOME)
# flushing to a directory medium, mounted on $root/mnt-NAME with the
# given environment.
mount_deimos_dir() {
  local name=$1
  shift
  export DEIMOS_HOME=$root/home-$name
  mkdir -p "$root/mnt-$name" "$root/media-$name"
  "$deimos" dir add --unlock "$root/media-$name" >/dev/null && "$deimos" dir format "$root/media-$name" >/dev/null
  env "$@" DEIMOS_CACHE_FAMILY=dir "$deimos" mount "$root/mnt-$name" --cache-dir "$root/cache-$name" --cache-size 20G >/dev/null
}

# settle: waits (at most 20 s) until the machine has been idle (under 10%
# busy) for half a second, so that one target's background work (rclone's
# uploads, deimos's flushes) is not timed as the next target's.
settle() {
  sync
  local i
  for ((i = 0; i < 40; i++)); do
    local a b
    a=$(head -1 /proc/stat); sleep 0.5; b=$(head -1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
      n = split(a, x); split(b, y); busy = 0; all = 0
      for (k = 2; k <= n; k++) { d = y[k] - x[k]; all += d; if (k != 5 && k != 6) busy += d }
      exit !(all > 0 && busy / all < 0.10)
    }' && return 0
  done
}
