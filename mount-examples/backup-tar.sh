#!/usr/bin/env bash
# Dated tar archives of a directory into the archive, unattended. Each run
# writes NAME-YYYYmmdd-HHMMSS.tar.gz under a temporary name, checks it can be
# read back, renames it into place, and waits until it is on tape. Exits 0
# only then; a failed run leaves no half archive under the final name.
#
#   backup-tar.sh SOURCE_DIR /mnt/archive/backups NAME
set -uo pipefail

src=${1:?usage: backup-tar.sh SOURCE_DIR ARCHIVE_DIR NAME}
dir=${2:?usage: backup-tar.sh SOURCE_DIR ARCHIVE_DIR NAME}
name=${3:?usage: backup-tar.sh SOURCE_DIR ARCHIVE_DIR NAME}
log() { printf '%s backup-tar: %s\n' "$(date -Is)" "$*" >&2; }

exec 9>"/tmp/backup-tar.$(id -u).$name.lock"
if ! flock -n 9; then log "another run for $name holds the lock; nothing done"; exit 75; fi

# The archive must be mounted: otherwise we would fill the local disk under the mount point.
probe="$dir"
while [ ! -d "$probe" ]; do probe=$(dirname "$probe"); done
if [ "$(findmnt -n -o FSTYPE -T "$probe")" != fuse.deimos ]; then
  log "$dir is not in a Deimos mount: is the archive mounted?"; exit 2
fi
mkdir -p "$dir" || { log "cannot create $dir"; exit 1; }
final="$dir/$name-$(date +%Y%m%d-%H%M%S).tar.gz"
tmp="$dir/.$name.partial.tar.gz"
trap 'rm -f "$tmp"' EXIT

# --xattrs keeps user metadata; tar exits 1 when files changed while read.
tar --xattrs -czf "$tmp" -C "$(dirname "$src")" "$(basename "$src")"
rc=$?
if [ "$rc" -gt 1 ]; then log "tar failed with exit code $rc"; exit "$rc"; fi
[ "$rc" -eq 1 ] && log "some files changed while being archived (tar rc 1)"

if ! tar -tzf "$tmp" >/dev/null; then log "the archive does not read back: kept nothing"; exit 5; fi
mv "$tmp" "$final" || { log "cannot rename into $final"; exit 1; }
trap - EXIT

if ! deimos flush --wait "$final"; then
  rc=$?
  log "flush to tape failed (exit $rc): $final is safe in the cache and is retried by the service"
  exit "$rc"
fi
log "done: $final is on tape"
exit 0
