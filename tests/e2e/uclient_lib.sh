# shellcheck shell=bash
# turnutils_uclient helpers shared by the uclient e2e tests (sourced after lib.sh).
#   run_uclient NAME ARGS...   one bounded run against $PORT on $UCLIENT_SERVER (default
#                              127.0.0.1), checked with check_uclient_output; the output is
#                              kept in $E2E_LOG_DIR/uclient-NAME.txt
#   check_uclient_output NAME FILE
#                              0 lost packets, 0%, and every sent message received
UCLIENT_MESSAGES=${UCLIENT_MESSAGES:-30}  # -n: messages per client
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
    -W "$E2E_SECRET" -u e2e-user -p "$PORT" -L "${UCLIENT_LOCAL:-127.0.0.1}" "$@" "${UCLIENT_SERVER:-127.0.0.1}" >"$out" 2>&1 || rc=$?
  mkdir -p "$E2E_LOG_DIR"
  cp "$out" "$E2E_LOG_DIR/uclient-$name.txt"
  (( rc != 124 )) || fail "$name: turnutils_uclient did not finish within 60 s"
  (( rc == 0 )) || fail "$name: turnutils_uclient exited with $rc"
  check_uclient_output "$name" "$out"
}

