# shellcheck shell=bash source-path=SCRIPTDIR
# The lab's checks (issue 21). Sourced by `scripts/lab test` after `lab_up`, with the
# lab's helpers (nsx, lab_spawn, lab_wait, lab_die, lab_log) and LAB_DIR; the lab is torn
# down by scripts/lab's trap whatever happens here. Every check asserts on what a real
# client saw; every wait is bounded.
LAB_TESTS="$TW_ROOT/tests/lab"
LAB_PASSED=0
lab_pass() { LAB_PASSED=$((LAB_PASSED + 1)); printf '[lab] ok %d - %s\n' "$LAB_PASSED" "$*"; }

# ----------------------------------------------------------------- containment and names
# Nothing of the lab is in the host's namespace: no tw-* interface, none of the lab's
# addresses. (The host may have a documentation address of its own, e.g. a sandbox's
# 192.0.2.2 on eth0: that network is not the lab's, and the lab never routes to it.)
! ip -o link show | grep -q ': tw-' || lab_die "a tw-* interface is in the host namespace"
! ip -o addr show | grep -Eq 'inet6? (192\.0\.2\.1/|198\.51\.100\.|203\.0\.113\.|10\.10\.0\.|2001:db8:(1|10)?:)' \
  || lab_die "a lab address is in the host namespace"
[[ -z "$(nsx net ip route show default)$(nsx net ip -6 route show default)" ]] \
  || lab_die "twlab-net has a default route"
lab_pass "containment: no lab interface or address on the host, no default route in twlab-net"

for ns in net cloud home corp; do
  got="$(nsx "$ns" getent ahosts turn.example.test | awk '{print $1}' | sort -u | tr '\n' ' ')"
  [[ "$got" == "2001:db8:10::10 203.0.113.10 " ]] \
    || lab_die "twlab-$ns: turn.example.test resolves to '$got'"
done
lab_pass "names: turn.example.test is 203.0.113.10 and 2001:db8:10::10 in every namespace"

# ------------------------------------------------------------------- NAT and firewalls
reflector() { python3 "$LAB_TESTS/reflector.py" "$@"; }
lab_spawn cloud reflector-cloud python3 "$LAB_TESTS/reflector.py" serve 10.10.0.10 7000
lab_spawn net reflector-net python3 "$LAB_TESTS/reflector.py" serve 198.51.100.50 7000
lab_spawn net reflector-net443 python3 "$LAB_TESTS/reflector.py" serve 198.51.100.50 443
for r in reflector-cloud reflector-net reflector-net443; do
  lab_wait 10 "$r serving" grep -q '^serving' "$LAB_DIR/logs/$r.log"
done

# 1:1 NAT: the cloud host is seen as 203.0.113.10 outside, and reached through it.
out="$(nsx cloud python3 "$LAB_TESTS/reflector.py" udp 1 198.51.100.50:7000)"
[[ "$(awk '$1 == "198.51.100.50" && $2 == 7000 {print $3}' <<<"$out")" == 203.0.113.10 ]] \
  || lab_die "cloud -> peer: not seen from 203.0.113.10: $out"
out="$(nsx home python3 "$LAB_TESTS/reflector.py" udp 1 203.0.113.10:7000)"
[[ "$(awk '$1 == "203.0.113.10" {print $3}' <<<"$out")" == 198.51.100.10 ]] \
  || lab_die "home -> 203.0.113.10: no answer through the 1:1 NAT, or not seen as 198.51.100.10: $out"
# No hairpin: the cloud host cannot reach its own public address.
out="$(nsx cloud python3 "$LAB_TESTS/reflector.py" udp 1 203.0.113.10:7000 2>&1 || true)"
! grep -q '^203.0.113.10 7000' <<<"$out" || lab_die "the provider edge hairpins: $out"
lab_pass "1:1 NAT: 10.10.0.10 is 203.0.113.10 both ways; the edge does not hairpin"

# Home NAT: one socket, two destinations -> two public ports (address- and port-dependent
# mapping); the datagram from the peer's other port is filtered out.
out="$(nsx home python3 "$LAB_TESTS/reflector.py" udp 1 198.51.100.50:7000 203.0.113.10:7000)"
p1="$(awk '$1 == "198.51.100.50" && $2 == 7000 {print $4}' <<<"$out")"
p2="$(awk '$1 == "203.0.113.10" && $2 == 7000 {print $4}' <<<"$out")"
[[ -n "$p1" && -n "$p2" ]] || lab_die "home NAT: missing answers: $out"
[[ "$p1" != "$p2" ]] || lab_die "home NAT: the same public port $p1 for two destinations: $out"
! grep -q unsolicited <<<"$out" || lab_die "home NAT: a datagram from another port of the peer came in: $out"
lab_pass "home NAT: public ports $p1 and $p2 for two destinations of one socket; other ports filtered"

