#!/usr/bin/env bash
# Certificate reload with two workers (issue 9, "One snapshot per reload"): the real
# binary with `workers: 2` (write_config's default), one TLS and one DTLS listener.
# Usage: cert_reload_test.sh PATH/TO/turnwarden
#
#   - a TLS and a DTLS session opened before the reload (openssl s_client, fed from a
#     fifo) answer a Binding before and after it, and kept the old certificate;
#   - SIGHUP with a new certificate at the same paths: each listener logs its new
#     certificate once (the context is built once per reload, not once per worker);
#     16 new TLS and 16 new DTLS handshakes all see the new certificate. Each probe is a
#     new source port, and SO_REUSEPORT hashes those across both workers (all 16 on one
#     worker: a 1-in-32768 chance), so both workers' sockets are exercised;
#   - a second SIGHUP with a third certificate but an unreadable key: the reload goes
#     on, the error names the key file, and new handshakes still see the second
#     certificate (the old context is kept), on both transports;
#   - a third SIGHUP with a good pair and a second TLS listener: the new listener (opened
#     by the reload on both workers) and the kept ones serve the new certificate.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

secure_listeners tls dtls
grep -q '^workers: 2$' "$E2E_CONFIG" || fail "the config does not ask for two workers"
start_server "$E2E_CONFIG"

# fingerprint FILE: SHA-256 fingerprint of the first certificate in FILE (a PEM file or
# an s_client transcript).
fingerprint() { openssl x509 -noout -fingerprint -sha256 <"$1" 2>/dev/null || true; }

# binding TXN FD: a Binding request (type 0x0001, length 0, magic cookie, transaction
# id TXN) written to FD in one write: one TLS/DTLS record.
binding() { printf '%s' "000100002112a442$1" | xxd -r -p >&"$2"; }

# answered OUT TXN: OUT holds a Binding success response (0x0101) for transaction TXN.
answered() { xxd -p "$1" | tr -d '\n' | grep -Eq "0101[0-9a-f]{4}2112a442$2"; }

# wait_answered OUT TXN: up to 10 s for that answer.
wait_answered() { eventually 10 answered "$1" "$2"; }

# live NAME ARGS...: an s_client session (ARGS) that stays open, its stdin a fifo held
# open read-write on a new fd (set in LIVE_FD), its transcript in $E2E_TMP/NAME.log.
live() {
  local name=$1
  shift
  mkfifo "$E2E_TMP/$name.in"
  start_helper "$name" bash -c 'exec openssl s_client "$@" <"$0"' "$E2E_TMP/$name.in" "$@"
  exec {LIVE_FD}<>"$E2E_TMP/$name.in"
}

# probe_all KIND PORT N WANT: N new handshakes (KIND tls or dtls, run at once: a DTLS
# s_client lingers half a second after its handshake), each must present the
# certificate with fingerprint WANT.
probe_all() {
  local kind=$1 port=$2 n=$3 want=$4 i args pids=()
  if [[ $kind == tls ]]; then args=(-connect "127.0.0.1:$port" -alpn stun.turn)
  else args=(-dtls1_2 -connect "127.0.0.1:$port"); fi
  for ((i = 0; i < n; i++)); do
    s_client_probe "$E2E_TMP/probe-$kind-$i.txt" /dev/null 0 "${args[@]}" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for ((i = 0; i < n; i++)); do
    show_on_failure "$E2E_TMP/probe-$kind-$i.txt"
    [[ "$(fingerprint "$E2E_TMP/probe-$kind-$i.txt")" == "$want" ]] \
      || fail "$kind handshake $i: not the expected certificate"
  done
}

FP_OLD="$(fingerprint "$E2E_TMP/cert.pem")"
[[ -n "$FP_OLD" ]] || fail "no fingerprint for the first certificate"

live live-tls -connect "127.0.0.1:$TLS_PORT" -alpn stun.turn
TLS_FD=$LIVE_FD
live live-dtls -dtls1_2 -connect "127.0.0.1:$DTLS_PORT"
DTLS_FD=$LIVE_FD
TXN1="$(openssl rand -hex 12)"
binding "$TXN1" "$TLS_FD"
binding "$TXN1" "$DTLS_FD"
wait_answered "$E2E_TMP/live-tls.log" "$TXN1" || fail "the live TLS session got no Binding answer"
wait_answered "$E2E_TMP/live-dtls.log" "$TXN1" || fail "the live DTLS session got no Binding answer"
[[ "$(fingerprint "$E2E_TMP/live-tls.log")" == "$FP_OLD" ]] || fail "live TLS session: not the first certificate"
[[ "$(fingerprint "$E2E_TMP/live-dtls.log")" == "$FP_OLD" ]] || fail "live DTLS session: not the first certificate"
pass "a TLS and a DTLS session are live, with the first certificate"

