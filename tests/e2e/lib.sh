# shellcheck shell=bash
# Shared helpers for turnwarden's end-to-end tests (sourced, never run).
#
# A test starts with
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"    # $1 = the turnwarden binary
# and gets:
#   E2E_TMP                 private temp dir, removed on exit
#   free_udp_port/free_tcp_port
#                           a random unused port in 20000-40000 (never the same one twice
#                           in one test)
#   write_config DIR PORT [--allow-loopback] [--secrets-file PATH] [--no-check] [EXTRA_YAML]
#                           writes DIR/turnwarden.yaml; sets E2E_CONFIG, E2E_SECRET, E2E_RELAY_RANGE
#   start_server CONFIG     starts turnwarden, waits (10 s max) for "turnwarden ready"
#   stop_server [SIGNAL]    signals it (TERM), waits (10 s max), asserts exit code 0
#   start_helper NAME CMD.. runs a helper (e.g. turnutils_peer) in the background
#   wait_udp_bound PORT     waits (5 s max) until something is bound to UDP PORT
#   make_cert DIR           self-signed cert/key for localhost + 127.0.0.1 in DIR
#   add_listeners CONFIG YAML
#                           more listener entries in a write_config file
#   secure_listeners KIND.. make_cert + write_config + a tls and/or dtls listener;
#                           sets TLS_PORT / DTLS_PORT
#   start_haproxy SOURCE FRONT FRONT_PORT:BACK_PORT..
#                           Debian's haproxy, TCP mode, send-proxy-v2 from SOURCE to
#                           127.0.0.1:BACK_PORT for each FRONT:FRONT_PORT; waits (5 s max)
#   s_client_probe OUT INPUT HOLD ARGS..
#                           one openssl s_client run against them, output in OUT
#   rest_password SECRET USERNAME
#                           base64(HMAC-SHA1(SECRET, USERNAME)) computed by openssl
#   json_string/json_number TEXT KEY
#                           a flat JSON value, parsed in bash (no jq/python needed)
#   show_on_failure FILE..  files printed in full if the test fails
#   pass/fail/log           reporting; fail exits the test (do not call it inside $(...))
# On exit a trap stops whatever the test started, by PID; a server still running is
# stopped with SIGTERM and must exit 0. On failure it prints the server log tails and
# every file registered with show_on_failure.
#
# Background processes never write to the test's stdout/stderr (ctest waits for those
# pipes to close), only to files in E2E_TMP.

set -euo pipefail

