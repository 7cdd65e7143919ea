#!/usr/bin/env bash
# Builds the compiled CLI client (src/cli/quick.c) into build/deimos-quick,
# which bin/deimos runs first. Run at install (postinstall) and by the build:
# a C compiler is there already, node-gyp needs one for fuse-native.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
if [ ! -x build/deimos-quick ] || [ src/cli/quick.c -nt build/deimos-quick ]; then
  ${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -o build/deimos-quick.tmp src/cli/quick.c
  mv build/deimos-quick.tmp build/deimos-quick
fi