# Corporate firewall: TCP 443 out, UDP not.
out="$(nsx corp python3 "$LAB_TESTS/reflector.py" tcp 3 198.51.100.50 443)"
[[ "$out" == "198.51.100.20 "* ]] || lab_die "corp -> TCP 443: $out"
out="$(nsx corp python3 "$LAB_TESTS/reflector.py" udp 1 198.51.100.50:7000 2>&1 || true)"
[[ -z "$out" ]] || lab_die "corp: UDP went through the firewall: $out"
if nsx corp python3 "$LAB_TESTS/reflector.py" tcp 2 198.51.100.50 7000 >/dev/null 2>&1; then
  lab_die "corp: TCP 7000 went through the firewall"
fi
lab_pass "corporate firewall: TCP 443 out (seen as 198.51.100.20), UDP and other TCP ports not"

# ------------------------------------------------------------- turnutils_uclient -> peer
# The real turnwarden in twlab-cloud (scripts/lab's lab_server), Debian's coturn clients
# from twlab-home to turnutils_peer at 198.51.100.50 (and [2001:db8::1]), through the home
# NAT and the 1:1 NAT. check_uclient_output (tests/e2e/uclient_lib.sh) asserts 0 lost
# and every message back.
fail() { lab_die "$@"; }
pass() { lab_pass "$@"; }
# shellcheck source=../e2e/uclient_lib.sh
source "$TW_ROOT/tests/e2e/uclient_lib.sh"
LAB_SECRET="$(sed -n 's/^ *value: "\(.*\)"$/\1/p' "$LAB_DIR/cloud/secrets.yaml" | head -n 1)"
[[ -n "$LAB_SECRET" ]] || lab_die "no secret in $LAB_DIR/cloud/secrets.yaml"
LAB_FIGURES=()

# lab_uclient NAME NS PORT SERVER PEER RELAYED [ARGS...]: one bounded uclient run in
# twlab-NS against SERVER:PORT (a name or an address) relaying to PEER:3480; every relayed
# address the server handed out must be RELAYED.
lab_uclient() {
  local name=$1 ns=$2 port=$3 server=$4 peer=$5 relayed=$6 out rc=0 got
  shift 6
  out="$LAB_DIR/logs/uclient-$name.txt"
  lab_log "uclient $name: turnutils_uclient $* -p $port -e $peer $server (in twlab-$ns)"
  nsx "$ns" timeout 60 turnutils_uclient -v -m "$UCLIENT_CLIENTS" -n "$UCLIENT_MESSAGES" \
    -l "$UCLIENT_LENGTH" -W "$LAB_SECRET" -u lab -p "$port" -e "$peer" -r 3480 "$@" "$server" \
    >"$out" 2>&1 || rc=$?
  (( rc == 0 )) || { tail -n 20 "$out" >&2; lab_die "$name: turnutils_uclient exited with $rc (log: $out)"; }
  lab_uclient_check "$name" "$out" "$relayed"
}

# lab_uclient_check NAME OUT RELAYED: OUT (a finished run) relayed everything, and every
# relayed address handed out was RELAYED.
lab_uclient_check() {
  local name=$1 out=$2 relayed=$3 got
  check_uclient_output "$name" "$out"
  got="$(sed -n 's/.*Received relay addr: \(.*\):[0-9]*$/\1/p' "$out" | sort -u | tr '\n' ' ')"
  [[ "$got" == "$relayed " ]] || lab_die "$name: relayed addresses handed out: '$got', expected $relayed"
  lab_pass "$name: every relayed address handed out is $relayed"
  LAB_FIGURES+=("uclient $name: $(grep -o 'Total lost packets.*' "$out")")
}

lab_uclient udp home 3478 turn.example.test 198.51.100.50 203.0.113.10
lab_uclient tcp home 3478 turn.example.test 198.51.100.50 203.0.113.10 -t
lab_uclient udp6 home 3478 2001:db8:10::10 2001:db8::1 2001:db8:10::10 -x
lab_uclient tcp6 home 3478 2001:db8:10::10 2001:db8::1 2001:db8:10::10 -t -x

