# lib.sh - shared helpers for the end-to-end tests. Each t_*.sh sources it.
#
# Environment (set by ctest): CAREBASE (the binary), CB_SHARED (../shared),
# CB_SOURCE (the repository). KEEP_TMP=1 keeps the temporary directory.
set -euo pipefail

: "${CAREBASE:?CAREBASE must point at the carebase binary}"
: "${CB_SOURCE:?}"
: "${CB_SHARED:?}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

T=$(mktemp -d "${TMPDIR:-/tmp}/cbe2e.XXXXXX")
if [ "${KEEP_TMP:-0}" != 1 ]; then trap 'rm -rf "$T"' EXIT; else echo "keeping $T"; fi
DB="$T/carebase.db"
FAILS=0
PASSES=0

cb() { "$CAREBASE" --db "$DB" --quiet "$@"; }

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $*"; }

# check DESCRIPTION CONDITION...: passes when the command succeeds.
check() { local d="$1"; shift; if "$@"; then pass "$d"; else fail "$d"; fi; }

# eq DESCRIPTION GOT WANT
eq() { if [ "$2" == "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi; }

# sql QUERY [DB]: one value or rows from the database.
sql() { sqlite3 -batch -noheader "${2:-$DB}" "$1"; }

# json FILE EXPR: evaluate a Python expression on the parsed JSON 'j'.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
