#!/usr/bin/env bash
# The TLS and DTLS listeners of the real binary offer nothing below TLS 1.2 / DTLS 1.2
# and no cipher suite without AEAD (docs/security.md; testssl.sh's full report is there).
# Usage: tls_ciphers_test.sh PATH/TO/turnwarden
#
# openssl s_client probes (testssl.sh takes minutes; these take seconds):
#   - TLS 1.0 and TLS 1.1, offered with every cipher at security level 0: refused;
#   - TLS 1.2 offering every non-AEAD suite OpenSSL knows (CBC, RC4, NULL, ...: about 90,
#     listed from `openssl ciphers`): refused, so the server shares none of them;
#     the same over DTLS 1.2;
#   - control: TLS 1.2 and TLS 1.3 with the defaults complete, with an AEAD suite.
# SSLv2/SSLv3 cannot be offered by Debian's OpenSSL 3 client at all; the server's floor
# is SSL_CTX_set_min_proto_version(TLS1_2_VERSION) (relay/io/tls_context.cc), which the
# TLS 1.0/1.1 probes exercise.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

secure_listeners tls dtls
start_server "$E2E_CONFIG"

NON_AEAD="$(openssl ciphers -v 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' \
  | awk '$2 != "TLSv1.3" && $6 != "Mac=AEAD" { print $1 }' | paste -sd: -)"
n="$(tr ':' '\n' <<<"$NON_AEAD" | wc -l)"
(( n > 50 )) || fail "openssl lists only $n non-AEAD suites; the probe would prove little"

# probe OUT ARGS...: one s_client handshake; stdin closes at once, so it ends after it.
probe() { s_client_probe "$1" /dev/null 0 "${@:2}"; }
# established OUT: the handshake produced a session with a cipher.
established() { grep -Eq '^New, (TLS|DTLS)v[0-9.]+, Cipher is [A-Z0-9_-]+' "$1" && ! grep -q 'Cipher is (NONE)' "$1"; }

for flag in -tls1 -tls1_1; do
  out="$E2E_TMP/probe$flag.txt"
  probe "$out" "$flag" -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -connect "127.0.0.1:$TLS_PORT"
  if established "$out"; then fail "s_client $flag completed a handshake"; fi
  grep -Eq 'alert protocol version|unsupported protocol|no protocols available|wrong version number' "$out" \
    || fail "s_client $flag: no protocol-version refusal in the output"
  pass "s_client $flag refused"
done

out="$E2E_TMP/probe-tls12-non-aead.txt"
probe "$out" -tls1_2 -cipher "$NON_AEAD:@SECLEVEL=0" -connect "127.0.0.1:$TLS_PORT"
if established "$out"; then fail "TLS 1.2 accepted a non-AEAD suite: $(grep 'Cipher is' "$out")"; fi
grep -q 'handshake failure' "$out" || fail "TLS 1.2 with only non-AEAD suites: no handshake-failure alert"
pass "TLS 1.2 offering only the $n non-AEAD suites: refused (no shared cipher)"

out="$E2E_TMP/probe-dtls12-non-aead.txt"
probe "$out" -dtls1_2 -cipher "$NON_AEAD:@SECLEVEL=0" -connect "127.0.0.1:$DTLS_PORT"
if established "$out"; then fail "DTLS 1.2 accepted a non-AEAD suite: $(grep 'Cipher is' "$out")"; fi
pass "DTLS 1.2 offering only non-AEAD suites: refused"

for flag in -tls1_2 -tls1_3; do
  out="$E2E_TMP/probe$flag-default.txt"
  probe "$out" "$flag" -connect "127.0.0.1:$TLS_PORT"
  established "$out" || fail "s_client $flag with the defaults: no session (the control failed)"
  grep -Eq 'Cipher is (ECDHE-[A-Z]+-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)|TLS_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256))$' "$out" \
    || fail "s_client $flag: not an AEAD suite: $(grep 'Cipher is' "$out")"
  pass "s_client $flag with the defaults: $(grep -o 'Cipher is .*' "$out" | head -1)"
done

stop_server TERM