if (( $# < 1 )); then
  echo "usage: $0 PATH/TO/turnwarden" >&2
  exit 2
fi
TW_BIN="$(readlink -f "$1")"
if [[ ! -x "$TW_BIN" ]]; then
  echo "e2e: turnwarden binary is not an executable file: $1" >&2
  exit 2
fi
for _tool in ss openssl timeout mktemp; do
  command -v "$_tool" >/dev/null || { echo "e2e: '$_tool' not found (run scripts/test, it installs it)" >&2; exit 2; }
done
unset _tool

E2E_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TW_SOURCE_DIR="${TW_SOURCE_DIR:-$(cd "$E2E_DIR/../.." && pwd)}"
E2E_NAME="$(basename "$0" .sh)"
# ctest sets TW_E2E_LOG_DIR to <build dir>/e2e-logs; artefacts worth keeping go there.
# shellcheck disable=SC2034  # used by the tests that source this file
E2E_LOG_DIR="${TW_E2E_LOG_DIR:-$TW_SOURCE_DIR/build/e2e-logs}"
E2E_TMP="$(mktemp -d "${TMPDIR:-/tmp}/tw-$E2E_NAME.XXXXXX")"
: >"$E2E_TMP/.ports"

SERVER_PID=""
SERVER_LOG=""
SERVER_EXIT=""
E2E_SERVER_STARTS=0
E2E_HELPER_PIDS=()
E2E_SHOW_ON_FAILURE=()
E2E_PASSED=0

# ---------------------------------------------------------------------------- reporting

log() { printf '[%s] %s\n' "$E2E_NAME" "$*"; }

pass() {
  E2E_PASSED=$((E2E_PASSED + 1))
  printf '[%s] ok %d - %s\n' "$E2E_NAME" "$E2E_PASSED" "$*"
}

fail() {
  printf '[%s] FAIL: %s\n' "$E2E_NAME" "$*" >&2
  exit 1
}

# show_on_failure FILE...: print these files in full if the test fails.
show_on_failure() { E2E_SHOW_ON_FAILURE+=("$@"); }

# ---------------------------------------------------------------------------- ports

# _port_in_use u|t PORT: any socket (listening, bound or connected) on that local port?
_port_in_use() {
  [[ -n "$(ss -Hna"$1" "sport = :$2")" ]] || grep -qx "$2" "$E2E_TMP/.ports"
}

_random_in() { echo $(( $1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) )); }

_free_port() {
  local proto=$1 port _
  for _ in {1..200}; do
    port="$(_random_in 20000 40000)"
    if ! _port_in_use "$proto" "$port"; then
      echo "$port" >>"$E2E_TMP/.ports"
      echo "$port"
      return 0
    fi
  done
  echo "e2e: no free port found in 20000-40000" >&2
  return 1
}

free_udp_port() { _free_port u; }
free_tcp_port() { _free_port t; }

# _free_relay_range: "LO-HI", 200 ports within 40001-60000 with no UDP socket on any.
_free_relay_range() {
  local lo hi _
  for _ in {1..50}; do
    lo="$(_random_in 40001 59801)"
    hi=$((lo + 199))
    if [[ -z "$(ss -Hnau "( sport >= :$lo and sport <= :$hi )")" ]]; then
      echo "$lo-$hi"
      return 0
    fi
  done
  echo "e2e: no free 200-port relay range in 40001-60000" >&2
  return 1
}

# ---------------------------------------------------------------------------- config

# write_config DIR PORT [--allow-loopback] [--secrets-file PATH] [--no-check] [EXTRA_YAML]
# Writes DIR/turnwarden.yaml: realm e2e.test, one UDP listener on 127.0.0.1:PORT, relay
# address 127.0.0.1 with a random free 200-port range, one REST secret (random 32 hex
# chars) or, with --secrets-file, only a secrets file; peers allowed 127.0.0.1/32 with
# --allow-loopback (loopback is denied by default). EXTRA_YAML is appended verbatim.
# Unless --no-check, the file must pass `turnwarden check-config`: a failure there means
# this generator and the server's schema disagree.
# Sets E2E_CONFIG (path), E2E_SECRET (empty with --secrets-file), E2E_RELAY_RANGE.
write_config() {
  local dir=$1 port=$2 allow=0 secrets_file="" check=1 extra=""
  shift 2
  while (( $# )); do
    case $1 in
      --allow-loopback) allow=1 ;;
      --secrets-file) secrets_file=$2; shift ;;
      --no-check) check=0 ;;
      *) extra=$1 ;;
    esac
    shift
  done
  E2E_RELAY_RANGE="$(_free_relay_range)" || fail "no relay port range"
  E2E_SECRET=""
  [[ -n "$secrets_file" ]] || E2E_SECRET="$(openssl rand -hex 16)"
  E2E_CONFIG="$dir/turnwarden.yaml"
  _config_yaml "$port" "$allow" "$secrets_file" >"$E2E_CONFIG"
  [[ -z "$extra" ]] || printf '%s\n' "$extra" >>"$E2E_CONFIG"
  (( check )) || return 0
  local out rc=0
  out="$(timeout 10 "$TW_BIN" check-config "$E2E_CONFIG" 2>&1)" || rc=$?
  if (( rc != 0 )); then
    log "generated config (tests/e2e/lib.sh write_config):"
    cat -n "$E2E_CONFIG"
    log "check-config output:"
    printf '%s\n' "$out"
    fail "check-config rejected the generated config (exit $rc): schema mismatch?"
  fi
}

