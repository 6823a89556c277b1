#!/usr/bin/env bash
# IPv6 clients count per /64 (issue 22, finding 8; ipv6_client_prefix, docs/config.md),
# on the real binary. Loopback has only ::1, so the test makes its own network: two
# network namespaces joined by a veth pair, never connected to the host's namespace,
# with documentation addresses (2001:db8::/32). The server runs in one, the clients in
# the other: 2001:db8:1::a and 2001:db8:1::b share a /64, 2001:db8:1:1::a does not.
# With requests_per_ip {rate: 1, burst: 5}, ::a and ::b (each its own address and port)
# share one bucket: of 10 requests between them about 5 are answered; the other /64 gets
# answers from a bucket of its own.
# Both namespaces are removed on exit, failure included. Needs root (ip netns).
# Usage: ipv6_prefix_test.sh PATH/TO/turnwarden
set -euo pipefail
BIN="$(readlink -f "$1")"
fail() { echo "[ipv6_prefix_test] FAIL: $*" >&2; exit 1; }
pass() { echo "[ipv6_prefix_test] ok - $*"; }

[[ "$(id -u)" == 0 ]] || fail "needs root for ip netns (CI runs as root)"
SRV="tw6s-$$" CLI="tw6c-$$"
TMP="$(mktemp -d)"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  ip netns del "$SRV" 2>/dev/null || true
  ip netns del "$CLI" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

ip netns add "$SRV"
ip netns add "$CLI"
ip link add "v$$s" netns "$SRV" type veth peer name "v$$c" netns "$CLI"
for ns in "$SRV" "$CLI"; do ip -n "$ns" link set lo up; done
ip -n "$SRV" link set "v$$s" up
ip -n "$CLI" link set "v$$c" up
ip -n "$SRV" addr add 2001:db8:1::1/48 dev "v$$s" nodad
for a in 2001:db8:1::a 2001:db8:1::b 2001:db8:1:1::a; do
  ip -n "$CLI" addr add "$a/48" dev "v$$c" nodad
done

cat >"$TMP/turnwarden.yaml" <<YAML
realm: ipv6.test
workers: 1   # rate limits are per worker (docs/policy.md): one worker, one bucket per /64
listeners:
  - {transport: udp, address: "2001:db8:1::1", port: 3478}
relay:
  addresses: ["2001:db8:1::1"]
  port_range: 50000-50999
auth:
  secrets: [{id: a, value: "0123456789abcdef0123456789abcdef"}]
rate_limits:
  requests_per_ip: {rate: 1, burst: 5}
YAML
ip netns exec "$SRV" "$BIN" --config "$TMP/turnwarden.yaml" >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  grep -q 'turnwarden ready' "$TMP/server.log" && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/server.log" >&2; fail "server exited"; }
  sleep 0.1
done
grep -q 'turnwarden ready' "$TMP/server.log" || { cat "$TMP/server.log" >&2; fail "server not ready"; }

# bindings SOURCE:COUNT...: for each, COUNT STUN Binding requests from SOURCE (one socket
# per source, one request at a time, 150 ms each at most), all in one process so the
# bucket (1 token a second) barely refills; prints the answered count per source.
bindings() {
  ip netns exec "$CLI" python3 - "$@" <<'PY'
import os, socket, struct, sys
out = []
for arg in sys.argv[1:]:
    src, count = arg.rsplit(":", 1)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(0.15)
    answered = 0
    for _ in range(int(count)):
        txid = os.urandom(12)
        s.sendto(struct.pack("!HHI", 0x0001, 0, 0x2112A442) + txid, ("2001:db8:1::1", 3478))
        try:
            data, _ = s.recvfrom(2048)
            answered += data[:2] == b"\x01\x01" and data[8:20] == txid
        except socket.timeout:
            pass
    out.append(str(answered))
print(" ".join(out))
PY
}

# ::a and ::b take turns, 10 requests in all: one shared bucket answers its burst of 5 and
# at most a token or two that refill while the dropped ones time out; two buckets would
# answer all 10.
read -r a1 b1 a2 b2 other <<<"$(bindings 2001:db8:1::a:3 2001:db8:1::b:3 2001:db8:1::a:2 2001:db8:1::b:2 \
                                         2001:db8:1:1::a:3)"
shared=$(( a1 + b1 + a2 + b2 ))
(( a1 == 3 )) || fail "2001:db8:1::a: $a1 of its first 3 Bindings answered (burst 5)"
(( b1 >= 2 )) || fail "2001:db8:1::b: $b1 of 3 answered; the /64's burst had 2 left"
(( shared <= 8 )) || fail "::a and ::b of one /64 got $shared of 10 answered: each has a bucket of its own"
pass "2001:db8:1::a and ::b, one /64, own addresses and ports: $shared of 10 answered (one bucket, burst 5)"
(( other == 3 )) || fail "2001:db8:1:1::a (another /64) got $other of 3 answers"
pass "2001:db8:1:1::a, another /64: 3 of 3 answered"
echo "[ipv6_prefix_test] passed"
