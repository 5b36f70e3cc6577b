#!/bin/sh
# Runs the JavaScript SDK's tests (clients/js) with Node's own test runner.
#   run.sh unit              unit tests: fake clock, fake transports; needs no server and no npm
#                            package
#   run.sh integration BIN   integration tests against the herald binary BIN (npm `ws` as the
#                            WebSocket, npm `eventsource` as the EventSource, Node's fetch),
#                            over each transport; installs the locked devDependencies first if
#                            node_modules is missing (CI has the npm registry)
#   run.sh cluster BIN       three herald nodes on a real redis-server (test/cluster/): a node
#                            killed under load, its SDK clients moving to the others
# ctest runs all three (tests/integration/js_sdk.cmake, label `js`; cluster only when
# redis-server is installed).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
pkg=$(dirname "$here")
usage() {
  echo "usage: run.sh unit | run.sh integration|cluster /path/to/herald (got: $*)" >&2
  exit 2
}
[ "$#" -ge 1 ] || usage "$@"
case "$1" in
  unit)
    [ "$#" -eq 1 ] || usage "$@"
    exec node --test --test-reporter=spec "$here"/unit/*.test.mjs
    ;;
  integration|cluster)
    if [ "$#" -ne 2 ] || [ ! -x "$2" ]; then
      usage "$@"
    fi
    if [ ! -f "$pkg/node_modules/ws/package.json" ] ||
       [ ! -f "$pkg/node_modules/eventsource/package.json" ]; then
      echo "node_modules missing: npm ci --prefix $pkg" >&2
      npm ci --prefix "$pkg" --no-audit --no-fund >&2
    fi
    HERALD_BIN=$2 exec node --test --test-reporter=spec "$here/$1"/*.test.mjs
    ;;
  *)
    usage "$@"
    ;;
esac
