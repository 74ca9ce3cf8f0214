#!/usr/bin/env bash
# The studio (studio/): install its Node packages, type-check and build it,
# run its browser tests.
#
#   scripts/studio.sh build         npm ci when the lockfile changed, then
#                                   tsc --noEmit (strict) and vite build:
#                                   studio/dist, the static files the front door serves
#   scripts/studio.sh test [ARGS]   build, then the Playwright tests in Debian's
#                                   Chromium against the real stack (a private
#                                   cluster, PostgREST, the front door); ARGS go
#                                   to `playwright test` (a file, -g PATTERN)
#   scripts/studio.sh screenshots   the tests again, saving their screenshots
#                                   into docs/studio/ (shown by docs/studio.md)
#
# The extension must be installed for the PostgreSQL binaries in
# COT_PG_BINDIR (default Debian's; tests/harness/run.sh installs it there).
# The tests' own screenshots go to studio/test-results/screenshots.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STUDIO="$ROOT/studio"
log() { printf '\033[1m[studio]\033[0m %s\n' "$*" >&2; }

deps() {
  if [ ! -d "$STUDIO/node_modules" ] || [ "$STUDIO/package-lock.json" -nt "$STUDIO/node_modules" ]; then
    log "installing the studio's packages (npm ci)"
    (cd "$STUDIO" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && touch node_modules)
  fi
}

build() {
  deps
  log "type check (tsc --noEmit, strict) and build (vite) into studio/dist"
  (cd "$STUDIO" && npm run --silent build >/dev/null)
}

browser_tests() {
  [ -x "${COT_CHROMIUM:-/usr/bin/chromium}" ] || {
    log "Chromium is missing: scripts/setup.sh installs Debian's"
    exit 1
  }
  (cd "$STUDIO" && npx --no-install playwright test "$@")
}

case "${1:-}" in
build) build ;;
test)
  shift
  build
  browser_tests "$@"
  ;;
screenshots)
  build
  mkdir -p "$ROOT/docs/studio"
  COT_SCREENSHOT_DIR="$ROOT/docs/studio" browser_tests
  ;;
*)
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
  ;;
esac
