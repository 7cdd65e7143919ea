#!/usr/bin/env bash
# npm postinstall: apply our patches to node_modules (patches/*.patch, made by
# patch-package) and rebuild fuse-native's addon from its patched C source.
# Offline apart from what npm already fetched: node-gyp gets Node's headers
# from the local install (--nodedir); without it, it would download them.
set -euo pipefail
cd "$(dirname "$0")/.."

# --error-on-fail: a patch that no longer applies must fail the install, not
# leave the stock module in place (patch-package only does that on CI).
node node_modules/patch-package/index.js --error-on-fail

# node-gyp: the one npm runs scripts with, else a local one, else npm's own.
gyp="${npm_config_node_gyp:-}"
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  for cand in node_modules/node-gyp/bin/node-gyp.js \
              "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js" \
              "$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js"; do
    if [ -f "$cand" ]; then gyp="$cand"; break; fi
  done
fi
if [ -z "$gyp" ] || [ ! -f "$gyp" ]; then
  echo "postinstall: node-gyp not found (it ships with npm)" >&2
  exit 1
fi
gyp="$(readlink -f "$gyp")"

# Headers of the running node: <prefix>/include/node (/usr for Debian's and
# NodeSource's packages).
nodedir="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ ! -f "$nodedir/include/node/node_api.h" ]; then
  echo "postinstall: no Node headers in $nodedir/include/node (install the package that ships them)" >&2
  exit 1
fi

echo "postinstall: building fuse-native (patched) with $gyp --nodedir=$nodedir" >&2
( cd node_modules/fuse-native && node "$gyp" rebuild --nodedir="$nodedir" --loglevel=warn >/dev/null )

# index.js refuses to load over a stock addon; check it loads here, not at mount time.
node -e "if (require('fuse-native').DEIMOS_PATCH !== 7) process.exit(1)" ||
  { echo "postinstall: fuse-native is not the patched build" >&2; exit 1; }

# The compiled CLI client (bin/deimos runs it first).
bash scripts/build-client.sh
