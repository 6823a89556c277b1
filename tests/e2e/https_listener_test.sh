#!/usr/bin/env bash
# The credentials endpoint's HTTPS listener (issue 22, findings 3 and 6), against the real
# binary. Usage: https_listener_test.sh PATH/TO/turnwarden
#   - a 0-byte certificate (a half-finished renewal), a certificate that is not PEM and a key
#     that is not the certificate's each fail `check-config`, naming the file and the key
#     (cert/key); none of them ever gives a listener serving plain HTTP;
#   - the listener has the TURN TLS listener's policy: TLS 1.0 and 1.1 refused, a TLS 1.2
#     offer of only non-AEAD suites refused, TLS 1.2 and 1.3 with the defaults complete with
#     an AEAD suite;
#   - a reload (SIGHUP) while the certificate file is empty is refused, and the running
#     listener keeps serving HTTPS with the certificate it had.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

make_cert "$E2E_TMP"
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out "$E2E_TMP/other-key.pem" 2>/dev/null \
  || fail "openssl could not make a second key"
# An Ed25519 JWKS: the raw public key is the last 32 bytes of its DER form.
openssl genpkey -algorithm ed25519 -out "$E2E_TMP/app-key.pem" 2>/dev/null || fail "no Ed25519 key"
x="$(openssl pkey -in "$E2E_TMP/app-key.pem" -pubout -outform DER | tail -c 32 | base64 | tr '+/' '-_' | tr -d '=\n')"
printf '{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"%s"}]}\n' "$x" >"$E2E_TMP/jwks.json"

HTTPS_PORT="$(free_tcp_port)"
credentials_yaml() {  # CERT KEY
  printf 'credentials:\n  listen: 127.0.0.1:%s\n  jwks_file: %s\n  issuer: https://app.e2e.test\n' \
    "$HTTPS_PORT" "$E2E_TMP/jwks.json"
  printf '  audience: turn\n  cert: %s\n  key: %s\n' "$1" "$2"
}

# ---------------------------------------------------------------- check-config refuses bad PEM files
: >"$E2E_TMP/empty.pem"
printf -- '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' >"$E2E_TMP/junk.pem"
check_refused() {  # NAME CERT KEY FIELD FILE WHY
  local out rc=0
  write_config "$E2E_TMP" "$(free_udp_port)" --no-check "$(credentials_yaml "$2" "$3")"
  out="$(timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" 2>&1)" || rc=$?
  (( rc == 2 )) || fail "$1: check-config exited $rc, not 2: $out"
  grep -q "credentials.$4" <<<"$out" || fail "$1: the error does not name credentials.$4: $out"
  grep -qF "$5" <<<"$out" || fail "$1: the error does not name the file $5: $out"
  grep -q "$6" <<<"$out" || fail "$1: the error does not say '$6': $out"
  pass "check-config refuses $1: $(head -1 <<<"$out")"
}
check_refused "a 0-byte certificate" "$E2E_TMP/empty.pem" "$E2E_TMP/key.pem" cert "$E2E_TMP/empty.pem" "is empty"
check_refused "a certificate that does not parse" "$E2E_TMP/junk.pem" "$E2E_TMP/key.pem" cert "$E2E_TMP/junk.pem" \
  "no PEM certificate"
check_refused "a 0-byte key" "$E2E_TMP/cert.pem" "$E2E_TMP/empty.pem" key "$E2E_TMP/empty.pem" "is empty"
check_refused "a key that is not the certificate's" "$E2E_TMP/cert.pem" "$E2E_TMP/other-key.pem" key \
  "$E2E_TMP/other-key.pem" "does not match"