# _config_yaml PORT ALLOW_LOOPBACK SECRETS_FILE: the YAML of write_config. Block style,
# one value per line, so that tests can point at the line of any key.
_config_yaml() {
  local port=$1 allow=$2 secrets_file=$3
  cat <<YAML
# turnwarden end-to-end test config (generated by tests/e2e/lib.sh)
realm: e2e.test
workers: 2
listeners:
  - transport: udp
    address: 127.0.0.1
    port: $port
relay:
  addresses:
    - 127.0.0.1
  port_range: $E2E_RELAY_RANGE
auth:
YAML
  if [[ -n "$secrets_file" ]]; then
    printf '  secrets_file: %s\n' "$secrets_file"
  else
    printf '  secrets:\n    - id: k1\n      value: %s\n' "$E2E_SECRET"
  fi
  printf '  max_ttl: 24h\n  clock_skew: 5m\n'
  if (( allow )); then
    printf 'peers:\n  allowed:\n    - 127.0.0.1/32\n'
  fi
}

# ---------------------------------------------------------------------------- processes

# _alive PID: running (not gone, not a zombie waiting to be reaped)?
_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ -n "$stat" && "${stat:0:1}" != Z ]]
}

# _deadline SECONDS / _before DEADLINE: wall-clock bounds for polling loops.
_deadline() { echo $(( ${EPOCHREALTIME/./} + $1 * 1000000 )); }
_before() { (( ${EPOCHREALTIME/./} < $1 )); }

# eventually SECONDS CMD...: runs CMD every 0.1 s until it succeeds; 1 when it has
# not within SECONDS.
eventually() {
  local deadline
  deadline="$(_deadline "$1")"
  shift
  until "$@"; do
    _before "$deadline" || return 1
    sleep 0.1
  done
}

# _wait_gone PID SECONDS: wait until PID has exited; 1 if it is still running.
_wait_gone() { eventually "$2" _gone "$1"; }
_gone() { ! _alive "$1"; }

# _reap PID: collect an exited child's exit code (128+N if killed by signal N) into
# REAPED. Not in $(...): a subshell cannot wait for its parent's children.
_reap() {
  REAPED=0
  wait "$1" 2>/dev/null || REAPED=$?
}

# start_server CONFIG: run turnwarden --config CONFIG in the background (stdout and
# stderr to SERVER_LOG) and wait up to 10 s for its "turnwarden ready" line.
start_server() {
  local config=$1 deadline
  [[ -z "$SERVER_PID" ]] || fail "start_server: server $SERVER_PID is still running"
  E2E_SERVER_STARTS=$((E2E_SERVER_STARTS + 1))
  SERVER_LOG="$E2E_TMP/server-$E2E_SERVER_STARTS.log"
  SERVER_EXIT=""
  # Bash starts background commands with SIGINT and SIGQUIT ignored; env resets every
  # signal to its default first, as an init system or a terminal would (env execs, so
  # $! is the server's PID).
  env --default-signal "$TW_BIN" --config "$config" >"$SERVER_LOG" 2>&1 </dev/null &
  SERVER_PID=$!
  deadline="$(_deadline 10)"
  while _before "$deadline"; do
    if grep -q 'turnwarden ready' "$SERVER_LOG"; then
      log "server $SERVER_PID ready (log $SERVER_LOG)"
      return 0
    fi
    if ! _alive "$SERVER_PID"; then
      _reap "$SERVER_PID"
      SERVER_EXIT=$REAPED
      SERVER_PID=""
      fail "server exited with code $SERVER_EXIT before printing 'turnwarden ready'"
    fi
    sleep 0.1
  done
  grep -q 'turnwarden ready' "$SERVER_LOG" && return 0
  fail "server printed no 'turnwarden ready' line within 10 s"
}

# _terminate_server SIGNAL: signal the server, wait 10 s, SIGKILL if still running.
# Sets SERVER_EXIT; returns 1 if it had to be killed. Never calls fail (used by the trap).
_terminate_server() {
  local pid=$SERVER_PID rc=0
  [[ -n "$pid" ]] || return 0
  kill -s "$1" "$pid" 2>/dev/null || true
  if ! _wait_gone "$pid" 10; then
    kill -s KILL "$pid" 2>/dev/null || true
    rc=1
  fi
  _reap "$pid"
  SERVER_EXIT=$REAPED
  SERVER_PID=""
  return "$rc"
}

# stop_server [SIGNAL]: send SIGNAL (default TERM) and assert that the server exits
# with code 0 within 10 s.
stop_server() {
  local sig=${1:-TERM} pid=$SERVER_PID
  [[ -n "$pid" ]] || fail "stop_server: no server running"
  _terminate_server "$sig" || fail "server $pid did not exit within 10 s of SIG$sig (killed)"
  [[ "$SERVER_EXIT" == 0 ]] || fail "server exited with code $SERVER_EXIT on SIG$sig, expected 0"
  pass "server exited 0 on SIG$sig"
}

