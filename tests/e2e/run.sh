#!/bin/sh
# Runs the browser tests in Debian's chromium, driven by playwright-core (never a downloaded
# browser): the pages herald serves (/ and /dashboard), and Laravel Echo with pusher-js against
# the Pusher protocol (pusher_echo.test.mjs).
#   run.sh /path/to/herald [SCREENSHOT_DIR]
# SCREENSHOT_DIR: where chat.png and dashboard.png go (docs/images refreshes the README's);
# default: a temporary directory. Installs the locked npm packages (playwright-core, ws,
# laravel-echo, pusher-js, pusher) first if node_modules is missing (CI has the npm registry).
# ctest runs it (label e2e).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "$#" -lt 1 ] || [ "$#" -gt 2 ] || [ ! -x "$1" ]; then
  echo "usage: run.sh /path/to/herald [SCREENSHOT_DIR] (got: $*)" >&2
  exit 2
fi
chromium=${HERALD_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "no $chromium: the browser tests use Debian's chromium (scripts/deps --test installs it)" >&2
  exit 1
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ] ||
   [ ! -f "$here/node_modules/ws/package.json" ] ||
   [ ! -f "$here/node_modules/laravel-echo/package.json" ] ||
   [ ! -f "$here/node_modules/pusher-js/package.json" ] ||
   [ ! -f "$here/node_modules/pusher/package.json" ]; then
  echo "node_modules missing: npm ci --prefix $here" >&2
  npm ci --prefix "$here" --no-audit --no-fund >&2
fi
shots=${2:-}
if [ -n "$shots" ]; then
  mkdir -p "$shots"
  shots=$(cd "$shots" && pwd)
fi
# One file at a time: each drives a browser and servers, and CI has two cores.
HERALD_BIN=$1 HERALD_CHROMIUM=$chromium HERALD_SCREENSHOTS=$shots exec node --test \
  --test-concurrency=1 --test-timeout=90000 --test-reporter=spec \
  "$here/chat.test.mjs" "$here/dashboard.test.mjs" "$here/pusher_echo.test.mjs"
