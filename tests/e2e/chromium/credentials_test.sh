#!/usr/bin/env bash
# The credentials endpoint (POST /v1/credentials) from a real browser page: headless
# Debian chromium via playwright-core (tests/e2e/chromium/credentials.mjs).
# Usage: credentials_test.sh PATH/TO/turnwarden
#
#  1. The test makes an ES256 key with openssl and exports its public JWK to a JWKS file
#     (node's crypto), as an application would; check-config accepts the config, and
#     reports a broken JWKS at credentials.jwks_file as FILE:LINE:COL.
#  2. curl: the CORS preflight gets CORS headers for the allowed origin only; a bad
#     token gets 401 {"error":"invalid_token"}.
#  3. A page on http://localhost:A (allowed) holding a JWT signed with the key fetches
#     the endpoint cross-origin, opens two relay-only RTCPeerConnections with the
#     iceServers it got (udp and tcp URLs) and exchanges DataChannel messages; the server
#     log shows the allocations under the JWT's sub; a page on http://localhost:B (not
#     allowed) is blocked by the browser.
#  4. /metrics counts the results (turnwarden_credential_requests_total{result}).
#  5. The same endpoint over HTTPS (credentials.cert/key, libmicrohttpd's TLS), via curl.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"
# shellcheck source=playwright.sh
source "$(dirname "${BASH_SOURCE[0]}")/playwright.sh"

MESSAGES=10
ISS=https://app.e2e.test
SUB=e2e-user-42
DRIVER="$CHROMIUM_DIR/credentials.mjs"
command -v curl >/dev/null || fail "curl missing: scripts/test installs it"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_TMP/app-key.pem" 2>/dev/null \
  || fail "openssl could not make the application's key"
node "$DRIVER" jwks "$E2E_TMP/app-key.pem" app-k1 >"$E2E_TMP/jwks.json" || fail "could not export the JWKS"

PORT="$(free_tcp_port)"
CRED_PORT="$(free_tcp_port)"
METRICS_PORT="$(free_tcp_port)"
PAGE_PORT="$(free_tcp_port)"
OTHER_PORT="$(free_tcp_port)"
ALLOWED="http://localhost:$PAGE_PORT"
ENDPOINT="http://127.0.0.1:$CRED_PORT/v1/credentials"

credentials_yaml() {  # $1: the JWKS file; $2: extra lines for the credentials block
  printf 'metrics:\n  listen: 127.0.0.1:%s\n' "$METRICS_PORT"
  printf 'credentials:\n  listen: 127.0.0.1:%s\n  jwks_file: %s\n' "$CRED_PORT" "$1"
  printf '  issuer: %s\n  audience: turn\n  ttl: 5m\n  allowed_origins: [%s]\n%s' "$ISS" "$ALLOWED" "${2:-}"
}

write_config "$E2E_TMP" "$PORT" --no-check "$(credentials_yaml "$E2E_TMP/jwks.json")"
add_listeners "$E2E_CONFIG" "$(printf '  - transport: tcp\n    address: 127.0.0.1\n    port: %s' "$PORT")"
timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" >"$E2E_TMP/check.out" 2>&1 || {
  cat -n "$E2E_CONFIG" "$E2E_TMP/check.out"
  fail "check-config refused the credentials config"
}
pass "check-config accepts the credentials block and its JWKS"

# A JWKS that does not parse: blamed on the jwks_file key of the config.
printf '{"keys": [\n  {"kty": "EC",}\n]}\n' >"$E2E_TMP/broken-jwks.json"
sed "s#jwks_file: .*#jwks_file: $E2E_TMP/broken-jwks.json#" "$E2E_CONFIG" >"$E2E_TMP/broken.yaml"
line="$(grep -n 'jwks_file:' "$E2E_TMP/broken.yaml" | cut -d: -f1)"
rc=0
out="$(timeout 10 "$TW_BIN" check-config "$E2E_TMP/broken.yaml" 2>&1)" || rc=$?
(( rc != 0 )) || fail "check-config accepted a JWKS that is not JSON"
[[ "$out" == *"$E2E_TMP/broken.yaml:$line:14: credentials.jwks_file: the JWKS file '$E2E_TMP/broken-jwks.json' is not valid JSON (line 2, column 16)"* ]] \
  || fail "check-config output for a broken JWKS: $out"
pass "check-config: a broken JWKS is reported at FILE:LINE:COL of jwks_file"

start_server "$E2E_CONFIG"
grep -q "credentials: serving $ENDPOINT" "$SERVER_LOG" || fail "no 'credentials: serving' line in the log"

# ---------------------------------------------------------------- curl: CORS and a bad token
preflight() {  # $1: origin; prints the response headers
  curl -s -o /dev/null -D - -X OPTIONS -H "Origin: $1" -H 'Access-Control-Request-Method: POST' \
    -H 'Access-Control-Request-Headers: authorization' --max-time 5 "$ENDPOINT" | tr -d '\r'
}
headers="$(preflight "$ALLOWED")"
grep -qi "^access-control-allow-origin: $ALLOWED\$" <<<"$headers" || fail "preflight from $ALLOWED: $headers"
grep -qi '^access-control-allow-headers: authorization$' <<<"$headers" || fail "preflight lacks allow-headers: $headers"
headers="$(preflight "http://localhost:$OTHER_PORT")"
! grep -qi '^access-control-' <<<"$headers" || fail "preflight from a foreign origin got CORS headers: $headers"
pass "preflight: CORS headers for $ALLOWED only"

