#!/usr/bin/env bash
# TURN over DTLS with the openssl command-line client against the real binary.
# Usage: dtls_s_client_test.sh PATH/TO/turnwarden
#
# For each of `openssl s_client -dtls1_2` (DTLS 1.2 only) and `-dtls` (any DTLS version):
#   - the handshake completes through the stateless cookie exchange, as DTLS 1.2 with an
#     ECDHE AEAD suite, and the certificate verifies against the test's own CA file for
#     IP 127.0.0.1 (-verify_return_error: a failed verification would abort the handshake);
#   - a STUN Binding request written into the DTLS session is answered with a Binding
#     success response carrying the same transaction id and an XOR-MAPPED-ADDRESS of
#     127.0.0.1 (the client's address as the server saw it).
# Then `-dtls1` (DTLS 1.0 only) must be refused with a protocol-version alert.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

secure_listeners dtls
timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" >/dev/null 2>&1 || fail "check-config rejected the dtls config"
start_server "$E2E_CONFIG"
grep -q "dtls 127.0.0.1:$DTLS_PORT" "$SERVER_LOG" || fail "no dtls listener in the ready line"

# s_client_dtls OUT VERSION_FLAG [STDIN_BYTES_FILE]: one s_client run; the bytes (if any)
# are written into the session, then stdin stays open 3 s for the answer before EOF
# closes the session (close_notify).
s_client_dtls() {
  s_client_probe "$1" "${3:-/dev/null}" 3 "$2" -connect "127.0.0.1:$DTLS_PORT" \
    -verify_ip 127.0.0.1 -verify_return_error
}

# A Binding request: type 0x0001, length 0, magic cookie, 12-byte transaction id.
TXN_HEX="$(openssl rand -hex 12)"
printf '%s' "000100002112a442$TXN_HEX" | xxd -r -p >"$E2E_TMP/binding.bin"

# binding_answered OUT: the output holds a Binding success (0x0101) for our transaction
# whose first attribute is XOR-MAPPED-ADDRESS (0x0020, 8 bytes, IPv4) for 127.0.0.1.
binding_answered() {
  local hex rest
  hex="$(xxd -p "$1" | tr -d '\n')"
  [[ "$hex" == *"2112a442$TXN_HEX"* ]] || return 1
  rest="${hex#*2112a442"$TXN_HEX"}"
  local head="${hex%%2112a442"$TXN_HEX"*}"
  [[ "${head: -8:4}" == "0101" ]] || return 1
  [[ "${rest:0:8}" == "00200008" && "${rest:8:4}" == "0001" ]] || return 1
  local xip=$(( 16#${rest:16:8} ^ 0x2112a442 ))
  (( xip == 0x7f000001 ))
}

for flag in -dtls1_2 -dtls; do
  out="$E2E_TMP/s_client$flag.txt"
  s_client_dtls "$out" "$flag" "$E2E_TMP/binding.bin"
  grep -q '^    Protocol  : DTLSv1.2$' "$out" || fail "s_client $flag: no DTLS 1.2 session"
  grep -Eq '^New, TLSv1.2, Cipher is ECDHE-ECDSA-(AES(128|256)-GCM|CHACHA20-POLY1305)' "$out" \
    || fail "s_client $flag: handshake did not complete with an ECDHE AEAD suite"
  grep -q 'Verify return code: 0 (ok)' "$out" || fail "s_client $flag: certificate did not verify"
  binding_answered "$out" || fail "s_client $flag: no Binding success with XOR-MAPPED-ADDRESS 127.0.0.1"
  pass "openssl s_client $flag: DTLS 1.2 handshake, verified certificate, Binding answered"
done

out="$E2E_TMP/s_client-dtls1.txt"
s_client_dtls "$out" -dtls1
grep -q 'alert protocol version' "$out" || fail "s_client -dtls1 (DTLS 1.0) was not refused"
if grep -q '^New, TLSv1.2' "$out"; then fail "s_client -dtls1 completed a handshake"; fi
pass "openssl s_client -dtls1 (DTLS 1.0) refused with a protocol-version alert"

stop_server TERM
