#!/usr/bin/env bash
# TURN over UDP with a real, independent client: Debian coturn's turnutils_uclient.
# Usage: uclient_udp_test.sh PATH/TO/turnwarden
#
# Credentials are TURN REST ones: `-W SECRET -u NAME` makes the client mint
# "<now+86400>:NAME" with password base64(HMAC-SHA1(SECRET, username)), so the server's
# auth.max_ttl is 24h (+ clock skew). Loopback peers are allowed explicitly (they are
# denied by default). Three runs, each must relay every packet (0 lost) and must actually
# have sent some:
#   channels  -y     client to client through two allocations, ChannelData
#   send      -y -s  client to client, Send/Data indications
#   peer             client to turnutils_peer (an echo peer), ChannelData
# Then, with the default policy (loopback denied), the echo-peer run must get a 403.
# Each run's output is kept in $E2E_LOG_DIR (build/e2e-logs/) for the record.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# shellcheck source=uclient_lib.sh
source "$E2E_DIR/uclient_lib.sh"

PORT="$(free_udp_port)"
write_config "$E2E_TMP" "$PORT" --allow-loopback
start_server "$E2E_CONFIG"

run_uclient channels -y
run_uclient send -y -s

PEER_PORT="$(free_udp_port)"
start_helper peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
wait_udp_bound "$PEER_PORT"
run_uclient peer -e 127.0.0.1 -r "$PEER_PORT"

stop_server TERM
cp "$SERVER_LOG" "$E2E_LOG_DIR/uclient-server.log"

# The same echo peer with the default policy: loopback is on the built-in deny list, so
# the server must refuse the permission (403) and the client must fail. (Client to
# client, -y, still works without the allowance: a peer that is one of the server's own
# relayed addresses is the relay-to-relay case of normal WebRTC.)
mkdir "$E2E_TMP/denied"
PORT="$(free_udp_port)"
write_config "$E2E_TMP/denied" "$PORT"
start_server "$E2E_CONFIG"
OUT="$E2E_TMP/uclient-denied.txt"
show_on_failure "$OUT"
log "turnutils_uclient -e 127.0.0.1 -r $PEER_PORT (loopback peers denied)"
RC=0
timeout 60 turnutils_uclient -m 1 -n 5 -W "$E2E_SECRET" -u e2e-user -p "$PORT" -L 127.0.0.1 \
  -e 127.0.0.1 -r "$PEER_PORT" 127.0.0.1 >"$OUT" 2>&1 || RC=$?
cp "$OUT" "$E2E_LOG_DIR/uclient-denied.txt"
(( RC != 124 )) || fail "denied: turnutils_uclient did not finish within 60 s"
(( RC != 0 )) || fail "denied: turnutils_uclient succeeded although loopback peers are denied"
grep -q 'error 403' "$OUT" || fail "denied: no 403 from the server in the uclient output"
pass "denied: loopback echo peer refused with 403 ($(grep -m 1 'error 403' "$OUT"))"
stop_server TERM
