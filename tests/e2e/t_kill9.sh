#!/usr/bin/env bash
# Crash safety: an import killed with SIGKILL at three different moments
# (the later ones while it is completing an interrupted run) leaves a sound
# database holding whole batches, shows the run as 'running', and importing
# the file again completes it: the same records and open rejects as a clean
# import into a fresh database, none twice.
. "$(dirname "$0")/lib.sh"

BATCH=5000
gen --records 150000 --seed 61 --errors 0.02 --out "$T/big.csv"
nrows=$(($(wc -l <"$T/big.csv") - 1))
eq "the file has its rows" "$nrows" 150000

# The reference: a clean import into a fresh database.
DB="$T/ref.db" cb import --json --batch $BATCH "$T/big.csv" >"$T/ref.json"

# rows DB: records + open rejects
rows() { sql "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM reject WHERE status = 'open')" "$1"; }
at_least() { [ -s "$DB" ] && [ "$(sql 'SELECT count(*) FROM record' "$DB" 2>/dev/null || echo 0)" -ge "$1" ]; }
# gone PID: the process has ended
gone() { ! kill -0 "$1" 2>/dev/null; }

# The three moments: (1) 20,000 records in; (2) while the second run is
# confirming the records of the first (5,000 rows of its own committed,
# fewer than the first run's); (3) 15,000 records beyond the second kill.
stamped() { [ -s "$DB" ] && [ "$(sql "SELECT count(*) FROM record WHERE file_id = $1" "$DB" 2>/dev/null || echo 0)" -ge "$2" ]; }
DB="$T/kill.db"
prev=0
for k in 1 2 3; do
  case $k in
    1) cond="at_least 20000" ;;
    2) cond="stamped 2 $BATCH" ;;
    3) cond="at_least $((prev + 15000))" ;;
  esac
  ( exec "$CAREBASE" --db "$DB" --quiet import --batch $BATCH "$T/big.csv" ) &
  pid=$!
  wait_until 120 eval "$cond || gone $pid" || true
  if gone $pid; then
    fail "kill $k: the import ended before '$cond' (the file is too small for this machine)"
    wait $pid || true
    break
  fi
  kill -9 $pid
  wait $pid 2>/dev/null && rc=0 || rc=$?
  eq "kill $k: the import was killed by SIGKILL" "$rc" 137
  n=$(sql 'SELECT count(*) FROM record')
  echo "# kill $k at $n records, $(sql "SELECT count(*) FROM record WHERE file_id = $k") of them from this run"
  integrity "kill $k: the database is sound"
  check "kill $k: no record lost" test "$n" -ge "$prev"
  r=$(rows "$DB")
  eq "kill $k: records + open rejects are whole batches" "$((r % BATCH))" 0
  eq "kill $k: they are the first $r rows of the file, each once" \
     "$(sql "SELECT count(DISTINCT line), min(line), max(line) FROM (SELECT line FROM record UNION ALL SELECT line FROM reject WHERE status = 'open')")" \
     "$r|2|$((r + 1))"
  eq "kill $k: the rows of the killed run are whole batches" \
     "$(($(sql "SELECT (SELECT count(*) FROM record WHERE file_id = $k) + (SELECT count(*) FROM reject WHERE file_id = $k)") % BATCH))" 0
  eq "kill $k: the killed run is 'running'" "$(sql "SELECT status FROM import_file WHERE id = $k")" running
  eq "kill $k: earlier runs are not 'complete'" "$(sql "SELECT count(*) FROM import_file WHERE status = 'complete'")" 0
  check "kill $k: status shows the interrupted import" grep -qE "^$k +big.csv .*running" <(cb status)
  prev=$n
done

# Importing the file again completes it.
cb import --json --batch $BATCH "$T/big.csv" >"$T/final.json"
eq "the completing run is complete" "$(sql "SELECT status FROM import_file ORDER BY id DESC LIMIT 1")" complete
eq "it read every row" "$(summary "$T/final.json" read)" "$nrows"
eq "accepted and rejected as in a clean import" \
   "$(summary "$T/final.json" accepted)/$(summary "$T/final.json" rejected)" \
   "$(summary "$T/ref.json" accepted)/$(summary "$T/ref.json" rejected)"
eq "records committed before count as unchanged, none replaced" \
   "$(summary "$T/final.json" replaced)/$(( $(summary "$T/final.json" inserted) + $(summary "$T/final.json" unchanged) ))" \
   "0/$(summary "$T/final.json" accepted)"
eq "same number of records as a clean import" "$(sql 'SELECT count(*) FROM record')" "$(sql 'SELECT count(*) FROM record' "$T/ref.db")"
eq "same number of open rejects" "$(sql "SELECT count(*) FROM reject WHERE status = 'open'")" \
   "$(sql "SELECT count(*) FROM reject WHERE status = 'open'" "$T/ref.db")"
eq "no row is stored twice" \
   "$(sql "SELECT count(*) - count(DISTINCT line) FROM (SELECT line FROM record UNION ALL SELECT line FROM reject WHERE status = 'open')")" 0
eq "no history (nothing was replaced)" "$(sql 'SELECT count(*) FROM record_history')" 0
# Content: records, warnings, hospitals, departments, and the open rejects
# with their issues, as in the clean import (rejects superseded by the
# completing run are extra, by design).
open_dump() {
  { dump_content "$1" | grep -v "^'reject'\|^'issue'"
    sqlite3 -batch -quote "$1" "
      SELECT 'reject', line, zzjgdm, bah, zycs, raw FROM reject WHERE status = 'open' ORDER BY line;
      SELECT 'issue', j.line, i.rule, i.severity, i.field, i.value, i.detail FROM reject_issue i
        JOIN reject j ON j.id = i.reject_id WHERE j.status = 'open' ORDER BY j.line, i.rule, i.field, i.value;"
  } >"$2"
}
open_dump "$DB" "$T/k.dump"
open_dump "$T/ref.db" "$T/r.dump"
check "the content equals the clean import's" cmp -s "$T/k.dump" "$T/r.dump"
integrity "the completed database is sound"

finish
