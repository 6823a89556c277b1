#!/usr/bin/env bash
# Chromium as the WebRTC client: headless Debian chromium, driven by playwright-core
# (from npm, cached in <build>/chromium-cache; never `npx playwright install`), opens a
# page served on localhost in which two RTCPeerConnections with iceTransportPolicy
# 'relay' and turnwarden as their only ICE server exchange DataChannel messages.
# Usage: chromium_test.sh PATH/TO/turnwarden
#
# Runs for turn:...?transport=udp, turn:...?transport=tcp and turns:...?transport=tcp
# (self-signed certificate with SAN localhost/127.0.0.1, --ignore-certificate-errors),
# and turns through a real HAProxy (TCP mode, send-proxy-v2 from 127.0.0.3, the one
# trusted proxy) in front of the same TLS listener (proxy_protocol: true): the server
# must see chromium's own address, never the proxy's.
# Each run asserts: every message arrived; getStats() shows the selected pair is
# relay/relay with the expected relayProtocol; the server log shows the allocations
# on that transport. Loopback peers are NOT allowed: the two allocations talk
# relay-to-relay, which is the normal WebRTC case the server must permit.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$@"

MESSAGES=20
# shellcheck source=playwright.sh
source "$(dirname "${BASH_SOURCE[0]}")/playwright.sh"

make_cert "$E2E_TMP"

PORT="$(free_tcp_port)"
TLS_PORT="$(free_tcp_port)"
write_config "$E2E_TMP" "$PORT" --no-check "trusted_proxies: [127.0.0.3]"
add_listeners "$E2E_CONFIG" "$(stream_listeners_yaml "$PORT" "$TLS_PORT")
    proxy_protocol: true"
start_server "$E2E_CONFIG"

USERNAME="$(( $(date +%s) + 3600 )):chromium"
PASSWORD="$(rest_password "$E2E_SECRET" "$USERNAME")"

# run_chromium NAME URI PROTOCOL TRANSPORT [CHROMIUM_FLAGS...]
run_chromium() {
  local name=$1 uri=$2 protocol=$3 transport=$4 out="$E2E_TMP/chromium-$1.json" rc=0 before after
  shift 4
  show_on_failure "$out"
  before="$(grep -c "allocation created .* transport=$transport " "$SERVER_LOG" || true)"
  log "chromium: $uri"
  timeout 120 node "$CHROMIUM_DIR/run.mjs" "$PW_DIR" "$uri" "$USERNAME" "$PASSWORD" "$MESSAGES" "$@" \
    >"$out" 2>&1 || rc=$?
  mkdir -p "$E2E_LOG_DIR"
  cp "$out" "$E2E_LOG_DIR/chromium-$name.json"
  (( rc == 0 )) || fail "$name: the chromium driver exited with $rc"
  local json
  json="$(tail -n 1 "$out")"
  [[ "$json" == *'"ok":true'* ]] || fail "$name: the WebRTC run failed: $json"
  local got
  got="$(grep -o 'turnwarden-[0-9]*' <<<"$json" | sort -u | wc -l)"
  (( got == MESSAGES )) || fail "$name: $got of $MESSAGES messages arrived"
  pass "$name: $MESSAGES DataChannel messages arrived"
  [[ "$json" == *"\"pairA\":{\"local\":\"relay\",\"remote\":\"relay\",\"relayProtocol\":\"$protocol\""* ]] \
    || fail "$name: selected pair is not relay/relay over $protocol: $json"
  [[ "$json" == *"\"pairB\":{\"local\":\"relay\",\"remote\":\"relay\",\"relayProtocol\":\"$protocol\""* ]] \
    || fail "$name: peer B's selected pair is not relay/relay over $protocol: $json"
  pass "$name: getStats selected pair relay/relay, relayProtocol $protocol"
  after="$(grep -c "allocation created .* transport=$transport " "$SERVER_LOG" || true)"
  (( after - before >= 2 )) || fail "$name: expected >= 2 new $transport allocations in the log, saw $((after - before))"
  pass "$name: server log shows $((after - before)) allocations over $transport"
}

run_chromium udp "turn:127.0.0.1:$PORT?transport=udp" udp udp
run_chromium tcp "turn:127.0.0.1:$PORT?transport=tcp" tcp tcp
run_chromium turns "turns:localhost:$TLS_PORT?transport=tcp" tls tls --ignore-certificate-errors

HP_TLS="$(free_tcp_port)"
start_haproxy 127.0.0.3 127.0.0.4 "$HP_TLS:$TLS_PORT"
run_chromium turns-haproxy "turns:127.0.0.4:$HP_TLS?transport=tcp" tls tls --ignore-certificate-errors
! grep -Eq 'allocation created .* client=127\.0\.0\.3:' "$SERVER_LOG" \
  || fail "turns-haproxy: an allocation was keyed on the proxy's address 127.0.0.3"
pass "turns-haproxy: the server's allocations name chromium's address, not the proxy's"

stop_server TERM
cp "$SERVER_LOG" "$E2E_LOG_DIR/chromium-server.log"
