#!/usr/bin/env bash
# TURN over every client transport with Debian coturn's turnutils_uclient, against the
# real binary, with REST credentials (-W). Usage: uclient_matrix_test.sh PATH/TO/turnwarden
#
# One server with udp, tcp and tls listeners on 127.0.0.1, udp and tcp on ::1, relay
# addresses 127.0.0.1 and ::1, (a self-signed
# certificate this test makes with the openssl CLI; no key is ever committed). Runs:
#   tcp        -t -y       client to client, TURN over TCP, ChannelData padded to 4
#   tcp-send   -t -y -s    the same with Send/Data indications
#   tls        -t -S -y    TURN over TLS
#   dtls       -S -y       TURN over DTLS 1.2 (stateless cookie exchange first)
#   ipv6-relay -x -y       IPv6 relayed addresses (REQUESTED-ADDRESS-FAMILY) via 127.0.0.1
#   ipv6       -x -y       the same with the client on ::1 (a udp listener on ::1)
#   tcp6       -t -y       TURN over TCP on ::1, IPv4 relay
#   tcp-relay  -T          TCP relay (RFC 6062): Connect, ConnectionAttempt, ConnectionBind
#   tls-tcp-relay -T -S    the same with the control and data connections over TLS
# Each must lose 0 packets. Then openssl s_client checks ALPN, and a SIGHUP with a new
# certificate must serve it to new connections without dropping a live one. When a connection closes, its allocation goes too
# (RFC 8656 §3.7): the server log must show deletions with reason=connection_closed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=uclient_lib.sh
source "$E2E_DIR/uclient_lib.sh"

make_cert "$E2E_TMP"
PORT="$(free_tcp_port)"
write_config "$E2E_TMP" "$PORT" --allow-loopback --no-check
TLS_PORT="$(free_tcp_port)"
DTLS_PORT="$(free_udp_port)"
add_listeners "$E2E_CONFIG" "$(stream_listeners_yaml "$PORT" "$TLS_PORT")
  - transport: udp
    address: \"::1\"
    port: $PORT
  - transport: tcp
    address: \"::1\"
    port: $PORT
  - transport: dtls
    address: 127.0.0.1
    port: $DTLS_PORT
    cert: $E2E_TMP/cert.pem
    key: $E2E_TMP/key.pem"
# Dual-stack relaying: an IPv4 and an IPv6 relay address.
sed -i 's/^    - 127.0.0.1$/    - 127.0.0.1\n    - "::1"/' "$E2E_CONFIG"
# TCP relay (RFC 6062, uclient -T) is off by default.
sed -i 's/^  port_range: \(.*\)$/  port_range: \1\n  tcp: true/' "$E2E_CONFIG"
timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" >/dev/null 2>&1 || {
  cat -n "$E2E_CONFIG"
  fail "check-config rejected the tcp/tls config"
}
start_server "$E2E_CONFIG"
grep -q "tcp 127.0.0.1:$PORT" "$SERVER_LOG" || fail "no tcp listener in the ready line"
grep -q "tls 127.0.0.1:$TLS_PORT" "$SERVER_LOG" || fail "no tls listener in the ready line"
pass "listening on udp/tcp $PORT and tls $TLS_PORT"

run_uclient tcp -t -y
run_uclient tcp-send -t -y -s
PORT=$TLS_PORT run_uclient tls -t -S -y
PORT=$DTLS_PORT run_uclient dtls -S -y
run_uclient ipv6-relay -x -y
UCLIENT_SERVER=::1 UCLIENT_LOCAL=::1 run_uclient ipv6 -x -y
UCLIENT_SERVER=::1 UCLIENT_LOCAL=::1 run_uclient tcp6 -t -y
run_uclient tcp-relay -T
PORT=$TLS_PORT run_uclient tls-tcp-relay -T -S
relayed6="$(grep -c 'relayed=\[::1\]' "$SERVER_LOG" || true)"
(( relayed6 >= 8 )) || fail "expected IPv6 relayed addresses in the server log, saw $relayed6"
pass "$relayed6 allocations relayed on [::1]"

# uclient ends its data allocations with Refresh(0), but the first connection of each
# run just closes: its allocation must end with it (one per run at least).
closed="$(grep -c 'reason=connection_closed' "$SERVER_LOG" || true)"
(( closed >= 4 )) || fail "expected allocations deleted with their connections, saw $closed"
pass "$closed allocations ended with their TCP/TLS connections"

# tls_fingerprint: the SHA-256 fingerprint of the certificate the TLS listener serves,
# from a fresh connection that offers ALPN stun.turn (the selected ALPN goes to
# $E2E_TMP/s_client.txt).
tls_fingerprint() {
  timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" -alpn stun.turn </dev/null \
    >"$E2E_TMP/s_client.txt" 2>&1 || true
  openssl x509 -noout -fingerprint -sha256 <"$E2E_TMP/s_client.txt" 2>/dev/null
}

show_on_failure "$E2E_TMP/s_client.txt"
FP_OLD="$(tls_fingerprint)"
[[ -n "$FP_OLD" ]] || fail "openssl s_client got no certificate"
grep -q 'ALPN protocol: stun.turn' "$E2E_TMP/s_client.txt" || fail "ALPN stun.turn not selected"
pass "openssl s_client: ALPN stun.turn selected"

# SIGHUP with a new certificate at the same paths: new connections get it, a live
# connection (an idle s_client kept open by its stdin) is not dropped.
start_helper live-tls bash -c "sleep 20 | openssl s_client -connect 127.0.0.1:$TLS_PORT -alpn stun.turn"
LIVE_PID=$HELPER_PID
deadline="$(_deadline 10)"
until [[ -n "$(ss -Htn state established "( dport = :$TLS_PORT )")" ]]; do
  _before "$deadline" || fail "the live TLS connection was not established"
  sleep 0.1
done
make_cert "$E2E_TMP"
kill -HUP "$SERVER_PID"
deadline="$(_deadline 10)"
until grep -q 'new certificate for tls' "$SERVER_LOG"; do
  _before "$deadline" || fail "no certificate reload logged after SIGHUP"
  sleep 0.1
done
FP_NEW="$(tls_fingerprint)"
[[ -n "$FP_NEW" && "$FP_NEW" != "$FP_OLD" ]] || fail "the certificate did not change on SIGHUP"
pass "SIGHUP: new connections get the new certificate"
grep -q "new certificate for dtls 127.0.0.1:$DTLS_PORT" "$SERVER_LOG" || fail "no DTLS certificate reload logged"
PORT=$DTLS_PORT UCLIENT_MESSAGES=10 run_uclient dtls-after-reload -S -y
_alive "$LIVE_PID" || fail "the live TLS connection was dropped by the reload"
[[ -n "$(ss -Htn state established "( dport = :$TLS_PORT )")" ]] || fail "live TLS connection gone"
pass "SIGHUP: the live TLS connection stayed up"

stop_server TERM
cp "$SERVER_LOG" "$E2E_LOG_DIR/uclient-matrix-server.log"
