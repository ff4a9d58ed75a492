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

# cbsql QUERY [DB]: like sql, through `carebase sql`, where fp_data() decodes
# record.data (stored in a binary layout). One value per line, as CSV.
cbsql() { "$CAREBASE" --db "${2:-$DB}" sql --format csv "$1" | tail -n +2; }

# json FILE EXPR: evaluate a Python expression on the parsed JSON 'j'.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}

# ---- helpers shared by the import tests ----

# run CMD...: runs a command that may fail; its exit status is left in RC.
run() { RC=0; "$@" || RC=$?; }

# gen ARGS...: carebase generate (synthetic data, deterministic by --seed).
gen() { "$CAREBASE" --quiet generate "$@" 2>/dev/null; }

# summary FILE KEY: a field of the first file of an 'import --json' summary.
summary() { json "$1" "j['files'][0]['$2']"; }

# exit1 DESCRIPTION RC: a clean failure, exit status 1 (not 2, not a crash
# by signal or sanitizer abort, which give 128+N).
exit1() { if [ "$2" -eq 1 ]; then pass "$1"; else fail "$1: exit status $2, want 1"; fi; }

# integrity DESCRIPTION [DB]
integrity() { eq "$1" "$(sql 'PRAGMA integrity_check' "${2:-$DB}")" ok; }

# wait_until SECONDS CMD...: polls CMD every 0.05 s until it succeeds;
# fails when SECONDS pass first.
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# dump_content DB: the stored content in a stable order without the
# surrogate ids (record.id, file_id, reject.id, ...), hospital ids replaced
# by the organisation code and record ids by the record key, one value per
# SQL literal ('quote' mode) so that two dumps compare byte for byte.
dump_content() {
  sqlite3 -batch -quote "$1" "
    SELECT 'hospital', zzjgdm, name, level, origin FROM hospital ORDER BY zzjgdm;
    SELECT 'department', h.zzjgdm, d.code, d.name FROM department d
      JOIN hospital h ON h.id = d.hospital_id ORDER BY h.zzjgdm, d.code;
    SELECT 'record', h.zzjgdm, r.bah, r.zycs, r.version, r.content_hash, r.line,
           r.rysj, r.cysj, r.cy_day, r.rykb, r.cykb, r.zzys, r.xb, r.nl, r.age_days,
           r.rytj, r.lyfs, r.sjzyts, r.jbdm, r.rybq, r.zfy, r.birth_weight,
           r.n_warnings, r.dx, r.px, r.data
      FROM record r JOIN hospital h ON h.id = r.hospital_id ORDER BY h.zzjgdm, r.bah, r.zycs;
    SELECT 'warning', h.zzjgdm, r.bah, r.zycs, w.rule, w.field, w.value, w.detail
      FROM record_warning w JOIN record r ON r.id = w.record_id
      JOIN hospital h ON h.id = r.hospital_id
      ORDER BY h.zzjgdm, r.bah, r.zycs, w.rule, w.field, w.value, w.detail;
    SELECT 'history', h.zzjgdm, x.bah, x.zycs, x.version, x.content_hash, x.line,
           x.dx, x.px, x.data
      FROM record_history x JOIN hospital h ON h.id = x.hospital_id
      ORDER BY h.zzjgdm, x.bah, x.zycs, x.version;
    SELECT 'reject', j.line, j.zzjgdm, j.bah, j.zycs, j.status, j.raw
      FROM reject j ORDER BY j.line, j.status, j.id;
    SELECT 'issue', j.line, j.status, i.rule, i.severity, i.field, i.value, i.detail
      FROM reject_issue i JOIN reject j ON j.id = i.reject_id
      ORDER BY j.line, j.status, i.rule, i.field, i.value, i.detail;"
}

# same_content DESCRIPTION DB1 DB2: dump_content of both is identical
# (the first differing lines are shown on failure).
same_content() {
  dump_content "$2" >"$T/dump1"
  dump_content "$3" >"$T/dump2"
  if cmp -s "$T/dump1" "$T/dump2"; then pass "$1"; else
    fail "$1: $(wc -l <"$T/dump1") vs $(wc -l <"$T/dump2") lines"
    diff "$T/dump1" "$T/dump2" | head -6 | cut -c1-300 | sed 's/^/    /'
  fi
}

# py ARGS... <<'EOF' script EOF: runs a Python check script (on stdin) with
# tests/e2e on its path (e2e_lib.py); its "ok - " and "not ok - " lines count
# as checks, other lines are shown. A script that dies is one failure.
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
py() {
  local out line prc=0
  out=$(PYTHONPATH="$E2E_DIR${PYTHONPATH:+:$PYTHONPATH}" python3 - "$@" 2>&1) || prc=$?
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) pass "${line#ok - }" ;;
      "not ok - "*) fail "${line#not ok - }" ;;
      "") ;;
      *) echo "    $line" ;;
    esac
  done <<<"$out"
  [ "$prc" -eq 0 ] || fail "python check exited with status $prc"
}
