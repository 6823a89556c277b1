#!/usr/bin/env bash
# Usage records against a real, independent client (docs/usage.md): Debian coturn's
# turnutils_uclient relays a known number of bytes through turnwarden to an echo peer
# (turnutils_peer); after a clean stop the usage file holds every allocation's final
# record, and `turnwarden usage` reports exactly messages x length bytes each way for
# the uclient user. Usage: usage_uclient_test.sh PATH/TO/turnwarden
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# shellcheck source=uclient_lib.sh
source "$E2E_DIR/uclient_lib.sh"

USAGE_FILE="$E2E_TMP/usage.jsonl"
PORT="$(free_udp_port)"
write_config "$E2E_TMP" "$PORT" --allow-loopback "$(printf 'usage:\n  file: %s\n  interval: 1s' "$USAGE_FILE")"
start_server "$E2E_CONFIG"

PEER_PORT="$(free_udp_port)"
start_helper peer turnutils_peer -L 127.0.0.1 -p "$PEER_PORT"
wait_udp_bound "$PEER_PORT"
run_uclient usage -e 127.0.0.1 -r "$PEER_PORT"
stop_server TERM  # the allocations uclient left end now, each with a final record

re='tot_send_msgs=([0-9]+), tot_recv_msgs=([0-9]+)$'
line="$(grep -E "start_mclient: $re" "$E2E_TMP/uclient-usage.txt" | tail -n 1)"
[[ "$line" =~ $re ]] || fail "no tot_send_msgs line in the uclient output"
sent=${BASH_REMATCH[1]} recv=${BASH_REMATCH[2]}
want_to_peer=$((sent * UCLIENT_LENGTH)) want_to_client=$((recv * UCLIENT_LENGTH))

# uclient may make more allocations than clients (-m); every one ends with one final record.
allocs="$(grep -o '"allocation_id":[0-9]*' "$USAGE_FILE" | sort -u | wc -l)"
finals="$(grep -c '"type":"final"' "$USAGE_FILE" || true)"
(( allocs >= UCLIENT_CLIENTS && finals == allocs )) \
  || fail "expected one final record per allocation ($allocs allocations), found $finals"
pass "$finals final records, one per allocation uclient made"

report="$("$TW_BIN" usage --from "$USAGE_FILE" --format csv)" || fail "turnwarden usage failed"
log "turnwarden usage: $report"
row="$(grep '^e2e-user,' <<<"$report")" || fail "no e2e-user row in the report"
IFS=, read -r _ bytes to_peer to_client packets_to_peer packets_to_client allocations _ <<<"$row"
(( to_peer == want_to_peer )) || fail "bytes_to_peer $to_peer, expected $sent x $UCLIENT_LENGTH = $want_to_peer"
(( to_client == want_to_client )) || fail "bytes_to_client $to_client, expected $recv x $UCLIENT_LENGTH = $want_to_client"
(( packets_to_peer == sent && packets_to_client == recv )) \
  || fail "packets $packets_to_peer/$packets_to_client, expected $sent/$recv"
(( bytes == want_to_peer + want_to_client )) || fail "bytes $bytes is not the sum of both ways"
(( allocations == allocs )) || fail "allocations $allocations, expected $allocs"
pass "report: e2e-user relayed $to_peer bytes to the peer and $to_client back, exactly"