# The server refuses to start with it too (no plain-HTTP fall back).
write_config "$E2E_TMP" "$(free_udp_port)" --no-check "$(credentials_yaml "$E2E_TMP/empty.pem" "$E2E_TMP/key.pem")"
rc=0
timeout 10 "$TW_BIN" --config "$E2E_CONFIG" >"$E2E_TMP/refused.log" 2>&1 </dev/null || rc=$?
show_on_failure "$E2E_TMP/refused.log"
(( rc != 0 )) || fail "the server started with a 0-byte certificate"
[[ -z "$(ss -Hnlt "sport = :$HTTPS_PORT")" ]] || fail "something listens on the credentials port"
pass "the server does not start with a 0-byte certificate (exit $rc)"

# ---------------------------------------------------------------- protocol floor and suites
cp "$E2E_TMP/cert.pem" "$E2E_TMP/live-cert.pem"
write_config "$E2E_TMP" "$(free_udp_port)" "$(credentials_yaml "$E2E_TMP/live-cert.pem" "$E2E_TMP/key.pem")"
start_server "$E2E_CONFIG"

probe() { s_client_probe "$1" /dev/null 0 "${@:2}" -connect "127.0.0.1:$HTTPS_PORT"; }
established() { grep -Eq '^New, TLSv[0-9.]+, Cipher is [A-Z0-9_-]+' "$1" && ! grep -q 'Cipher is (NONE)' "$1"; }
aead() { grep -Eq 'Cipher is (ECDHE-[A-Z]+-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)|TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256))$' "$1"; }

for flag in -tls1 -tls1_1; do
  out="$E2E_TMP/https$flag.txt"
  probe "$out" "$flag" -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0'
  if established "$out"; then fail "s_client $flag completed a handshake with the HTTPS listener"; fi
  pass "s_client $flag refused by the HTTPS listener"
done

NON_AEAD="$(openssl ciphers -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' \
  | awk '$2 != "TLSv1.3" && $6 != "Mac=AEAD" { print $1 }' | paste -sd: -)"
out="$E2E_TMP/https-tls12-non-aead.txt"
probe "$out" -tls1_2 -cipher "$NON_AEAD:@SECLEVEL=0"
if established "$out"; then fail "TLS 1.2 accepted a non-AEAD suite: $(grep 'Cipher is' "$out")"; fi
pass "TLS 1.2 offering only non-AEAD suites: refused"

for flag in -tls1_2 -tls1_3; do
  out="$E2E_TMP/https$flag-default.txt"
  probe "$out" "$flag"
  established "$out" || fail "s_client $flag with the defaults: no session"
  aead "$out" || fail "s_client $flag: not an AEAD suite: $(grep 'Cipher is' "$out")"
  pass "s_client $flag: $(grep -o 'Cipher is .*' "$out" | head -1)"
done

# A real HTTPS request: 401 for a bad token, over TLS (curl trusts the test certificate).
status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$E2E_TMP/cert.pem" \
  -X POST -H 'Authorization: Bearer x.y.z' "https://127.0.0.1:$HTTPS_PORT/v1/credentials")"
[[ "$status" == 401 ]] || fail "HTTPS POST with a bad token: status $status, not 401"
pass "HTTPS request answered (401 for a bad token)"

# ---------------------------------------------------------------- a reload with an empty certificate
: >"$E2E_TMP/live-cert.pem"
kill -HUP "$SERVER_PID"
eventually 10 grep -q 'live-cert.pem' "$SERVER_LOG" || fail "no reload error naming the empty certificate"
grep -q 'is empty' "$SERVER_LOG" || fail "the reload error does not say the certificate is empty"
out="$E2E_TMP/https-after-reload.txt"
probe "$out" -tls1_3
established "$out" || fail "after the refused reload the listener no longer completes a TLS handshake"
status="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$E2E_TMP/cert.pem" \
  -X POST -H 'Authorization: Bearer x.y.z' "https://127.0.0.1:$HTTPS_PORT/v1/credentials")"
[[ "$status" == 401 ]] || fail "after the refused reload: status $status, not 401"
pass "reload with a 0-byte certificate refused; the listener still serves HTTPS with the old one"

stop_server TERM
