#!/usr/bin/env bash
# Malformed files (tests/data/malformed, see its README): a clean failure
# (exit 1, not a crash) whose message names the file, line, column and what
# was expected; nothing stored from the failed part of the file beyond the
# committed batches; a sound database; 'carebase check' fails the same way.
# Files that are not malformed (header only, a short row, CRLF) import.
. "$(dirname "$0")/lib.sh"

CORPUS="$CB_SOURCE/tests/data/malformed"

# expect FILE KEY: the values of KEY in FILE.expect, one per line
expect() { sed -n "s/^$2: //p" "$CORPUS/$1.expect"; }

# has_all FILE: stderr ($T/err) contains every 'message:' of FILE.expect
has_all() {
  local m
  while IFS= read -r m; do grep -qF -- "$m" "$T/err" || { echo "    missing: $m"; return 1; }; done < <(expect "$1" message)
}

n=0
for path in "$CORPUS"/*; do
  f=$(basename "$path")
  case "$f" in *.expect|README.md) continue ;; esac
  n=$((n + 1))
  check "$f has an .expect sidecar" test -s "$CORPUS/$f.expect"
  want=$(expect "$f" status)
  d="$T/$f.db"
  run "$CAREBASE" --db "$d" --quiet import --json "$path" >"$T/out" 2>"$T/err"
  if [ "$want" = 1 ]; then
    exit1 "$f: import fails with status 1" "$RC"
    check "$f: the message names the file, place and what was expected" has_all "$f"
    msg=$(head -1 "$T/err" | sed 's/^carebase import: //')
    eq "$f: nothing is stored (one open batch, rolled back)" \
       "$(sql 'SELECT count(*) FROM record' "$d")/$(sql 'SELECT count(*) FROM reject' "$d")" 0/0
    eq "$f: the attempt is recorded as one failed run, with the message" \
       "$(sql "SELECT count(*), sum(status = 'failed'), sum(message LIKE '%$f%') FROM import_file" "$d")" "1|1|1"
    integrity "$f: the database is sound" "$d"
    # With one row per batch, the rows before the faulty line are committed
    # and nothing from it on.
    d1="$T/$f.b1.db"
    run "$CAREBASE" --db "$d1" --quiet import --batch 1 "$path" 2>"$T/err"
    exit1 "$f: --batch 1: fails with status 1" "$RC"
    line=$(grep -o 'line [0-9]*' "$T/err" | head -1 | cut -d' ' -f2 || true)
    if [ -n "$line" ]; then
      eq "$f: --batch 1: only rows before line $line are stored" \
         "$(sql "SELECT count(*) FROM (SELECT line FROM record UNION ALL SELECT line FROM reject) WHERE line >= $line" "$d1")" 0
      lim=$((line > 2 ? line - 2 : 0))
      check "$f: --batch 1: at most the $lim rows before it" \
         test "$(($(sql 'SELECT count(*) FROM record' "$d1") + $(sql 'SELECT count(*) FROM reject' "$d1")))" -le "$lim"
    fi
    integrity "$f: --batch 1: the database is sound" "$d1"
    # carebase check: same failure, same message, no database.
    run "$CAREBASE" --db "$T/check.db" --quiet check "$path" >/dev/null 2>"$T/err"
    exit1 "$f: check fails with status 1" "$RC"
    eq "$f: check gives the same message" "$(head -1 "$T/err" | sed 's/^carebase check: //')" "$msg"
  else
    eq "$f: import succeeds" "$RC" "$want"
    eq "$f: read, accepted, rejected" \
       "$(json "$T/out" "' '.join(str(j['files'][0][k]) for k in ('read', 'accepted', 'rejected'))")" \
       "$(expect "$f" counts)"
    eq "$f: the run is complete" "$(sql 'SELECT status FROM import_file' "$d")" complete
    while read -r l rule; do
      eq "$f: line $l is rejected with $rule" \
         "$(sql "SELECT group_concat(i.rule) FROM reject j JOIN reject_issue i ON i.reject_id = j.id WHERE j.line = $l" "$d")" "$rule"
    done < <(expect "$f" reject)
    integrity "$f: the database is sound" "$d"
    run "$CAREBASE" --db "$T/check.db" --quiet check "$path" >/dev/null 2>"$T/err"
    eq "$f: check succeeds" "$RC" 0
  fi
  check "$f: check created no database" test ! -e "$T/check.db"
done
check "the corpus has its files" test "$n" -ge 13

# A directory given as a file.
mkdir "$T/adir.csv"
run cb import "$T/adir.csv" 2>"$T/err"
exit1 "a directory: import fails with status 1" "$RC"
check "a directory: the message says so" grep -q "adir.csv' is a directory, not a file" "$T/err"
run "$CAREBASE" --quiet check "$T/adir.csv" 2>"$T/err"
exit1 "a directory: check fails with status 1" "$RC"

# A single line longer than the reader's row limit (16 MiB), no line end.
{ head -1 "$CORPUS/header_only.csv"; head -c 17000000 /dev/zero | tr '\0' 'x'; } >"$T/huge.csv"
run cb import "$T/huge.csv" 2>"$T/err"
exit1 "a huge line: import fails with status 1" "$RC"
check "a huge line: the message names the file and line and the limit" grep -q "huge.csv: line 2: row longer than" "$T/err"
run "$CAREBASE" --quiet check "$T/huge.csv" 2>"$T/err"
exit1 "a huge line: check fails with status 1" "$RC"
head -c 17000000 /dev/zero | tr '\0' 'y' >"$T/huge1.csv"
run cb import "$T/huge1.csv" 2>"$T/err"
exit1 "a huge header line: import fails with status 1" "$RC"
check "a huge header line: located at line 1" grep -q "huge1.csv: line 1: row longer than" "$T/err"
rm -f "$T/huge.csv" "$T/huge1.csv"
integrity "after the huge lines the database is sound"

# A fault after committed batches: 500 rows, bad quoting at line 300,
# --batch 100: rows of lines 2..201 stay (two batches), the third batch is
# rolled back; the repaired file then completes the import.
# Regression (fixed): rows reach
# the store thread in chunks (ROWS_PER_CHUNK rows) and the reader drops
# its current chunk when the file breaks, so batches of --batch rows that
# were complete before the fault are never committed. Repro:
#   carebase generate --records 500 --seed 51 --errors 0 --profile n041 --out good.csv
#   (put '"name"x' in XM of line 300 -> bad.csv)
#   carebase import --batch 100 bad.csv; sqlite3 carebase.db 'SELECT count(*) FROM record'   # 0, want 200
DB="$T/batches.db"
gen --records 500 --seed 51 --errors 0 --profile n041 --out "$T/good.csv"
py "$T/good.csv" "$T/bad.csv" <<'EOF'
import sys
from e2e_lib import *
import csv, io
h, rows = read_rows(sys.argv[1])
out = io.StringIO()
w = csv.writer(out, lineterminator="\n")
w.writerow(h)
for l, r in rows:
    if l == 300:
        name = r[h.index("XM")]
        r[h.index("XM")] = "\0"
        s = io.StringIO()
        csv.writer(s, lineterminator="\n").writerow(r)
        out.write(s.getvalue().replace("\0", '"%s"x' % name))
    else:
        w.writerow(r)
open(sys.argv[2], "w", encoding="utf-8", newline="").write(out.getvalue())
eq("the faulty copy differs from the file only at line 300",
   [i + 1 for i, (a, b) in enumerate(zip(open(sys.argv[1], encoding="utf-8"), open(sys.argv[2], encoding="utf-8"))) if a != b], [300])
EOF
run cb import --batch 100 "$T/bad.csv" 2>"$T/err"
exit1 "fault at line 300: import fails with status 1" "$RC"
check "fault at line 300: located" grep -q "bad.csv: line 300, column" "$T/err"
eq "fault at line 300: the two committed batches stay, nothing after them" \
   "$(sql "SELECT count(*), min(line), max(line) FROM (SELECT line FROM record UNION ALL SELECT line FROM reject)")" "200|2|201"
eq "fault at line 300: the run is failed, with the message" \
   "$(sql "SELECT status, message LIKE '%line 300, column%' FROM import_file")" "failed|1"
eq "fault at line 300: the run's counts say what was stored" \
   "$(sql "SELECT inserted FROM import_file")" "$(sql "SELECT count(*) FROM record")"
integrity "fault at line 300: the database is sound"
committed=$(sql "SELECT count(*) FROM record")
run cb import --json --batch 100 "$T/good.csv" >"$T/good.json"
eq "the repaired file completes the import" "$RC" 0
eq "the committed rows count as unchanged, the rest as new" \
   "$(summary "$T/good.json" unchanged)/$(summary "$T/good.json" inserted)" "$committed/$((500 - committed))"
eq "every record now names the import that confirmed it" "$(sql 'SELECT count(*) FROM record WHERE file_id = 2')" 500
eq "every row is stored once" "$(sql 'SELECT count(*), count(DISTINCT line) FROM record')" "500|500"
integrity "the completed database is sound"

finish
