#!/usr/bin/env bash
# Nightly backup of a directory tree into the archive with rsync, unattended
# (cron or a systemd timer at 3 a.m.). Exits 0 only when every file is in
# the archive AND on tape; any other exit code says what failed, and the
# next run picks up where this one stopped (rsync only sends what changed).
#
#   backup-rsync.sh SOURCE_DIR /mnt/archive/backups/NAME
#
# Needs: rsync, and the archive mounted (deimos mount, fstab or systemd unit).
set -uo pipefail

src=${1:?usage: backup-rsync.sh SOURCE_DIR ARCHIVE_DIR}
dest=${2:?usage: backup-rsync.sh SOURCE_DIR ARCHIVE_DIR}
log() { printf '%s backup-rsync: %s\n' "$(date -Is)" "$*" >&2; }

# One run at a time: a slow tape flush must not overlap tomorrow's run.
exec 9>"/tmp/backup-rsync.$(id -u).lock"
if ! flock -n 9; then log "another run holds the lock; nothing done"; exit 75; fi

# The archive must be mounted: otherwise we would fill the local disk under the mount point.
probe="$dest"
while [ ! -d "$probe" ]; do probe=$(dirname "$probe"); done
if [ "$(findmnt -n -o FSTYPE -T "$probe")" != fuse.deimos ]; then
  log "$dest is not in a Deimos mount: is the archive mounted?"; exit 2
fi
mkdir -p "$dest" || { log "cannot create $dest"; exit 1; }

# -aHX: permissions, times, hard links, xattrs (user metadata goes with them).
# --partial-dir keeps interrupted files out of sight until complete.
rsync -aHX --partial-dir=.rsync-partial --stats "$src"/ "$dest"/
rc=$?
case $rc in
  0) ;;
  24) log "some source files vanished during the copy (rc 24): they go next time" ;;
  *) log "rsync failed with exit code $rc"; exit "$rc" ;;
esac

# The files are in the disk cache now; the backup counts only once on tape.
if ! deimos flush --wait "$dest"; then
  rc=$?
  log "flush to tape failed (exit $rc): the data is safe in the cache and is retried by the service"
  exit "$rc"
fi
log "done: $src is in $dest and on tape"
exit 0