# start_helper NAME CMD...: run CMD in the background, output to $E2E_TMP/NAME.log;
# it is stopped (TERM, then KILL) when the test exits. Sets HELPER_PID.
start_helper() {
  local name=$1
  shift
  "$@" >"$E2E_TMP/$name.log" 2>&1 </dev/null &
  HELPER_PID=$!
  E2E_HELPER_PIDS+=("$HELPER_PID")
  show_on_failure "$E2E_TMP/$name.log"
}

# wait_udp_bound PORT [SECONDS]: wait until some socket is bound to UDP PORT.
wait_udp_bound() {
  local deadline
  deadline="$(_deadline "${2:-5}")"
  while _before "$deadline"; do
    [[ -z "$(ss -Hnau "sport = :$1")" ]] || return 0
    sleep 0.1
  done
  fail "nothing bound UDP port $1 within ${2:-5} s"
}

# ---------------------------------------------------------------------------- helpers

# rest_password SECRET USERNAME: base64(HMAC-SHA1(SECRET, USERNAME)), computed by
# openssl, independently of the server (TURN REST API / RFC 8489 long-term password).
rest_password() {
  printf '%s' "$2" | openssl dgst -sha1 -hmac "$1" -binary | base64
}

# json_string TEXT KEY: value of the first "KEY": "value" (or 'KEY': 'value', or
# KEY: "value") in TEXT. Values without quotes or escapes only, which is all we need.
json_string() {
  local re="[\"']?$2[\"']?[[:space:]]*:[[:space:]]*[\"']([^\"'\\\\]*)[\"']"
  [[ "$1" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# json_number TEXT KEY: value of the first "KEY": 123 in TEXT.
json_number() {
  local re="[\"']?$2[\"']?[[:space:]]*:[[:space:]]*([0-9]+)"
  [[ "$1" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# make_cert DIR: a throw-away self-signed P-256 certificate for localhost/127.0.0.1
# (DIR/cert.pem, DIR/key.pem mode 0600), made at test time: no key is ever committed.
make_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1 || fail "openssl could not make a certificate"
  chmod 600 "$1/key.pem"
}

# add_listeners CONFIG YAML_LINES: insert listener entries (block style, 2-space list
# indent) after the first listener of a write_config file.
add_listeners() {
  awk -v add="$2" '{ print } /^    port: / && !done { print add; done = 1 }' "$1" >"$1.new"
  mv "$1.new" "$1"
}

# stream_listeners_yaml PORT TLS_PORT: listener entries for tcp on 127.0.0.1:PORT and
# tls on 127.0.0.1:TLS_PORT with the make_cert files in $E2E_TMP (for add_listeners).
stream_listeners_yaml() {
  printf '  - transport: tcp\n    address: 127.0.0.1\n    port: %s\n' "$1"
  printf '  - transport: tls\n    address: 127.0.0.1\n    port: %s\n' "$2"
  printf '    cert: %s\n    key: %s' "$E2E_TMP/cert.pem" "$E2E_TMP/key.pem"
}

# secure_listeners KIND...: make_cert in $E2E_TMP, a write_config file (--no-check) with
# one UDP listener, and per KIND (tls, dtls) a listener on 127.0.0.1 with that
# certificate; sets TLS_PORT and/or DTLS_PORT. The caller starts the server.
secure_listeners() {
  make_cert "$E2E_TMP"
  write_config "$E2E_TMP" "$(free_udp_port)" --no-check
  local yaml="" kind port
  for kind in "$@"; do
    case $kind in
      tls) TLS_PORT="$(free_tcp_port)"; port=$TLS_PORT ;;
      dtls) DTLS_PORT="$(free_udp_port)"; port=$DTLS_PORT ;;
      *) fail "secure_listeners: no listener kind '$kind' (tls, dtls)" ;;
    esac
    yaml+="${yaml:+$'\n'}  - transport: $kind
    address: 127.0.0.1
    port: $port
    cert: $E2E_TMP/cert.pem
    key: $E2E_TMP/key.pem"
  done
  add_listeners "$E2E_CONFIG" "$yaml"
}

# start_haproxy SOURCE FRONT FRONT_PORT:BACK_PORT...: an L4 load balancer in front of
# turnwarden (docs/transports.md, "Behind a load balancer"): for each pair it listens on
# FRONT:FRONT_PORT and connects to 127.0.0.1:BACK_PORT from the address SOURCE, sending a
# PROXY v2 header first. Runs as a helper (stopped by the exit trap).
start_haproxy() {
  local source=$1 front=$2 cfg="$E2E_TMP/haproxy.cfg" pair
  shift 2
  command -v haproxy >/dev/null || fail "haproxy missing: install Debian's haproxy (scripts/lib/setup.sh does)"
  printf 'global\n    maxconn 200\ndefaults\n    mode tcp\n    timeout connect 5s\n' >"$cfg"
  printf '    timeout client 60s\n    timeout server 60s\n' >>"$cfg"
  for pair in "$@"; do
    printf 'listen p%s\n    bind %s:%s\n    server tw 127.0.0.1:%s send-proxy-v2 source %s\n' \
      "${pair%%:*}" "$front" "${pair%%:*}" "${pair##*:}" "$source" >>"$cfg"
  done
  show_on_failure "$cfg"
  haproxy -c -f "$cfg" >"$E2E_TMP/haproxy-check.log" 2>&1 \
    || { cat "$E2E_TMP/haproxy-check.log"; fail "haproxy -c refused its config"; }
  start_helper haproxy haproxy -db -f "$cfg"
  for pair in "$@"; do
    eventually 5 _tcp_open "$front" "${pair%%:*}" || fail "haproxy does not listen on $front:${pair%%:*}"
  done
}
_tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# s_client_probe OUT INPUT HOLD ARGS...: one `openssl s_client ARGS` (20 s max) that
# trusts the make_cert certificate; INPUT's bytes (/dev/null: none) go into the session,
# then stdin stays open HOLD seconds for answers before EOF ends it. The output goes to
# OUT (printed if the test fails); the probe itself never fails: the caller reads OUT.
s_client_probe() {
  local out=$1 input=$2 hold=$3
  shift 3
  { cat "$input"; sleep "$hold"; } \
    | timeout 20 openssl s_client "$@" -CAfile "$E2E_TMP/cert.pem" >"$out" 2>&1 || true
  show_on_failure "$out"
}

# ---------------------------------------------------------------------------- exit trap

_stop_helpers() {
  local pid
  for pid in "${E2E_HELPER_PIDS[@]}"; do
    _alive "$pid" || { wait "$pid" 2>/dev/null; continue; }
    kill -s TERM "$pid" 2>/dev/null
    _wait_gone "$pid" 5 || kill -s KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
}

_dump_failure_logs() {
  local f
  for f in "$E2E_TMP"/server-*.log; do
    [[ -f "$f" ]] || continue
    echo "----- last 60 lines of $(basename "$f") -----"
    tail -n 60 "$f"
  done
  for f in "${E2E_SHOW_ON_FAILURE[@]}"; do
    [[ -f "$f" ]] || continue
    echo "----- $(basename "$f") -----"
    cat "$f"
  done
}

_e2e_on_exit() {
  local status=$?
  set +e
  if [[ -n "$SERVER_PID" ]]; then
    local pid=$SERVER_PID
    if ! _terminate_server TERM; then
      echo "[$E2E_NAME] FAIL: server $pid did not exit within 10 s of SIGTERM (killed)" >&2
      status=1
    elif [[ "$SERVER_EXIT" != 0 ]]; then
      echo "[$E2E_NAME] FAIL: server exited with code $SERVER_EXIT on SIGTERM, expected 0" >&2
      status=1
    fi
  fi
  _stop_helpers
  if (( status != 0 )); then
    _dump_failure_logs >&2
    echo "[$E2E_NAME] FAILED ($E2E_PASSED checks passed before the failure)" >&2
  else
    echo "[$E2E_NAME] PASSED ($E2E_PASSED checks)"
  fi
  rm -rf "$E2E_TMP"
  exit "$status"
}

trap _e2e_on_exit EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