# Relay-to-relay through the server's own public address (issue 21, "own relayed addresses
# are" peers): two allocations of one client (-y), each the other's peer at its relayed
# address as advertised, 203.0.113.10:PORT. The edge does not hairpin (checked above): the
# server must hand the datagrams to its own relay sockets at 10.10.0.10 itself.
out="$LAB_DIR/logs/uclient-relay-to-relay.txt"
lab_log "uclient relay-to-relay: turnutils_uclient -y -p 3478 turn.example.test (in twlab-home)"
rc=0
nsx home timeout 60 turnutils_uclient -v -y -m 1 -n "$UCLIENT_MESSAGES" -l "$UCLIENT_LENGTH" \
  -W "$LAB_SECRET" -u lab -p 3478 turn.example.test >"$out" 2>&1 || rc=$?
(( rc == 0 )) || { tail -n 20 "$out" >&2; lab_die "relay-to-relay: turnutils_uclient exited with $rc (log: $out)"; }
UCLIENT_CLIENTS=1 lab_uclient_check relay-to-relay "$out" 203.0.113.10

# Own service ports are never peers: the listener's port on the public address is refused
# (403, rule self:203.0.113.10:3478) although the lab allows 203.0.113.0/24 as peers.
out="$LAB_DIR/logs/uclient-self-peer.txt"
nsx home timeout 30 turnutils_uclient -v -m 1 -n 1 -l "$UCLIENT_LENGTH" -W "$LAB_SECRET" -u lab \
  -p 3478 -e 203.0.113.10 -r 3478 turn.example.test >"$out" 2>&1 || true
lab_wait 10 "turnwarden refusing 203.0.113.10:3478 as a peer" \
  grep -q 'peer denied peer=203.0.113.10:3478 rule="self:203.0.113.10:3478"' "$LAB_DIR/logs/turnwarden.log"
! grep -q 'Total lost packets 0 ' "$out" || lab_die "self peer: uclient relayed to 203.0.113.10:3478: $out"
lab_pass "own service port: 203.0.113.10:3478 as a peer is 403 self:203.0.113.10:3478"

# ------------------------------------------------------------------- TLS, real ACME
# The certificate certbot got from pebble over HTTP-01 through the 1:1 NAT verifies by
# name against pebble's root (what every lab client trusts), from behind the corporate
# firewall, on 443: the one way out it has.
serial_of() { openssl x509 -noout -serial <"$1" | sed 's/^serial=//'; }
# lab_tls_serial NS: the serial of the certificate turn.example.test:443 presents in NS,
# verified against pebble's root and by name (empty when it does not verify).
lab_tls_serial() {
  local t="$LAB_DIR/logs/s_client-$1-$RANDOM.txt"
  nsx "$1" timeout 10 openssl s_client -connect turn.example.test:443 -servername turn.example.test \
    -verify_hostname turn.example.test -verify_return_error -CAfile "$LAB_CA" -alpn stun.turn \
    </dev/null >"$t" 2>&1 || return 0
  grep -q 'Verify return code: 0 (ok)' "$t" && serial_of "$t"
}
cert_before="$(serial_of "$LAB_DIR/cloud/tls/fullchain.pem")"
[[ "$(lab_tls_serial corp)" == "$cert_before" ]] \
  || lab_die "corp: turn.example.test:443 does not present certbot's certificate $cert_before, verified by name"
lab_pass "TLS: turn.example.test:443 presents certbot's certificate (serial $cert_before), verified against pebble's root by name, from twlab-corp"

# doctor, run on the cloud host, checks the certificate against public_name.
nsx cloud timeout 30 "$TW_BIN" doctor --config "$LAB_DIR/cloud/turnwarden.yaml" >"$LAB_DIR/logs/doctor.txt" 2>&1 || true
grep -q "^OK   certificate: $LAB_DIR/cloud/tls/fullchain.pem covers public_name turn.example.test " "$LAB_DIR/logs/doctor.txt" \
  || lab_die "doctor: no OK for the certificate against public_name: $(grep certificate "$LAB_DIR/logs/doctor.txt")"
lab_pass "doctor: certbot's certificate covers public_name turn.example.test"

lab_uclient tls home 443 turn.example.test 198.51.100.50 203.0.113.10 -t -S
lab_uclient tls-corp corp 443 turn.example.test 198.51.100.50 203.0.113.10 -t -S
lab_uclient tls6 home 443 2001:db8:10::10 2001:db8::1 2001:db8:10::10 -t -S -x

