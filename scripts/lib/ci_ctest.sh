# shellcheck shell=bash
# The part of scripts/test that runs ctest for a stage and keeps the score, sourced by
# scripts/test and by tests/scripts/flaky_reported_test.sh (which runs it on a throwaway
# project whose one test fails once, then passes: the stage must say FAILED).
#
# The caller sets: logs (a directory), summary=() (one line per stage), total=0 failed=0
# rc=0. There is no retry: a test that fails once fails its stage, so a flake is seen
# and fixed (or marked and explained in its own file), never hidden by a second run.

add_summary() { summary+=("$(printf '%-6s %-7s %-44s %s' "$1" "$2" "$3" "$4")"); }
elapsed() { local s=$(( SECONDS - $1 )); printf '%dm%02ds' $(( s / 60 )) $(( s % 60 )); }

# run_ctest STAGE DIR ARGS...: ctest with the common options; adds its counts to the total.
run_ctest() {
  local stage="$1" dir="$2" log="$logs/$1.log" t0=$SECONDS code=0
  shift 2
  echo "=== stage $stage: ctest in $dir $*" >&2
  ctest --test-dir "$dir" --output-on-failure -j2 --timeout 600 "$@" 2>&1 \
    | tee "$log" || code=$?
  # "100% tests passed, 0 tests failed out of 312"
  local line n f
  line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 || true)"
  n="$(sed -nE 's/.* out of ([0-9]+).*/\1/p' <<<"$line")"
  f="$(sed -nE 's/.*passed, ([0-9]+) tests? failed.*/\1/p' <<<"$line")"
  if [[ -z "$line" ]]; then
    (( code != 0 )) || code=1
    total=$(( total + 1 )); failed=$(( failed + 1 ))  # a stage that ran nothing is a failure
    add_summary "$stage" FAILED "no ctest summary (see $log)" "$(elapsed "$t0")"
  else
    total=$(( total + n )); failed=$(( failed + f ))
    add_summary "$stage" "$([[ $code == 0 ]] && echo ok || echo FAILED)" "$(( n - f ))/$n passed" "$(elapsed "$t0")"
  fi
  (( code == 0 )) || rc=1
}
