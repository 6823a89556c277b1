# shellcheck shell=bash
# Sourced by the Chromium tests after ../lib.sh: checks node, npm and Debian's chromium,
# and installs playwright-core (from npm, cached in <build>/chromium-cache; never
# `npx playwright install`) once. Sets CHROMIUM_DIR and PW_DIR.
PLAYWRIGHT_VERSION=1.58.2
CHROMIUM_DIR="$E2E_DIR/chromium"
CACHE_DIR="$(dirname "$E2E_LOG_DIR")/chromium-cache"

for tool in node npm /usr/bin/chromium; do
  command -v "$tool" >/dev/null || fail "$tool missing: scripts/test installs chromium, nodejs and npm"
done

if [[ ! -f "$CACHE_DIR/node_modules/playwright-core/package.json" ]] ||
   ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$CACHE_DIR/node_modules/playwright-core/package.json"; then
  mkdir -p "$CACHE_DIR"
  log "installing playwright-core@$PLAYWRIGHT_VERSION into $CACHE_DIR"
  timeout 300 npm install --no-audit --no-fund --prefix "$CACHE_DIR" \
    "playwright-core@$PLAYWRIGHT_VERSION" >"$E2E_TMP/npm.log" 2>&1 || {
    cat "$E2E_TMP/npm.log"
    fail "npm install playwright-core failed"
  }
fi
# shellcheck disable=SC2034  # used by the tests that source this file
PW_DIR="$CACHE_DIR/node_modules/playwright-core"
