#!/bin/sh
# Runs the Pusher suite (pusher-js 8 over WebSocket and over its HTTP fallbacks, and the `pusher`
# server library, from the checked-in package-lock.json) against the herald binary given as $1.
# Installs them first if missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: run.sh /path/to/herald (got: $*)" >&2
  exit 2
fi
if [ ! -f "$here/node_modules/pusher-js/package.json" ] || [ ! -f "$here/node_modules/pusher/package.json" ]; then
  echo "node_modules missing: npm ci --prefix $here" >&2
  npm ci --prefix "$here" --no-audit --no-fund >&2
fi
HERALD_BIN=$1 exec node --test --test-force-exit --test-timeout=60000 --test-reporter=spec "$here"/*.test.mjs
