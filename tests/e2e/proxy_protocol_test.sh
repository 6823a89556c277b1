#!/usr/bin/env bash
# The PROXY protocol behind a real HAProxy (Debian's haproxy, TCP mode, send-proxy-v2).
# Usage: proxy_protocol_test.sh PATH/TO/turnwarden
#
# All on loopback, each role its own address:
#   127.0.0.2  the clients (turnutils_uclient, stun_binding.py)
#   127.0.0.4  HAProxy's frontends (TCP and TLS passed through)
#   127.0.0.3  HAProxy's source address towards turnwarden: the one trusted proxy
#   127.0.0.1  turnwarden's tcp and tls listeners (proxy_protocol: true), relay, peer
# Checks:
#   - turnutils_uclient over TCP and over TLS through HAProxy relays to an echo peer
#     with 0 % loss, and the server's "allocation created" lines name 127.0.0.2, never
#     the proxy;
#   - a Binding through HAProxy gets the client's own address and port as
#     XOR-MAPPED-ADDRESS (TCP and TLS);
#   - a PROXY header sent directly by 127.0.0.2 (not trusted) is refused: the
#     connection closes and the server logs the refusal; a direct client without a
#     header is served as itself.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=uclient_lib.sh
source "$E2E_DIR/uclient_lib.sh"

make_cert "$E2E_TMP"
write_config "$E2E_TMP" "$(free_udp_port)" --allow-loopback --no-check \
  "trusted_proxies: [127.0.0.3]"
TW_TCP="$(free_tcp_port)"
TW_TLS="$(free_tcp_port)"
add_listeners "$E2E_CONFIG" "  - transport: tcp
    address: 127.0.0.1
    port: $TW_TCP
    proxy_protocol: true
  - transport: tls
    address: 127.0.0.1
    port: $TW_TLS
    proxy_protocol: true
    cert: $E2E_TMP/cert.pem
    key: $E2E_TMP/key.pem"
sed -i 's/^log:.*//' "$E2E_CONFIG"
printf 'log:\n  level: debug\n' >>"$E2E_CONFIG"
timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" >/dev/null 2>&1 || fail "check-config refused the config"
start_server "$E2E_CONFIG"

HP_TCP="$(free_tcp_port)"
HP_TLS="$(free_tcp_port)"
start_haproxy 127.0.0.3 127.0.0.4 "$HP_TCP:$TW_TCP" "$HP_TLS:$TW_TLS"

# XOR-MAPPED-ADDRESS through the proxy: the client's own address and port.
for kind in tcp tls; do
  port=$HP_TCP args=()
  [[ $kind == tls ]] && port=$HP_TLS args=(--tls "$E2E_TMP/cert.pem")
  out="$(timeout 10 python3 "$E2E_DIR/stun_binding.py" 127.0.0.4 "$port" 127.0.0.2 "${args[@]}")"
  re='^local=([0-9.:]+) mapped=([0-9.:]+)$'
  [[ "$out" =~ $re ]] || fail "$kind: Binding through haproxy: $out"
  [[ "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" ]] \
    || fail "$kind: XOR-MAPPED-ADDRESS ${BASH_REMATCH[2]} is not the client's ${BASH_REMATCH[1]}"
  pass "$kind: XOR-MAPPED-ADDRESS through haproxy is the client's own ${BASH_REMATCH[1]}"
done

# turnutils_uclient behind the proxy, relaying to an echo peer, 0 % loss.
PEER_PORT="$(free_udp_port)"
start_helper peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
wait_udp_bound "$PEER_PORT"
UCLIENT_SERVER=127.0.0.4 UCLIENT_LOCAL=127.0.0.2 PORT=$HP_TCP \
  run_uclient proxy-tcp -t -e 127.0.0.1 -r "$PEER_PORT"
UCLIENT_SERVER=127.0.0.4 UCLIENT_LOCAL=127.0.0.2 PORT=$HP_TLS \
  run_uclient proxy-tls -t -S -e 127.0.0.1 -r "$PEER_PORT"
grep -Eq 'allocation created .* client=127\.0\.0\.2:[0-9]+ transport=tcp' "$SERVER_LOG" \
  || fail "no tcp allocation from client 127.0.0.2 in the server log"
grep -Eq 'allocation created .* client=127\.0\.0\.2:[0-9]+ transport=tls' "$SERVER_LOG" \
  || fail "no tls allocation from client 127.0.0.2 in the server log"
! grep -Eq 'allocation created .* client=127\.0\.0\.3:' "$SERVER_LOG" \
  || fail "an allocation was keyed on the proxy's address 127.0.0.3"
pass "the server's allocations name the client 127.0.0.2, never the proxy"

# A PROXY header straight from a client nobody trusts: refused, logged.
v2_header="0d0a0d0a000d0a515549540a2111000c cb007105 7f000001 9c40 0d96"
for kind in tcp tls; do
  port=$TW_TCP args=()
  [[ $kind == tls ]] && port=$TW_TLS args=(--tls "$E2E_TMP/cert.pem")
  out="$(timeout 10 python3 "$E2E_DIR/stun_binding.py" 127.0.0.1 "$port" 127.0.0.2 "${args[@]}" \
           --prefix "${v2_header// /}")"
  [[ "$out" == closed ]] || fail "$kind: a PROXY header from 127.0.0.2 was not refused: $out"
  out="$(timeout 10 python3 "$E2E_DIR/stun_binding.py" 127.0.0.1 "$port" 127.0.0.2 "${args[@]}" \
           --prefix "$(printf 'PROXY TCP4 203.0.113.5 127.0.0.1 1 2\r\n' | od -An -tx1 | tr -d ' \n')")"
  [[ "$out" == closed ]] || fail "$kind: a v1 PROXY header from 127.0.0.2 was not refused: $out"
  out="$(timeout 10 python3 "$E2E_DIR/stun_binding.py" 127.0.0.1 "$port" 127.0.0.2 "${args[@]}")"
  [[ "$out" =~ ^local=(127\.0\.0\.2:[0-9]+)\ mapped=(.*)$ && "${BASH_REMATCH[1]}" == "${BASH_REMATCH[2]}" ]] \
    || fail "$kind: a direct client without a header was not served as itself: $out"
done
eventually 5 grep -q 'refused 127.0.0.2:.*PROXY header' "$SERVER_LOG" || fail "no refusal in the server log"
n="$(grep -c 'refused 127.0.0.2:.*PROXY header' "$SERVER_LOG")"
(( n == 4 )) || fail "expected 4 logged refusals (v1 and v2, tcp and tls), found $n"
! grep -q 'speaks for 203.0.113.5' "$SERVER_LOG" || fail "a forged address was taken"
pass "PROXY headers from 127.0.0.2 (untrusted) refused and logged ($n), direct clients served"

stop_server TERM
cp "$SERVER_LOG" "$E2E_LOG_DIR/proxy-protocol-server.log"
