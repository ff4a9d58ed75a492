#!/usr/bin/env bash
# Importing the same file again changes nothing; a corrected file replaces
# the records that changed (version 2, the earlier version in history),
# resolves the rejects of rows now accepted and supersedes those rejected
# again, so that 'carebase rejects' never lists a row twice.
. "$(dirname "$0")/lib.sh"

gen --records 3000 --seed 21 --errors 0.06 --out "$T/dup.csv" --manifest "$T/m.tsv"
# Part A uses the file without its in-file duplicates (QC-ID-02, part B).
py "$T/dup.csv" "$T/m.tsv" "$T/g.csv" <<'EOF'
import sys
from e2e_lib import *
h, rows = read_rows(sys.argv[1])
dups = {l for l, r, f in manifest(sys.argv[2]) if r == "QC-ID-02"}
ok("the generated file has in-file duplicates", len(dups) > 0)
write_rows(sys.argv[3], h, [r for l, r in rows if l not in dups])
EOF

# dump of everything but the rejects (records, warnings, history, org)
content() { dump_content "$DB" | grep -v "^'reject'\|^'issue'"; }

cb import --json "$T/g.csv" >"$T/s1.json"
acc1=$(summary "$T/s1.json" accepted); rej1=$(summary "$T/s1.json" rejected)
check "the first import rejects some rows" test "$rej1" -gt 50
content >"$T/c1"
cb rejects --format csv >"$T/r1.csv"
hist1=$(sql 'SELECT count(*) FROM record_history')
eq "a first import keeps no history" "$hist1" 0

# ---- the same file again ----
cb import --json "$T/g.csv" >"$T/s2.json"
eq "again: nothing new" "$(summary "$T/s2.json" inserted)" 0
eq "again: nothing replaced" "$(summary "$T/s2.json" replaced)" 0
eq "again: every accepted record unchanged" "$(summary "$T/s2.json" unchanged)" "$acc1"
eq "again: same accepted count" "$(summary "$T/s2.json" accepted)" "$acc1"
eq "again: same rejected count" "$(summary "$T/s2.json" rejected)" "$rej1"
content >"$T/c2"
check "again: records, warnings, history, hospitals and departments are identical" cmp -s "$T/c1" "$T/c2"
eq "again: record count" "$(sql 'SELECT count(*) FROM record')" "$acc1"
eq "again: open rejects" "$(sql "SELECT count(*) FROM reject WHERE status = 'open'")" "$rej1"
eq "again: the earlier rejects are superseded" "$(sql "SELECT count(*) FROM reject WHERE status = 'superseded'")" "$rej1"
cb rejects --format csv >"$T/r2.csv"
check "again: 'carebase rejects' lists exactly what it listed before" cmp -s "$T/r1.csv" "$T/r2.csv"
eq "two runs recorded" "$(sql "SELECT group_concat(status) FROM import_file")" "complete,complete"

# ---- a corrected file ----
# fixed: rejected rows whose only error is easy to repair; changed: two
# accepted rows with a consistent new content (ZFY and QTF up by 10 yuan; an
# added other diagnosis); broken: one accepted row with ZFJE > ZFY.
py "$DB" "$T/g.csv" "$T/fix.csv" "$T/plan" <<'EOF'
import sys
from decimal import Decimal
from e2e_lib import *
c = db(sys.argv[1])
h, rows = read_rows(sys.argv[2])
col = {k: i for i, k in enumerate(h)}
only = {}
for line, rule, field, n in c.execute(
        "SELECT j.line, min(i.rule), min(i.field), count(*) FROM reject j JOIN reject_issue i ON i.reject_id = j.id"
        " WHERE j.status = 'open' GROUP BY j.id"):
    if n == 1:
        only[line] = (rule, field)
repair = {("QC-COST-05", "ZFJE"): ("D09", "0.00"), ("QC-ALG-01", "GMYW"): ("C25", "青霉素"),
          ("QC-FMT-01", "ZKRQ"): ("B33", ""), ("QC-REQ-01", "RYBF"): ("B14", "普通病区")}