# Forced renewal while a TLS allocation relays: certbot renew --force-renewal runs the
# deploy hook (install + SIGHUP); new handshakes get the new certificate, the live
# allocations keep relaying without a loss.
live_out="$LAB_DIR/logs/uclient-tls-renewal.txt"
tls_allocs() { grep -c 'allocation created .* client=198.51.100.20:[0-9]* transport=tls ' "$LAB_DIR/logs/turnwarden.log" || true; }
allocs_before="$(tls_allocs)"
nsx corp timeout 90 turnutils_uclient -v -m "$UCLIENT_CLIENTS" -n 300 -z 50 -l "$UCLIENT_LENGTH" \
  -W "$LAB_SECRET" -u lab -p 443 -e 198.51.100.50 -r 3480 -t -S turn.example.test >"$live_out" 2>&1 &
live_pid=$!
live_allocated() { (( $(tls_allocs) >= allocs_before + UCLIENT_CLIENTS )); }
lab_wait 20 "the live TLS allocations" live_allocated
allocs_live="$(tls_allocs)"
lab_certbot renew --force-renewal --no-random-sleep-on-renew \
  || { tail -n 30 "$LAB_DIR/logs/certbot.log" >&2; lab_die "certbot renew --force-renewal failed"; }
cert_after="$(serial_of "$LAB_DIR/cloud/tls/fullchain.pem")"
[[ "$cert_after" != "$cert_before" ]] || lab_die "renewal: the deploy hook installed no new certificate"
lab_wait 20 "turnwarden loading the renewed certificate" grep -q 'new certificate for tls 10.10.0.10:443 ' "$LAB_DIR/logs/turnwarden.log"
[[ "$(lab_tls_serial corp)" == "$cert_after" ]] || lab_die "renewal: new handshakes do not get the new certificate $cert_after"
kill -0 "$live_pid" 2>/dev/null || lab_die "renewal: the live TLS run ended before the renewal was in force"
rc=0
wait "$live_pid" || rc=$?
(( rc == 0 )) || { tail -n 20 "$live_out" >&2; lab_die "renewal: the live TLS uclient exited with $rc"; }
UCLIENT_MESSAGES=300 lab_uclient_check tls-renewal "$live_out" 203.0.113.10
(( $(tls_allocs) == allocs_live )) || lab_die "renewal: the live run allocated again after the renewal"
lab_pass "renewal: serial $cert_before -> $cert_after without a restart; the live TLS allocations kept relaying"
LAB_FIGURES+=("certificate serial before renewal $cert_before, after $cert_after")

# ---------------------------------------------------------------- Chromium, relay-only
# Headless Chromium (Debian's, driven by playwright-core as tests/e2e/chromium does) in
# twlab-home and in twlab-corp, each trusting pebble's root through its own NSS database
# (certutil), without --ignore-certificate-errors: home over turn: UDP, corp over
# turns:turn.example.test:443 only, a relay-only DataChannel between them.
#
# Their relayed addresses are both 203.0.113.10, so the relay-to-relay path goes from
# the server to its own public address, and the edge does not hairpin: the server
# delivers it to its own relay sockets itself (issue 21, "own relayed addresses are").
# shellcheck disable=SC2034  # E2E_DIR and E2E_TMP are read by playwright.sh
E2E_DIR="$TW_ROOT/tests/e2e"
E2E_LOG_DIR="$TW_BUILD_DIR/e2e-logs"
E2E_TMP="$LAB_DIR/tmp"
mkdir -p "$E2E_TMP"
log() { lab_log "$@"; }
# shellcheck source=../e2e/chromium/playwright.sh
source "$TW_ROOT/tests/e2e/chromium/playwright.sh"
command -v certutil >/dev/null || lab_die "certutil missing: scripts/lib/setup.sh installs libnss3-tools"
CHROMIUM_MESSAGES=20
cred="$(bash -c "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential_command"])' "$LAB_DIR/lab.json")")" \
  || lab_die "lab.json's credential_command failed"
for side in home corp; do
  d="$LAB_DIR/chromium/$side"
  mkdir -p "$d/.pki/nssdb"
  certutil -N -d "sql:$d/.pki/nssdb" --empty-password
  certutil -A -d "sql:$d/.pki/nssdb" -n "twlab pebble root" -t "C,," -i "$LAB_CA"
  printf '#!/bin/sh\nexec ip netns exec twlab-%s /usr/bin/chromium "$@"\n' "$side" >"$d/launch"
  chmod 755 "$d/launch"
  case $side in
    # The UDP URI the server hands out (public_name: turn.example.test).
    home) uri="$(python3 -c 'import json,sys; print(next(u for u in json.loads(sys.argv[1])["uris"] if u.startswith("turn:") and u.endswith("=udp")))' "$cred")" ;;
    corp) uri='turns:turn.example.test:443?transport=tcp' ;;
  esac
  python3 - "$side" "$d" "$uri" "$cred" >"$d/side.json" <<'PY'
