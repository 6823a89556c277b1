#!/usr/bin/env bash
# tools/bareforward, the physical limit scripts/bench measures against, driven by
# tools/turnbench --bare: with one forwarding thread and with two (each its own
# SO_REUSEPORT listener; a pair whose flows landed on different threads crosses
# between them through the kernel), every datagram of a short paced run arrives
# (1,000 pps over 64 flows on loopback, nothing else on the path; at least 500
# sent). With two threads both forwarded some (64 client ports: all on one thread
# has odds of 2^-63). The forwarder stops on SIGTERM with exit 0 and counts what
# it sent.
# Usage: bareforward_test.sh PATH/TO/turnwarden PATH/TO/bareforward PATH/TO/turnbench
# (the first only for lib.sh).
# shellcheck source-path=SCRIPTDIR source=../e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh" "$1"
BARE=$2
BENCH=$3

for threads in 1 2; do
  port="$(free_udp_port)"
  log="$E2E_TMP/bare$threads.log"
  start_helper "bare$threads" "$BARE" --listen "127.0.0.1:$port" --flows 64 --no-gso --threads "$threads"
  pid=$HELPER_PID
  eventually 10 grep -q "listening on 127.0.0.1:$port, 64 flows, $threads thread" "$log" ||
    fail "bareforward --threads $threads did not start"

  out="$E2E_TMP/bench$threads.out"
  show_on_failure "$out"
  timeout 60 "$BENCH" --bare 1 --server "127.0.0.1:$port" --pairs 32 --size 160 --rate 1000 --seconds 1 \
    >"$out" 2>&1 || fail "turnbench --bare against $threads thread(s) failed"
  received="$(awk '$1 == "received_packets" {print $2}' "$out")"
  loss="$(awk '$1 == "loss_percent" {print $2}' "$out")"
  # A generator that the scheduler stalls skips what it could not send in time (and
  # does not count it): every datagram it sent must arrive, and at least half were sent.
  [[ "$loss" == 0.000 && "$received" -ge 500 ]] ||
    fail "$threads thread(s): received ${received:-none}, loss ${loss:-none}% (want every datagram)"

  kill -TERM "$pid"
  _wait_gone "$pid" 10 || fail "bareforward --threads $threads did not stop on SIGTERM"
  _reap "$pid"
  (( REAPED == 0 )) || fail "bareforward --threads $threads exited $REAPED"
  sent="$(awk '$1 == "datagrams" {print $2}' "$log")"
  # 64 registration answers, then each relayed datagram leaves twice (relay, then client).
  (( sent >= 64 + 2 * received )) || fail "$threads thread(s): forwarder counts $sent sends for $received"
  busy="$(awk '$1 == "thread" && $4 > 0' "$log" | wc -l)"
  (( busy == threads )) || fail "$threads thread(s): $busy of them forwarded anything"
  pass "$threads thread(s): $received of $received datagrams through, $sent sends, every thread busy"
done
