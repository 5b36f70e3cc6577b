#!/bin/sh
# Runs the Node integration tests against the herald binary given as $1.
# Installs the locked packages (`ws`, `eventsource`) first if node_modules is missing (CI has the npm registry).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -ne 1 ] || [ ! -x "$1" ]; then
  echo "usage: run.sh /path/to/herald (got: $*)" >&2
  exit 2
fi
if [ ! -f "$here/node_modules/ws/package.json" ] || [ ! -f "$here/node_modules/eventsource/package.json" ]; then
  echo "node_modules missing: npm ci --prefix $here" >&2
  npm ci --prefix "$here" --no-audit --no-fund >&2
fi
HERALD_BIN=$1 exec node --test --test-timeout=60000 --test-reporter=spec "$here/echo.test.mjs" "$here/chat.test.mjs" "$here/sse.test.mjs" "$here/tls.test.mjs"