# logged_after LINES PATTERN: PATTERN is in the server log past its first LINES lines.
logged_after() { tail -n "+$(($1 + 1))" "$SERVER_LOG" | grep -q "$2"; }

# reload_until PATTERN: SIGHUP, then up to 10 s for PATTERN in the log (counted from
# the lines after the signal).
reload_until() {
  local lines
  lines="$(wc -l <"$SERVER_LOG")"
  kill -HUP "$SERVER_PID"
  eventually 10 logged_after "$lines" "$1" || fail "no '$1' logged after SIGHUP"
  sleep 0.2  # the rest of the reload's lines
  tail -n "+$((lines + 1))" "$SERVER_LOG" >"$E2E_TMP/reload.log"
  show_on_failure "$E2E_TMP/reload.log"
}

make_cert "$E2E_TMP"  # a new certificate and key at the same paths
FP_NEW="$(fingerprint "$E2E_TMP/cert.pem")"
[[ -n "$FP_NEW" && "$FP_NEW" != "$FP_OLD" ]] || fail "make_cert did not make a new certificate"
reload_until 'reload ok'
(( $(grep -c "new certificate for tls 127.0.0.1:$TLS_PORT " "$E2E_TMP/reload.log") == 1 )) \
  || fail "the TLS listener's new certificate was not logged exactly once"
(( $(grep -c "new certificate for dtls 127.0.0.1:$DTLS_PORT " "$E2E_TMP/reload.log") == 1 )) \
  || fail "the DTLS listener's new certificate was not logged exactly once"
pass "SIGHUP: each listener's new certificate is loaded and logged once, not per worker"

probe_all tls "$TLS_PORT" 16 "$FP_NEW"
probe_all dtls "$DTLS_PORT" 16 "$FP_NEW"
pass "after the reload, 16 new TLS and 16 new DTLS handshakes all see the new certificate"

TXN2="$(openssl rand -hex 12)"
binding "$TXN2" "$TLS_FD"
binding "$TXN2" "$DTLS_FD"
wait_answered "$E2E_TMP/live-tls.log" "$TXN2" || fail "the live TLS session did not survive the reload"
wait_answered "$E2E_TMP/live-dtls.log" "$TXN2" || fail "the live DTLS session did not survive the reload"
pass "the TLS and DTLS sessions opened before the reload still answer"

# A third certificate with an unreadable key: both listeners keep the second one.
mkdir "$E2E_TMP/third"
make_cert "$E2E_TMP/third"
cp "$E2E_TMP/third/cert.pem" "$E2E_TMP/cert.pem"
echo "not a key" >"$E2E_TMP/key.pem"
reload_until 'reload ok'
grep -q "keeping the old certificate of tls 127.0.0.1:$TLS_PORT: .*$E2E_TMP/key.pem" "$E2E_TMP/reload.log" \
  || fail "the TLS listener's failed key was not logged with its file"
grep -q "keeping the old certificate of dtls 127.0.0.1:$DTLS_PORT: .*$E2E_TMP/key.pem" "$E2E_TMP/reload.log" \
  || fail "the DTLS listener's failed key was not logged with its file"
probe_all tls "$TLS_PORT" 4 "$FP_NEW"
probe_all dtls "$DTLS_PORT" 4 "$FP_NEW"
pass "a reload whose key fails to load keeps the old certificate (logged with the file)"

# A good pair again and a second TLS listener: the reload opens it with the new
# context on both workers, and the kept listeners take the same certificate.
make_cert "$E2E_TMP"
FP_LAST="$(fingerprint "$E2E_TMP/cert.pem")"
TLS_PORT2="$(free_tcp_port)"
add_listeners "$E2E_CONFIG" "  - transport: tls
    address: 127.0.0.1
    port: $TLS_PORT2
    cert: $E2E_TMP/cert.pem
    key: $E2E_TMP/key.pem"
reload_until 'reload ok'
grep -q "reload: opened listeners: tls 127.0.0.1:$TLS_PORT2" "$E2E_TMP/reload.log" \
  || fail "the reload did not open the second TLS listener"
probe_all tls "$TLS_PORT2" 8 "$FP_LAST"
probe_all tls "$TLS_PORT" 4 "$FP_LAST"
probe_all dtls "$DTLS_PORT" 4 "$FP_LAST"
pass "a TLS listener opened by a reload serves the certificate, so do the kept ones"

exec {TLS_FD}>&- {DTLS_FD}>&-
stop_server TERM
