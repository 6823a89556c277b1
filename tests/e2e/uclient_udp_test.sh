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

UCLIENT_MESSAGES=30   # -n: messages per client
UCLIENT_CLIENTS=2     # -m
UCLIENT_LENGTH=120    # -l: bytes per message

for tool in turnutils_uclient turnutils_peer; do
  command -v "$tool" >/dev/null || fail "$tool missing: install Debian's coturn (scripts/test does)"
done

# check_uclient_output NAME FILE: the run relayed every packet it sent, and sent some.
# uclient 4.6.1 ends with lines like
#   4: : start_mclient: tot_send_msgs=120, tot_recv_msgs=120
#   4: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
check_uclient_output() {
  local name=$1 file=$2 line re lost percent sent recv
  local min_sent=$((UCLIENT_CLIENTS * UCLIENT_MESSAGES))

  if grep -Eq 'ERROR|error [0-9]{3}' "$file"; then
    fail "$name: uclient reported an error: $(grep -E -m1 'ERROR|error [0-9]{3}' "$file")"
  fi

  [[ "$(grep -c 'Total lost packets' "$file")" == 1 ]] \
    || fail "$name: expected exactly one 'Total lost packets' line"
  line="$(grep 'Total lost packets' "$file")"
  re='Total lost packets ([0-9]+) \(([0-9]+(\.[0-9]+)?)%\)'
  [[ "$line" =~ $re ]] || fail "$name: cannot parse: $line"
  lost=${BASH_REMATCH[1]}
  percent=${BASH_REMATCH[2]}
  [[ "$lost" == 0 ]] || fail "$name: lost $lost packets: $line"
  [[ "$percent" =~ ^0(\.0+)?$ ]] || fail "$name: loss is not 0%: $line"
  pass "$name: Total lost packets 0 ($percent%)"

  re='tot_send_msgs=([0-9]+), tot_recv_msgs=([0-9]+)$'
  line="$(grep -E "start_mclient: $re" "$file" | tail -n 1)"
  [[ "$line" =~ $re ]] || fail "$name: no final 'tot_send_msgs=N, tot_recv_msgs=N' line"
  sent=${BASH_REMATCH[1]}
  recv=${BASH_REMATCH[2]}
  (( sent >= min_sent )) || fail "$name: sent only $sent messages, expected >= $min_sent"
  (( recv == sent )) || fail "$name: sent $sent messages but received $recv"
  pass "$name: sent $sent messages, received $recv"
}

# run_uclient NAME ARGS...: one bounded uclient run against our server, checked.
run_uclient() {
  local name=$1 out="$E2E_TMP/uclient-$1.txt" rc=0
  shift
  show_on_failure "$out"
  log "turnutils_uclient $*"
  timeout 60 turnutils_uclient -m "$UCLIENT_CLIENTS" -n "$UCLIENT_MESSAGES" -l "$UCLIENT_LENGTH" \
    -W "$E2E_SECRET" -u e2e-user -p "$PORT" -L 127.0.0.1 "$@" 127.0.0.1 >"$out" 2>&1 || rc=$?
  mkdir -p "$E2E_LOG_DIR"
  cp "$out" "$E2E_LOG_DIR/uclient-$name.txt"
  (( rc != 124 )) || fail "$name: turnutils_uclient did not finish within 60 s"
  (( rc == 0 )) || fail "$name: turnutils_uclient exited with $rc"
  check_uclient_output "$name" "$out"
}

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