import json, sys
side, d, uri, cred = sys.argv[1:]
c = json.loads(cred)
print(json.dumps({"name": side, "launcher": d + "/launch", "home": d,
                  "iceServers": [{"urls": uri, "username": c["username"], "credential": c["password"]}]}))
PY
done
allocs() { grep -c "allocation created .* client=$1:[0-9]* transport=$2 " "$LAB_DIR/logs/turnwarden.log" || true; }
home_before="$(allocs 198.51.100.10 udp)"
corp_before="$(allocs 198.51.100.20 tls)"
out="$LAB_DIR/logs/chromium-pair.json"
rc=0
timeout 180 node "$LAB_TESTS/chromium_pair.mjs" "$PW_DIR" "$CHROMIUM_MESSAGES" \
  "$LAB_DIR/chromium/home/side.json" "$LAB_DIR/chromium/corp/side.json" >"$out" 2>&1 || rc=$?
(( rc == 0 )) || { tail -n 20 "$out" >&2; lab_die "chromium: the driver exited with $rc"; }
json="$(tail -n 1 "$out")"
python3 - "$json" "$CHROMIUM_MESSAGES" <<'PY' || lab_die "chromium: $json"
import json, sys
r, n = json.loads(sys.argv[1]), int(sys.argv[2])
assert r["ok"] and r["received"] == n, f'{r.get("received")} of {n} messages arrived'
for side, proto in (("home", "udp"), ("corp", "tls")):
    p = r["pairs"][side]
    assert p and p["local"] == "relay" and p["remote"] == "relay", f"{side}: selected pair {p}"
    assert p["relayProtocol"] == proto, f"{side}: relayProtocol {p['relayProtocol']}, expected {proto}"
    assert p["localAddress"].startswith("203.0.113.10:"), f"{side}: relayed address {p['localAddress']}"
    assert not r["errors"][side], f"{side}: ICE candidate errors {r['errors'][side]}"
PY
lab_pass "chromium: $CHROMIUM_MESSAGES DataChannel messages home -> corp; both selected pairs relay/relay at 203.0.113.10, home over udp, corp over tls; no ICE candidate error"
(( $(allocs 198.51.100.10 udp) > home_before )) || lab_die "chromium: no new UDP allocation from the home NAT in the server log"
(( $(allocs 198.51.100.20 tls) > corp_before )) || lab_die "chromium: no new TLS allocation from the corporate NAT in the server log"
lab_pass "chromium: the server log shows home's UDP and corp's TLS allocations"
pairs="$(python3 - "$json" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("; ".join("%s: %s/%s relayProtocol %s %s -> %s" % (k, v["local"], v["remote"], v["relayProtocol"],
                                                        v["localAddress"], v["remoteAddress"])
                for k, v in r["pairs"].items()))
PY
)"
LAB_FIGURES+=("chromium selected pairs: $pairs")

# lab.json's credential command prints a credential the server accepts (the uclient runs
# above used the same keyring), as JSON with username, password and uris.
cred="$(bash -c "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credential_command"])' "$LAB_DIR/lab.json")")" \
  || lab_die "lab.json's credential_command failed"
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["username"] and d["password"] and d["uris"]' "$cred" \
  || lab_die "lab.json's credential_command printed no username/password/uris: $cred"
lab_pass "lab.json: the credential command prints username, password and uris"
# public_name: every URI handed out names turn.example.test, each once, turns: included
# (the certificate is for that name, not for 203.0.113.10), in the CLI's answer and in
# the start-up line alike.
uris="$(python3 -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])["uris"]))' "$cred")"
want="turn:turn.example.test:3478?transport=udp turn:turn.example.test:3478?transport=tcp turns:turn.example.test:443?transport=tcp"
[[ "$uris" == "$want" ]] || lab_die "credential uris: '$uris', expected '$want'"
grep -qF "iceServers urls: [\"${want// /\",\"}\"]" "$LAB_DIR/logs/turnwarden.log" \
  || lab_die "the start-up line does not name the same URIs: $(grep -m1 iceServers "$LAB_DIR/logs/turnwarden.log")"
lab_pass "public_name: the CLI and the start-up line hand out $want"
LAB_FIGURES+=("credential uris: $uris")

# The server lived through all of it.
kill -0 "$(cat "$LAB_DIR/pids/turnwarden.pid")" 2>/dev/null || lab_die "turnwarden is no longer running"
lab_pass "turnwarden still running"

printf '[lab] %s\n' "${LAB_FIGURES[@]}"
printf '[lab] %d passed, 0 failed\n' "$LAB_PASSED"