fixed = {l: repair[rf] for l, rf in only.items() if rf in repair}
ok("the file has rejects that can be repaired", len(fixed) >= 2, only)
acc = [l for l, n, jb, ndx in c.execute(
    "SELECT line, n_warnings, jbdm, json_array_length(dx) FROM record ORDER BY line")
    if n == 0]
plain = [l for l, jb, ndx in c.execute(
    "SELECT line, jbdm, json_array_length(dx) FROM record WHERE n_warnings = 0 AND jbdm NOT LIKE 'I1%'"
    " AND json_array_length(dx) = 1 ORDER BY line")]
cost, dxrow = acc[10], plain[5]
broken = acc[20]
out = []
for l, r in rows:
    if l in fixed:
        k, v = fixed[l]
        r[col[k]] = v
    elif l == cost:
        r[col["D01"]] = str(Decimal(r[col["D01"]]) + 10)
        r[col["D34"]] = str(Decimal(r[col["D34"]]) + 10)
    elif l == dxrow:
        r[col["C06x01C"]], r[col["C07x01N"]], r[col["C08x01C"]] = "I10.x00", "特发性(原发性)高血压", "1"
    elif l == broken:
        r[col["D09"]] = str(Decimal(r[col["D01"]]) + 1)
    out.append(r)
write_rows(sys.argv[3], h, out)
with open(sys.argv[4], "w") as f:
    f.write("fixed='%s'\ncost=%d\ndxrow=%d\nbroken=%d\n" % (" ".join(map(str, sorted(fixed))), cost, dxrow, broken))
EOF
. "$T/plan"
nfix=$(wc -w <<<"$fixed")
run3=3
cb import --json "$T/fix.csv" >"$T/s3.json"
eq "corrected: the repaired rows are new records" "$(summary "$T/s3.json" inserted)" "$nfix"
eq "corrected: the two changed records are replaced" "$(summary "$T/s3.json" replaced)" 2
eq "corrected: the others are unchanged" "$(summary "$T/s3.json" unchanged)" "$((acc1 - 3))"
eq "corrected: accepted" "$(summary "$T/s3.json" accepted)" "$((acc1 - 1 + nfix))"
eq "corrected: rejected" "$(summary "$T/s3.json" rejected)" "$((rej1 - nfix + 1))"
eq "corrected: record count" "$(sql 'SELECT count(*) FROM record')" "$((acc1 + nfix))"
eq "changed records are version 2" "$(sql "SELECT group_concat(version) FROM record WHERE line IN ($cost, $dxrow)")" "2,2"
eq "no other record has a new version" "$(sql "SELECT count(*) FROM record WHERE version != 1")" 2
eq "the new total cost is stored" "$(cbsql "SELECT r.zfy - CAST(round(json_extract(fp_data(h.data), '\$.ZFY') * 100) AS INTEGER) FROM record r JOIN record_history h ON h.record_id = r.id WHERE r.line = $cost")" 1000
eq "the added diagnosis is stored" "$(sql "SELECT code FROM record_dx d JOIN record r ON r.id = d.record_id WHERE r.line = $dxrow AND d.seq = 1")" "I10.x00"
eq "history holds the two earlier versions" "$(sql "SELECT group_concat(version || ':' || line, ' ') FROM (SELECT * FROM record_history ORDER BY line)")" \
   "1:$((cost < dxrow ? cost : dxrow)) 1:$((cost < dxrow ? dxrow : cost))"
eq "history keeps the earlier content" \
   "$(cbsql "SELECT json_array_length(h.dx) FROM record_history h WHERE h.line = $dxrow")|$(cbsql "SELECT json_extract(fp_data(h.data), '\$.ZFY') = json_extract(fp_data(r.data), '\$.ZFY') FROM record_history h JOIN record r ON r.id = h.record_id WHERE h.line = $cost")" \
   "1|0"
eq "history links the record and the replacing run" \
   "$(sql "SELECT count(*) FROM record_history h JOIN record r ON r.id = h.record_id AND r.bah = h.bah WHERE h.replaced_by_file = $run3")" 2
