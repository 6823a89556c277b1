#!/bin/bash
# Fleet mode safety (docs/fleet.md, "Safety"): user names, realms and
# addresses reach Redis only as argv elements. hiredis's printf-style calls
# (redisCommand, redisAsyncCommand, redisAppendCommand, redisFormatCommand
# and their v- forms) would let a '%' or a space in a user name change the
# command (coturn GHSA-4g7c-p5wg-j4hp). No source file may call one; the
# argv forms must be what the fleet code uses.
set -u
root="${1:?usage: fleet_argv_only_test.sh SOURCE_DIR}"
cd "$root" || exit 1
dirs=(relay policy metrics tools tests)
formatted=$(grep -rnE '\bredis(Async)?v?(Command|AppendCommand|FormatCommand|FormatSdsCommand)[[:space:]]*\(' \
  --include='*.cc' --include='*.h' "${dirs[@]}")
if [ -n "$formatted" ]; then
  echo "formatted hiredis command strings (use the *Argv form):"
  echo "$formatted"
  exit 1
fi
# The check above means something only while the fleet talks to Redis at all.
for f in relay/fleet/redis_link.cc relay/fleet/fleet_command.cc; do
  if ! grep -qE 'redis(Async)?CommandArgv\(' "$f"; then
    echo "$f: no hiredis argv call found; this test no longer sees the fleet's Redis calls"
    exit 1
  fi
done
echo "every hiredis command in ${dirs[*]} is an argv array"