body="$(curl -s -X POST -H 'Authorization: Bearer not.a.jwt' --max-time 5 -w '%{http_code}' "$ENDPOINT")"
[[ "$body" == $'{"error":"invalid_token"}\n401' ]] || fail "bad token: $body"
pass "a bad token gets 401 {\"error\":\"invalid_token\"}"

# ---------------------------------------------------------------- the browser
out="$E2E_TMP/credentials-browser.json"
show_on_failure "$out"
rc=0
timeout 120 node "$DRIVER" run "$PW_DIR" "$ENDPOINT" "$PAGE_PORT" "$OTHER_PORT" "$E2E_TMP/app-key.pem" \
  app-k1 "$ISS" turn "$SUB" "$MESSAGES" >"$out" 2>&1 || rc=$?
mkdir -p "$E2E_LOG_DIR"
cp "$out" "$E2E_LOG_DIR/credentials-browser.json"
(( rc == 0 )) || fail "the chromium driver exited with $rc"
json="$(tail -n 1 "$out")"
[[ "$json" == *'"allowed":{"status":200,"body":{"iceServers":[{"urls":["turn:127.0.0.1:'* ]] \
  || fail "the allowed page got no iceServers: $json"
[[ "$json" == *"\"username\":\""*":$SUB\",\"credential\":\""* ]] || fail "the TURN user is not the JWT's sub: $json"
[[ "$json" == *'"ttl":300}'* ]] || fail "ttl is not credentials.ttl (5m): $json"
pass "the page on $ALLOWED traded its JWT for iceServers (cross-origin, CORS passed)"
[[ "$json" == *'"turn":{"ok":true'* ]] || fail "WebRTC with the returned iceServers failed: $json"
got="$(grep -o 'turnwarden-[0-9]*' <<<"$json" | sort -u | wc -l)"
(( got == MESSAGES )) || fail "$got of $MESSAGES DataChannel messages arrived"
[[ "$json" == *'"pairA":{"local":"relay","remote":"relay"'* ]] || fail "peer A is not relay/relay: $json"
pass "two relay-only RTCPeerConnections exchanged $MESSAGES DataChannel messages"
allocs="$(grep -c "allocation created .* user=\"$SUB\"" "$SERVER_LOG" || true)"
(( allocs >= 2 )) || fail "expected >= 2 allocations for user $SUB in the log, saw $allocs"
pass "the server log shows $allocs allocations for the TURN user $SUB"
[[ "$json" == *'"other":{"error":"TypeError: Failed to fetch"}'* ]] || fail "the foreign page was not blocked: $json"
pass "the page on http://localhost:$OTHER_PORT was blocked by the browser (no CORS headers)"

# ---------------------------------------------------------------- metrics
scrape="$(curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics")"
grep -q '^turnwarden_credential_requests_total{result="ok"} 1$' <<<"$scrape" \
  || fail "credential_requests_total{result=\"ok\"} is not 1: $(grep credential_requests <<<"$scrape")"
grep -q '^turnwarden_credential_requests_total{result="malformed"} 1$' <<<"$scrape" \
  || fail "credential_requests_total{result=\"malformed\"} is not 1"
grep -q '^turnwarden_credential_requests_total{result="origin_denied"} 0$' <<<"$scrape" \
  || fail "a POST from the foreign page reached the server: the preflight should have stopped it"
pass "/metrics: one ok and one malformed request counted; the foreign page never got past the preflight"
stop_server TERM
cp "$SERVER_LOG" "$E2E_LOG_DIR/credentials-server.log"

# ---------------------------------------------------------------- HTTPS
make_cert "$E2E_TMP"
printf '  cert: %s\n  key: %s\n' "$E2E_TMP/cert.pem" "$E2E_TMP/key.pem" >>"$E2E_CONFIG"
start_server "$E2E_CONFIG"
grep -q "credentials: serving https://127.0.0.1:$CRED_PORT/v1/credentials" "$SERVER_LOG" || fail "not serving HTTPS"
token="$(node "$DRIVER" token "$E2E_TMP/app-key.pem" app-k1 "$ISS" turn "$SUB")"
body="$(curl -s --cacert "$E2E_TMP/cert.pem" -X POST -H "Authorization: Bearer $token" --max-time 5 \
  -w '%{http_code}' "https://127.0.0.1:$CRED_PORT/v1/credentials")"
[[ "$body" == '{"iceServers":[{"urls":['*"\"username\":\""*":$SUB\",\"credential\":"*'}],"ttl":300}'$'\n200' ]] \
  || fail "HTTPS POST: $body"
pass "HTTPS (credentials.cert/key): a valid token gets iceServers"
stop_server TERM
