#!/usr/bin/env bash
# Installs what Deimos, its tests and its demo need on a fresh Debian machine
# with Node 20: system packages (when missing), node modules, the build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in fusermount:fuse rsync:rsync getfattr:attr bindfs:bindfs rclone:rclone; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
ldconfig -p 2>/dev/null | grep -q 'libfuse.so.2 ' || need+=(libfuse2)
if [ ${#need[@]} -gt 0 ]; then
  sudo=''
  [ "$(id -u)" = 0 ] || sudo='sudo'
  echo "setup: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# npm ci only when node_modules is missing or older than the lock file, or
# the addon older than our patch to it (postinstall applies it and rebuilds).
addon=node_modules/fuse-native/build/Release/fuse.node
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] || [ ! -f "$addon" ] || [ patches/fuse-native+2.2.6.patch -nt "$addon" ]; then
  npm ci --no-audit --no-fund
fi
