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
  rm -rf "$root"
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