eq "history keeps the earlier content hash" \
   "$(sql "SELECT count(*) FROM record_history h JOIN record r ON r.id = h.record_id WHERE h.content_hash = r.content_hash")" 0
eq "the broken row is rejected and the accepted version stays" \
   "$(sql "SELECT version FROM record WHERE line = $broken")|$(sql "SELECT status FROM reject WHERE line = $broken")" "1|open"
lines=$(tr ' ' , <<<"$fixed")
eq "the latest reject of each repaired row is resolved" \
   "$(sql "SELECT count(*) FROM reject j WHERE line IN ($lines) AND id = (SELECT max(id) FROM reject WHERE line = j.line) AND status = 'resolved'")" "$nfix"
eq "no repaired row has an open reject" "$(sql "SELECT count(*) FROM reject WHERE line IN ($lines) AND status = 'open'")" 0
eq "rows rejected again: exactly one open reject per line" \
   "$(sql "SELECT count(*) FROM (SELECT line FROM reject WHERE status = 'open' GROUP BY line HAVING count(*) > 1)")" 0
eq "open rejects = rejected rows of the last run" "$(sql "SELECT count(*) FROM reject WHERE status = 'open'")" "$((rej1 - nfix + 1))"
eq "the open rejects are the last run's" "$(sql "SELECT count(*) FROM reject WHERE status = 'open' AND file_id != $run3")" 0
eq "every earlier reject of a row rejected again is superseded" \
   "$(sql "SELECT count(*) FROM reject o WHERE o.file_id != $run3 AND o.status != 'superseded' AND EXISTS (SELECT 1 FROM reject n WHERE n.file_id = $run3 AND n.line = o.line)")" 0
cb rejects --format csv >"$T/r3.csv"
eq "'carebase rejects' lists no row twice" "$(tail -n +2 "$T/r3.csv" | cut -d, -f2,7,8 | sort | uniq -d | wc -l)" 0
eq "'carebase rejects' lists the open rejects only" "$(($(wc -l <"$T/r3.csv") - 1))" \
   "$(sql "SELECT count(*) FROM reject_issue i JOIN reject j ON j.id = i.reject_id WHERE j.status = 'open'")"
check "'carebase rejects --all' also lists the resolved ones" grep -q ',resolved,' <(cb rejects --all --format csv)

# the corrected file once more: nothing changes
content >"$T/c3"
cb import --json "$T/fix.csv" >"$T/s4.json"
eq "corrected again: nothing new or replaced" "$(summary "$T/s4.json" inserted)|$(summary "$T/s4.json" replaced)" "0|0"
content >"$T/c4"
check "corrected again: content identical" cmp -s "$T/c3" "$T/c4"
integrity "the database is sound"

# ---- part B: a file with in-file duplicates (QC-ID-02), imported twice ----
DB="$T/dup.db"
cb import --json "$T/dup.csv" >"$T/d1.json"
content >"$T/d1"
cb rejects --all --format csv | cut -d, -f1-5,7- >"$T/dr1.csv"
cb import --json "$T/dup.csv" >"$T/d2.json"
content >"$T/d2"
# Regression (found by this suite, fixed in f3dade2): the duplicate test
# looked only at records stored by the current run, so on the second import
# the first occurrence was 'unchanged' (run 1's) and the duplicate row was
# accepted and replaced it ("replaced": 8 for this file).
eq "duplicates, again: nothing replaced (a duplicate row never replaces its first occurrence)" \
   "$(summary "$T/d2.json" replaced)" 0
eq "duplicates, again: same rejected count" "$(summary "$T/d2.json" rejected)" "$(summary "$T/d1.json" rejected)"
check "duplicates, again: records identical" cmp -s "$T/d1" "$T/d2"
eq "duplicates, again: the QC-ID-02 rejects are listed" \
   "$(cb rejects --rule QC-ID-02 --format csv | tail -n +2 | wc -l)" "$(grep -c 'QC-ID-02' "$T/m.tsv")"

finish
