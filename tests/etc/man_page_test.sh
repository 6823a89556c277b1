#!/usr/bin/env bash
# The man page turnwarden(8) (etc/debian/package.cmake: help2man from --help plus
# etc/debian/turnwarden.h2m) against the binary's --help, so the two cannot drift:
# every subcommand, every option and every signal in --help is in the man page; the
# page has the SIGNALS and FILES sections and names the packaged files; and it is
# not older than the binary it was made from.
# Usage: man_page_test.sh PATH/TO/turnwarden PATH/TO/turnwarden.8
set -euo pipefail
bin=$1 page=$2
fail() { echo "man_page_test: FAIL: $*" >&2; exit 1; }
[[ -f "$page" ]] || fail "no man page at $page (help2man missing?)"
[[ ! "$bin" -nt "$page" ]] || fail "$page is older than $bin: not regenerated"

help="$("$bin" --help)"
# roff escapes "-" as "\-" and fonts as \fB...\fR: compare the plain text.
text="$(sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\(.*//g' "$page")"
grep -q '^\.TH TURNWARDEN "8"' "$page" || fail "not a section 8 page"

mapfile -t commands < <(sed -n 's/^  turnwarden \([a-z][a-z-]*\).*/\1/p' <<<"$help" | sort -u)
(( ${#commands[@]} >= 6 )) || fail "found only ${#commands[@]} subcommands in --help"
for c in "${commands[@]}"; do
  grep -q "turnwarden $c" <<<"$text" || fail "subcommand '$c' from --help is not in the man page"
done
mapfile -t options < <(grep -o -- '--[a-z][a-z-]*' <<<"$help" | sort -u)
for o in "${options[@]}"; do
  grep -q -- "$o" <<<"$text" || fail "option '$o' from --help is not in the man page"
done
mapfile -t signals < <(grep -o 'SIG[A-Z0-9]*' <<<"$help" | sort -u)
(( ${#signals[@]} >= 5 )) || fail "found only ${#signals[@]} signals in --help"
for s in "${signals[@]}"; do
  grep -q "$s" <<<"$text" || fail "signal $s from --help is not in the man page"
done
for section in SIGNALS FILES 'EXIT STATUS'; do
  grep -q "^\.SH \"\{0,1\}$section" "$page" || fail "no $section section"
done
for f in /etc/turnwarden/turnwarden.yaml /var/lib/turnwarden/secrets.yaml \
         /lib/systemd/system/turnwarden.service /etc/logrotate.d/turnwarden /usr/share/turnwarden/; do
  grep -qF "$f" <<<"$text" || fail "FILES does not name $f"
done
echo "man_page_test: ${#commands[@]} subcommands, ${#options[@]} options, ${#signals[@]} signals of --help all in $page"
