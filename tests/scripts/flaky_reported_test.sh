#!/usr/bin/env bash
# A flaky test must fail the CI stage (issue 22, finding 11). Runs scripts/test's ctest
# logic (scripts/lib/ci_ctest.sh) on a throwaway CMake project whose one test fails on
# its first run and passes on the second: the stage must be reported FAILED, counted as
# one failure, and make the run's exit code non-zero. A retry would hide it.
set -euo pipefail
root="${TW_SOURCE_DIR:?}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/src" "$work/build" "$work/logs"
cat >"$work/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(flaky NONE)
enable_testing()
# Fails when its marker is absent (and creates it), passes when it is present.
add_test(NAME flaky_once COMMAND sh -c
  "if [ -e ${CMAKE_BINARY_DIR}/ran ]; then exit 0; else touch ${CMAKE_BINARY_DIR}/ran; exit 1; fi")
add_test(NAME steady COMMAND true)
CMAKE
cmake -S "$work/src" -B "$work/build" >/dev/null

# shellcheck source=../../scripts/lib/ci_ctest.sh
source "$root/scripts/lib/ci_ctest.sh"
logs="$work/logs"
summary=()
total=0 failed=0 rc=0
run_ctest flaky "$work/build" --no-tests=error

printf 'summary: %s\n' "${summary[@]}"
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ -e "$work/build/ran" ]] || fail "the flaky test did not run"
[[ "${summary[0]}" == "flaky  FAILED "* ]] || fail "stage not reported FAILED: ${summary[0]}"
[[ "${summary[0]}" == *"1/2 passed"* ]] || fail "expected 1/2 passed: ${summary[0]}"
(( total == 2 && failed == 1 )) || fail "expected 1 of 2 failed, got $failed of $total"
(( rc == 1 )) || fail "the run's exit code would be 0"
# The same project's flaky test passes when run again: it is flaky, not broken.
ctest --test-dir "$work/build" -R flaky_once >/dev/null || fail "second run should pass"
echo "ok: a test that fails once fails the stage"
