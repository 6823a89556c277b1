#!/usr/bin/env bash
# `turnwarden doctor --config FILE` on this host, the real binary (the checks
# themselves are unit-tested in tests/relay/app/doctor_test.cc):
#   a sound loopback config: exit 0, "0 FAIL", an OK line per check;
#   a real certificate (openssl, 2 days) on a TLS listener: parsed, WARN "expires in";
#   an open-file limit (ulimit -n) below quotas.total: FAIL open-files with the fix, exit 1;
#   a keyring with mode 0644: FAIL keyring (the report still runs), exit 1;
#   a relay address on no interface (192.0.2.1, never contacted): FAIL addresses, exit 1;
#   a broken config: the FILE:LINE:COL errors, exit 2.
# doctor only reads: it sends no packet and changes no file.
# Usage: doctor_test.sh PATH/TO/turnwarden
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# doctor OUTFILE [ULIMIT] ARGS...: runs doctor (10 s max), sets RC.
doctor() {
  local out=$1 limit=$2
  shift 2
  RC=0
  (ulimit -n "$limit" && timeout 10 "$TW_BIN" doctor "$@") >"$out" 2>&1 </dev/null || RC=$?
  show_on_failure "$out"
  (( RC != 124 )) || fail "doctor did not finish within 10 s"
}

# A soft limit the sound config fits in (100 allocations, a connection each, listeners,
# 64): 4096, or the hard limit if that is lower.
HARD="$(ulimit -Hn)"
ROOMY=4096
[[ "$HARD" == unlimited ]] || (( HARD >= ROOMY )) || ROOMY=$HARD
(( ROOMY >= 300 )) || fail "hard open-file limit $HARD is too low for this test"

PORT="$(free_udp_port)"
TLS_PORT="$(free_tcp_port)"
make_cert "$E2E_TMP"
write_config "$E2E_TMP" "$PORT" 'quotas:
  total: 100'
add_listeners "$E2E_CONFIG" "  - transport: tls
    address: 127.0.0.1
    port: $TLS_PORT
    cert: $E2E_TMP/cert.pem
    key: $E2E_TMP/key.pem"

doctor "$E2E_TMP/good.txt" "$ROOMY" --config "$E2E_CONFIG"
(( RC == 0 )) || fail "doctor exited $RC on a sound config"
grep -q '^[0-9]* checks: 0 FAIL' "$E2E_TMP/good.txt" || fail "no '0 FAIL' summary"
for check in open-files relay-ports exposure addresses keyring metrics admin; do
  grep -q "^OK   $check: " "$E2E_TMP/good.txt" || fail "no OK line for $check"
done
pass "sound config: exit 0, OK for open-files, relay-ports, exposure, addresses, keyring, metrics, admin"
grep -q "^WARN certificate: $E2E_TMP/cert.pem expires in [12] days" "$E2E_TMP/good.txt" \
  || fail "the 2-day certificate is not reported as expiring"
grep -q "^OK   certificate: $E2E_TMP/cert.pem covers the tls listener" "$E2E_TMP/good.txt" \
  || fail "the certificate's IP SAN 127.0.0.1 does not cover the listener"
pass "real certificate read: expiring within 2 days (WARN), names cover the listener"

doctor "$E2E_TMP/nofile.txt" 128 --config "$E2E_CONFIG"
(( RC == 1 )) || fail "doctor exited $RC with ulimit -n 128 < 100 allocations + listeners + 64"
grep -q '^FAIL open-files: open-file limit 128 cannot hold quotas.total 100' "$E2E_TMP/nofile.txt" \
  || fail "no FAIL open-files line"
grep -q '^     fix: raise the limit' "$E2E_TMP/nofile.txt" || fail "no fix under the FAIL"
pass "ulimit -n 128: FAIL open-files with the fix, exit 1"

# The next configs are variants of the first (no second relay-range lookup: doctor
# binds nothing, and a busy machine may have few free ranges).
SOUND="$E2E_CONFIG"
mkdir "$E2E_TMP/keyring"
printf 'secrets:\n  - id: k1\n    value: "%s"\n' "$(openssl rand -hex 32)" >"$E2E_TMP/keyring/secrets.yaml"
chmod 644 "$E2E_TMP/keyring/secrets.yaml"
E2E_CONFIG="$E2E_TMP/keyring/turnwarden.yaml"
sed -e '/^  secrets:$/d' -e '/^    - id: k1$/d' -e '/^      value: /d' \
  -e 's/^auth:$/auth:\n  secrets_file: secrets.yaml/' "$SOUND" >"$E2E_CONFIG"
show_on_failure "$E2E_CONFIG"
doctor "$E2E_TMP/keyring.txt" "$ROOMY" --config "$E2E_CONFIG"
(( RC == 1 )) || fail "doctor exited $RC on a world-readable keyring"
grep -q '^FAIL keyring: .*secrets.yaml has mode 0644' "$E2E_TMP/keyring.txt" || fail "no FAIL keyring line"
pass "keyring mode 0644: FAIL keyring, exit 1"

mkdir "$E2E_TMP/addr"
E2E_CONFIG="$E2E_TMP/addr/turnwarden.yaml"
sed 's/^    - 127.0.0.1$/    - 192.0.2.1/' "$SOUND" >"$E2E_CONFIG"
grep -q '192.0.2.1' "$E2E_CONFIG" || fail "could not set the relay address"
doctor "$E2E_TMP/addr.txt" "$ROOMY" --config "$E2E_CONFIG"
(( RC == 1 )) || fail "doctor exited $RC with a relay address on no interface"
grep -q '^FAIL addresses: relay address 192.0.2.1 is not configured on any interface' "$E2E_TMP/addr.txt" \
  || fail "no FAIL addresses line"
pass "relay address 192.0.2.1: FAIL addresses, exit 1"

printf 'realm: x\nlisteners: 3\n' >"$E2E_TMP/broken.yaml"
doctor "$E2E_TMP/broken.txt" "$ROOMY" --config "$E2E_TMP/broken.yaml"
(( RC == 2 )) || fail "doctor exited $RC on an invalid config, expected 2"
grep -q "^$E2E_TMP/broken.yaml:2:" "$E2E_TMP/broken.txt" || fail "no FILE:LINE error for the broken config"
pass "invalid config: FILE:LINE:COL errors, exit 2"
