#!/usr/bin/env bash
# The command line, without a running server:
#   --help / --version exit 0;
#   check-config: exit 0 on the shipped etc/turnwarden.yaml and on a generated config
#     (without binding anything: its port is held by another process meanwhile); exit 2
#     with "FILE:LINE:COL: message" pointing at the offending line and naming the key
#     for each broken config;
#   credential: JSON with username/password/ttl/uris, username "<expiry>:NAME" with
#     expiry = now + ttl, password = base64(HMAC-SHA1(secret, username)) as computed
#     here by openssl.
# Usage: cli_test.sh PATH/TO/turnwarden
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# run_cli OUTFILE ARGS...: run turnwarden ARGS (10 s max), output to OUTFILE; sets RC.
run_cli() {
  local out=$1
  shift
  RC=0
  timeout 10 "$TW_BIN" "$@" >"$out" 2>&1 </dev/null || RC=$?
  show_on_failure "$out"
  (( RC != 124 )) || fail "turnwarden $* did not finish within 10 s"
}

# ---------------------------------------------------------------------------- --help, --version

run_cli "$E2E_TMP/help.txt" --help
(( RC == 0 )) || fail "--help exited $RC"
grep -q -- '--config' "$E2E_TMP/help.txt" || fail "--help does not mention --config"
grep -q 'check-config' "$E2E_TMP/help.txt" || fail "--help does not mention check-config"
grep -q 'credential' "$E2E_TMP/help.txt" || fail "--help does not mention credential"
pass "--help exits 0 and lists --config, check-config, credential"

run_cli "$E2E_TMP/version.txt" --version
(( RC == 0 )) || fail "--version exited $RC"
grep -Eq '[0-9]+\.[0-9]+\.[0-9]+' "$E2E_TMP/version.txt" || fail "--version prints no version number"
pass "--version exits 0: $(head -n 1 "$E2E_TMP/version.txt")"

# ---------------------------------------------------------------------------- check-config: valid

SHIPPED="$TW_SOURCE_DIR/etc/turnwarden.yaml"
[[ -f "$SHIPPED" ]] || fail "no shipped config at $SHIPPED"
# From the repo root, as scripts/run does: relative paths in the config resolve there.
RC=0
(cd "$TW_SOURCE_DIR" && timeout 10 "$TW_BIN" check-config etc/turnwarden.yaml) \
  >"$E2E_TMP/shipped.txt" 2>&1 </dev/null || RC=$?
show_on_failure "$E2E_TMP/shipped.txt"
(( RC == 0 )) || fail "check-config etc/turnwarden.yaml exited $RC"
pass "check-config accepts the shipped etc/turnwarden.yaml"

# A valid config whose listener port is held by another process: check-config only
# reads and validates, so it must still exit 0, print no ready line, start nothing.
PORT="$(free_udp_port)"
write_config "$E2E_TMP" "$PORT" --allow-loopback --no-check
BASE="$E2E_CONFIG"
show_on_failure "$BASE"
start_helper port-holder turnutils_peer -L 127.0.0.1 -p "$PORT"
wait_udp_bound "$PORT"
run_cli "$E2E_TMP/valid.txt" check-config "$BASE"
(( RC == 0 )) || fail "check-config rejected the generated config (exit $RC)"
! grep -q 'turnwarden ready' "$E2E_TMP/valid.txt" || fail "check-config started a server"
! pgrep -f -- "$BASE" >/dev/null || fail "a process using $BASE is still running after check-config"
pass "check-config accepts a valid config without binding its (busy) port"

# ---------------------------------------------------------------------------- check-config: broken

# expect_rejected NAME LINE KEYS_REGEX: check-config on $E2E_TMP/NAME.yaml must exit 2
# and print "FILE:LINE:COL: message" (LINE empty: any line) whose message matches
# KEYS_REGEX (the key, or the offending value).
expect_rejected() {
  local name=$1 line=$2 keys=$3 file="$E2E_TMP/$1.yaml" out="$E2E_TMP/$1.out" re msg
  show_on_failure "$file"
  run_cli "$out" check-config "$file"
  (( RC == 2 )) || fail "$name: check-config exited $RC, expected 2"
  re="^${file//./\\.}:([0-9]+):([0-9]+): (.+)$"
  local found=""
  while IFS= read -r msg; do
    [[ "$msg" =~ $re ]] || continue
    [[ -z "$line" || "${BASH_REMATCH[1]}" == "$line" ]] || continue
    (( BASH_REMATCH[2] >= 1 )) || continue
    [[ "${BASH_REMATCH[3]}" =~ $keys ]] || continue
    found=$msg
    break
  done <"$out"
  [[ -n "$found" ]] || fail "$name: no '$file:${line:-N}:COL: ...' line naming /$keys/ in the output"
  pass "$name: exit 2, $found"
}

