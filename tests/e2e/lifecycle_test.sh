#!/usr/bin/env bash
# Server lifecycle, as an operator sees it:
#   - start: a "turnwarden ready" line and an iceServers line with the listener's URI and
#     the command that mints a credential (which works), but no credential;
#   - SIGTERM and SIGINT: exit code 0 within 10 s, no process left behind;
#   - auth.secrets_file that does not exist: the first start creates it, mode 0600, and
#     logs its path; the second start reuses it unchanged.
# Usage: lifecycle_test.sh PATH/TO/turnwarden
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

# assert_no_leftover PID CONFIG: the process is gone and nothing runs with CONFIG.
assert_no_leftover() {
  ! _alive "$1" || fail "server process $1 still exists after exiting"
  ! pgrep -f -- "$2" >/dev/null || fail "a process using $2 is still running: $(pgrep -af -- "$2")"
  pass "no process left behind"
}

# check_ice_servers LOG PORT CONFIG SECRET: the start-up line names the listener's URI and
# the command that mints a credential, and no credential is in the log (issue 22, finding
# 7: journal readers must not get one). The command it names, run as printed, mints a
# credential that is base64(HMAC-SHA1(secret, username)) for the configured secret.
check_ice_servers() {
  local log=$1 port=$2 config=$3 secret=$4 line cmd out username password
  line="$(grep -m 1 'iceServers urls: ' "$log" || true)"
  [[ -n "$line" ]] || fail "no iceServers line in the log"
  [[ "$line" == *"\"turn:127.0.0.1:$port?transport=udp\""* ]] || fail "iceServers urls lack turn:127.0.0.1:$port: $line"
  cmd="${line#*mint a credential with: }"
  [[ "$cmd" == "turnwarden credential --config $config --user NAME" ]] \
    || fail "the line does not name the mint command for $config: $line"
  pass "start-up line: URIs and the mint command ($cmd)"
  ! grep -Eq '"(username|credential|password)"|[0-9]{10}:webrtc' "$log" \
    || fail "the log holds a credential: $(grep -E '"(username|credential|password)"|[0-9]{10}:webrtc' "$log")"
  pass "no credential in the log"
  [[ -n "$secret" ]] || return 0
  out="$(timeout 10 "$TW_BIN" credential --config "$config" --user alice </dev/null)" \
    || fail "the printed mint command failed"
  username="$(json_string "$out" username)" || fail "credential printed no username: $out"
  password="$(json_string "$out" password)" || fail "credential printed no password: $out"
  [[ "$password" == "$(rest_password "$secret" "$username")" ]] \
    || fail "the minted password is not base64(HMAC-SHA1(secret, '$username'))"
  pass "the printed command mints a credential of the configured secret"
}

# ---------------------------------------------------------------------------- SIGTERM, SIGINT

PORT="$(free_udp_port)"
write_config "$E2E_TMP" "$PORT"
CONFIG=$E2E_CONFIG

start_server "$CONFIG"
PID=$SERVER_PID
[[ "$(grep -c 'turnwarden ready' "$SERVER_LOG")" == 1 ]] || fail "expected exactly one ready line"
pass "ready line: $(grep -m 1 'turnwarden ready' "$SERVER_LOG")"
[[ -n "$(ss -Hnlu "sport = :$PORT")" ]] || fail "nothing listens on UDP 127.0.0.1:$PORT after ready"
pass "listening on UDP 127.0.0.1:$PORT"
check_ice_servers "$SERVER_LOG" "$PORT" "$CONFIG" "$E2E_SECRET"
! grep -qF -- "$E2E_SECRET" "$SERVER_LOG" || fail "the secret appears in the log"
pass "the secret is not in the log"
stop_server TERM
assert_no_leftover "$PID" "$CONFIG"

start_server "$CONFIG"
PID=$SERVER_PID
stop_server INT
assert_no_leftover "$PID" "$CONFIG"

# ---------------------------------------------------------------------------- secrets_file

mkdir -p "$E2E_TMP/state"
SECRETS="$E2E_TMP/state/secrets.yaml"
PORT2="$(free_udp_port)"
write_config "$E2E_TMP" "$PORT2" --secrets-file "$SECRETS" --no-check
CONFIG2=$E2E_CONFIG
# A keyring that does not exist yet is valid (the server creates it), and checking the
# config only reads: it must not create the file.
RC=0
timeout 10 "$TW_BIN" check-config "$CONFIG2" >"$E2E_TMP/check2.txt" 2>&1 </dev/null || RC=$?
show_on_failure "$E2E_TMP/check2.txt"
(( RC == 0 )) || fail "check-config rejected a config whose secrets_file does not exist yet (exit $RC)"
[[ ! -e "$SECRETS" ]] || fail "check-config created $SECRETS"
pass "check-config accepts a not-yet-existing secrets_file and does not create it"

start_server "$CONFIG2"
[[ -f "$SECRETS" ]] || fail "first start did not create $SECRETS"
[[ -s "$SECRETS" ]] || fail "$SECRETS is empty"
MODE="$(stat -c %a "$SECRETS")"
[[ "$MODE" == 600 ]] || fail "$SECRETS has mode $MODE, expected 600"
grep -qF -- "$SECRETS" "$SERVER_LOG" || fail "the log does not name $SECRETS"
pass "first start created $SECRETS (mode 600) and logged its path"
# The keyring is YAML: secrets: [{id: ..., value: "..."}]; the first entry mints.
FILE_SECRET="$(sed -n 's/^ *value: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$SECRETS" | head -n 1)"
(( ${#FILE_SECRET} >= 32 )) || fail "no secret value of at least 32 characters in $SECRETS"
! grep -qF -- "$FILE_SECRET" "$SERVER_LOG" || fail "the generated secret appears in the log"
check_ice_servers "$SERVER_LOG" "$PORT2" "$CONFIG2" "$FILE_SECRET"
SUM1="$(sha256sum <"$SECRETS")"
stop_server TERM

start_server "$CONFIG2"
SUM2="$(sha256sum <"$SECRETS")"
[[ "$SUM1" == "$SUM2" ]] || fail "second start changed $SECRETS"
MODE="$(stat -c %a "$SECRETS")"
[[ "$MODE" == 600 ]] || fail "$SECRETS has mode $MODE after the second start"
pass "second start reused $SECRETS unchanged"
check_ice_servers "$SERVER_LOG" "$PORT2" "$CONFIG2" "$FILE_SECRET"
stop_server TERM
