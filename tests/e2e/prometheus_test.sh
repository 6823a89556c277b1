#!/usr/bin/env bash
# A real Prometheus (Debian's prometheus 2.42) scrapes the live turnwarden on
# loopback: `up` must become 1, and after turnutils_uclient relays through the
# server, turnwarden_relayed_bytes_total must be ingested with a value > 0.
# Prometheus is started by this test and stopped by PID when it exits.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"

for tool in prometheus curl turnutils_uclient; do
  command -v "$tool" >/dev/null || fail "$tool missing (scripts/test installs it)"
done

# prom_query EXPR: the first sample value of an instant query, or empty.
prom_query() {
  local out re='"value":\[[0-9.]+,"([^"]+)"\]'
  out="$(curl -s --max-time 5 --get --data-urlencode "query=$1" \
    "http://127.0.0.1:$PROM_PORT/api/v1/query" 2>/dev/null)" || return 0
  [[ "$out" =~ $re ]] && printf '%s\n' "${BASH_REMATCH[1]}"
  return 0
}

# wait_query EXPR TEST SECONDS: poll until the value satisfies the bash arithmetic TEST
# on $v (e.g. 'v == 1'); prints the last value.
wait_query() {
  local expr=$1 test=$2 deadline v=""
  deadline="$(_deadline "$3")"
  while _before "$deadline"; do
    v="$(prom_query "$expr")"
    if [[ "$v" =~ ^[0-9]+(\.[0-9]+)?(e\+[0-9]+)?$ ]] && (( $(printf '%.0f' "$v") ${test#v} )); then
      printf '%s\n' "$v"
      return 0
    fi
    sleep 0.5
  done
  printf '%s\n' "${v:-none}"
  return 1
}

PORT="$(free_udp_port)"
METRICS_PORT="$(free_tcp_port)"
PROM_PORT="$(free_tcp_port)"
write_config "$E2E_TMP" "$PORT" --allow-loopback "metrics:
  listen: 127.0.0.1:$METRICS_PORT"
start_server "$E2E_CONFIG"
grep -q "serving http://127.0.0.1:$METRICS_PORT/metrics" "$SERVER_LOG" \
  || fail "the server did not report serving /metrics on 127.0.0.1:$METRICS_PORT"

cat >"$E2E_TMP/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: turnwarden
    static_configs:
      - targets: ['127.0.0.1:$METRICS_PORT']
YAML
mkdir "$E2E_TMP/tsdb"
start_helper prometheus prometheus --config.file="$E2E_TMP/prometheus.yml" \
  --storage.tsdb.path="$E2E_TMP/tsdb" --web.listen-address="127.0.0.1:$PROM_PORT"
PROM_PID=$HELPER_PID

if ! UP="$(wait_query 'up{job="turnwarden"}' 'v == 1' 60)"; then
  fail "Prometheus never saw up == 1 for turnwarden within 60 s (last: $UP)"
fi
pass "Prometheus scrapes turnwarden: up == $UP"

OUT="$E2E_TMP/uclient.txt"
show_on_failure "$OUT"
RC=0
timeout 60 turnutils_uclient -y -m 1 -n 20 -l 100 -W "$E2E_SECRET" -u prom-user -p "$PORT" \
  -L 127.0.0.1 127.0.0.1 >"$OUT" 2>&1 || RC=$?
(( RC == 0 )) || fail "turnutils_uclient exited with $RC"
pass "turnutils_uclient relayed through turnwarden"

if ! BYTES="$(wait_query 'sum(turnwarden_relayed_bytes_total)' 'v > 0' 60)"; then
  fail "turnwarden_relayed_bytes_total not ingested above 0 within 60 s (last: $BYTES)"
fi
pass "Prometheus ingested sum(turnwarden_relayed_bytes_total) = $BYTES"

# The relayed volume Prometheus stored matches the server's own /metrics.
SCRAPE="$(curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics")"
grep -q '^turnwarden_relayed_bytes_total{direction="client_to_peer",transport="udp"} [1-9]' \
  <<<"$SCRAPE" || fail "/metrics shows no client_to_peer bytes"
pass "/metrics agrees: relayed bytes counted in both directions"

kill -s TERM "$PROM_PID"
_wait_gone "$PROM_PID" 10 || fail "prometheus did not stop on SIGTERM"
stop_server TERM
pass "prometheus and turnwarden stopped"