# line_of FILE TEXT: number of the first line of FILE containing TEXT.
line_of() { grep -n -F -m 1 -- "$2" "$1" | cut -d: -f1; }

# The mutations below edit these lines of the generated config.
for shape in '^realm: e2e.test$' '^  port_range: ' '^    - 127.0.0.1/32$' "^    port: $PORT\$" '^  secrets:$'; do
  grep -q -- "$shape" "$BASE" || fail "generated config has no line matching /$shape/"
done

# Unknown key (top level).
{ cat "$BASE"; echo "frobnicate: 1"; } >"$E2E_TMP/unknown-key.yaml"
expect_rejected unknown-key "$(line_of "$E2E_TMP/unknown-key.yaml" frobnicate)" 'frobnicate'

# Wrong type: a sequence where the realm string goes.
sed 's/^realm: e2e.test$/realm: [e2e, test]/' "$BASE" >"$E2E_TMP/wrong-type.yaml"
expect_rejected wrong-type "$(line_of "$E2E_TMP/wrong-type.yaml" 'realm:')" 'realm'

# Bad CIDR (prefix length 33).
sed 's|^    - 127.0.0.1/32$|    - 127.0.0.1/33|' "$BASE" >"$E2E_TMP/bad-cidr.yaml"
expect_rejected bad-cidr "$(line_of "$E2E_TMP/bad-cidr.yaml" '127.0.0.1/33')" 'allowed|127\.0\.0\.1/33'

# Listener port out of range.
sed "s/^    port: $PORT\$/    port: 70000/" "$BASE" >"$E2E_TMP/bad-port.yaml"
expect_rejected bad-port "$(line_of "$E2E_TMP/bad-port.yaml" 'port: 70000')" 'port'

# Inverted port range.
sed 's/^  port_range: .*/  port_range: 5000-4000/' "$BASE" >"$E2E_TMP/bad-range.yaml"
expect_rejected bad-range "$(line_of "$E2E_TMP/bad-range.yaml" 'port_range:')" 'port_range'

# No secret at all: neither auth.secrets nor auth.secrets_file.
sed '/^  secrets:$/,/^      value: /d' "$BASE" >"$E2E_TMP/no-secret.yaml"
! grep -q secret "$E2E_TMP/no-secret.yaml" || fail "no-secret.yaml still mentions a secret"
expect_rejected no-secret "" '[Ss]ecret'

# ---------------------------------------------------------------------------- credential

NOW_BEFORE=$(date +%s)
run_cli "$E2E_TMP/credential.json" credential --config "$BASE" --user alice --ttl 1h
NOW_AFTER=$(date +%s)
(( RC == 0 )) || fail "credential exited $RC"
JSON="$(cat "$E2E_TMP/credential.json")"
[[ "$JSON" =~ ^[[:space:]]*\{ && "$JSON" =~ \}[[:space:]]*$ ]] || fail "credential output is not a JSON object"

USERNAME="$(json_string "$JSON" username)" || fail "credential JSON has no \"username\" string"
PASSWORD="$(json_string "$JSON" password)" || fail "credential JSON has no \"password\" string"
TTL="$(json_number "$JSON" ttl)" || fail "credential JSON has no numeric \"ttl\""
[[ "$JSON" =~ \"uris\"[[:space:]]*:[[:space:]]*\[([^]]*)\] ]] || fail "credential JSON has no \"uris\" array"
URIS=${BASH_REMATCH[1]}
pass "credential prints JSON with username, password, ttl, uris"

[[ "$USERNAME" =~ ^([0-9]+):alice$ ]] || fail "username '$USERNAME' is not '<expiry>:alice'"
EXPIRY=${BASH_REMATCH[1]}
(( EXPIRY >= NOW_BEFORE + 3600 && EXPIRY <= NOW_AFTER + 3600 )) \
  || fail "expiry $EXPIRY is not now+3600 (now was $NOW_BEFORE..$NOW_AFTER)"
(( TTL == 3600 )) || fail "ttl is $TTL, expected 3600 for --ttl 1h"
pass "username $USERNAME expires at now+3600, ttl $TTL"

EXPECTED="$(rest_password "$E2E_SECRET" "$USERNAME")"
[[ "$PASSWORD" == "$EXPECTED" ]] \
  || fail "password '$PASSWORD' != base64(HMAC-SHA1(secret, username)) = '$EXPECTED'"
pass "password equals base64(HMAC-SHA1(secret, username)) computed by openssl"

[[ "$URIS" == *"turn:127.0.0.1:$PORT"* ]] || fail "uris [$URIS] lack turn:127.0.0.1:$PORT"
pass "uris name the listener: [$URIS]"
