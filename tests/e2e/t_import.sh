#!/usr/bin/env bash
# Import of a generated consortium with injected errors: the counts add up
# (read = accepted + rejected, and both match the database), every injected
# error is found at its line with its rule (errors rejected, warnings kept
# with the record, or with the reject when the row fails for something
# else), nothing else is rejected, the stored values are the file's, the
# 'rejects' listing and its filters, hospitals, departments and 'org load'.
. "$(dirname "$0")/lib.sh"

gen --records 5000 --seed 7 --errors 0.05 --out "$T/g.csv" --manifest "$T/m.tsv" --orgs "$T/o.tsv"
check "generate wrote the file, the manifest and the directory" test -s "$T/g.csv" -a -s "$T/m.tsv" -a -s "$T/o.tsv"

# One row that carries an injected warning (QC-DATE-04) also gets an error of
# its own (ZYCS = 0, QC-ID-01): it must be rejected with both issues.
py "$T/g.csv" "$T/m.tsv" "$T/wline" <<'EOF'
import sys
from e2e_lib import *
path, man, out = sys.argv[1:4]
h, rows = read_rows(path)
line = next(l for l, r, f in manifest(man) if r == "QC-DATE-04")
for l, r in rows:
    if l == line:
        r[h.index("A49")] = "0"
write_rows(path, h, [r for l, r in rows])
open(out, "w").write(str(line))
EOF
wline=$(cat "$T/wline")

run cb import --json "$T/g.csv" >"$T/s.json" 2>"$T/err"
eq "import exits 0 although rows are rejected" "$RC" 0
read_=$(summary "$T/s.json" read); acc=$(summary "$T/s.json" accepted); rej=$(summary "$T/s.json" rejected)
eq "every row of the file is read" "$read_" 5000
eq "read = accepted + rejected" "$read_" "$((acc + rej))"
check "some rows are rejected" test "$rej" -gt 100
eq "rejected = rows in reject" "$rej" "$(sql 'SELECT count(*) FROM reject')"
eq "accepted = records in the database" "$acc" "$(sql 'SELECT count(*) FROM record')"
eq "all accepted records are new" "$(summary "$T/s.json" inserted)" "$acc"
eq "with_warnings = records having warnings" "$(summary "$T/s.json" with_warnings)" \
   "$(sql 'SELECT count(DISTINCT record_id) FROM record_warning')"
eq "n_warnings agrees with record_warning" \
   "$(sql 'SELECT count(*) FROM record r WHERE n_warnings != (SELECT count(*) FROM record_warning w WHERE w.record_id = r.id)')" 0
eq "the run is recorded as complete with its counts" \
   "$(sql "SELECT status, rows_read, accepted, rejected FROM import_file")" "complete|$read_|$acc|$rej"
eq "the summary names the detected profile" "$(summary "$T/s.json" profile)" western
eq "and the encoding" "$(summary "$T/s.json" encoding)" utf-8
# Regression (found by this suite, fixed in f3dade2): rejects for QC-ID-02
# (a key repeated later in the same file) were stored as 'resolved' by the
# very import that rejected them, and vanished from 'carebase rejects'.
eq "every reject of a first import is open (QC-ID-02 ones too)" \
   "$(sql "SELECT count(*) FROM reject WHERE status = 'open'")" "$rej"

# Per-rule counts of the summary agree with the database.
py "$DB" "$T/s.json" <<'EOF'
import json, sys
from e2e_lib import *
c = db(sys.argv[1])
rules = json.load(open(sys.argv[2]))["files"][0]["rules"]
sev = severities()
bad = []
for r in rules:
    if sev.get(r["id"]) != r["severity"]:
        bad.append((r["id"], "severity", r["severity"]))
    rec = one(c, "SELECT count(DISTINCT reject_id) FROM reject_issue WHERE rule = ?", r["id"]) + \
          one(c, "SELECT count(DISTINCT record_id) FROM record_warning WHERE rule = ?", r["id"])
    iss = one(c, "SELECT count(*) FROM reject_issue WHERE rule = ?", r["id"]) + \
          one(c, "SELECT count(*) FROM record_warning WHERE rule = ?", r["id"])
    if (rec, iss) != (r["records"], r["issues"]):
        bad.append((r["id"], r["records"], r["issues"], "db", rec, iss))
eq("per-rule records/issues of the summary match reject_issue + record_warning", bad, [])
named = {r["id"] for r in rules}
stored = {x[0] for x in c.execute("SELECT rule FROM reject_issue UNION SELECT rule FROM record_warning")}
eq("every rule in the database is in the summary", stored - named, set())
EOF

# Every injected error is found where the manifest says; nothing else fails.
py "$DB" "$T/m.tsv" "$wline" <<'EOF'
import sys
from e2e_lib import *
c = db(sys.argv[1])
man = manifest(sys.argv[2])
wline = int(sys.argv[3])
sev = severities()
rej = {}
for line, rule, field, s in c.execute(
        "SELECT j.line, i.rule, i.field, i.severity FROM reject j JOIN reject_issue i ON i.reject_id = j.id"):
    rej.setdefault(line, set()).add((rule, field))
warn = {}
for line, rule, field in c.execute(
        "SELECT r.line, w.rule, w.field FROM record_warning w JOIN record r ON r.id = w.record_id"):
    warn.setdefault(line, set()).add((rule, field))
# The generator names the field it broke; for these rules the issue names
# the other side of the relation (XB vs the diagnosis, the sub-item vs its
# parent, B35 stored as YZZY_YLJG vs WSY_YLJG when LYFS = 3).
other_side = {"QC-DX-07", "QC-COST-04", "QC-DIS-01"}
ok("the manifest has errors and warnings",
   any(sev.get(r) == "E" for _, r, _ in man) and any(sev.get(r) == "W" for _, r, _ in man))
ok("every manifest rule is a known rule", all(r in sev for _, r, _ in man),
   [r for _, r, _ in man if r not in sev])
missE, missW, fieldE = [], [], []
for line, rule, field in man:
    if sev.get(rule) == "E":
        got = rej.get(line, set())
        if rule not in {r for r, _ in got}:
            missE.append((line, rule, field, sorted(got)))
        elif rule not in other_side and (rule, field) not in got:
            fieldE.append((line, rule, field, sorted(got)))
    elif sev.get(rule) == "W":
        got = warn.get(line, set()) | rej.get(line, set())
        if (rule, field) not in got:
            missW.append((line, rule, field, sorted(got)))
eq("every injected error (E) is a reject at its line with its rule", missE, [])
eq("and names the manifest's field", fieldE, [])
eq("every injected warning (W) is kept at its line with its rule and field", missW, [])
expected = {l for l, r, f in man if sev.get(r) == "E"} | {wline}
eq("no row is rejected that has no injected error", sorted(set(rej) - expected), [])
expw = {l for l, r, f in man if sev.get(r) == "W"}
eq("no accepted row has a warning that was not injected", sorted(set(warn) - expw), [])
got = rej.get(wline, set())
ok("a row with an error and a warning is rejected with both issues",
   "QC-ID-01" in {r for r, _ in got} and "QC-DATE-04" in {r for r, _ in got}, sorted(got))
ok("and its warning is not stored as a record warning", wline not in warn)
eq("the W issue of a reject keeps severity W",
   one(c, "SELECT group_concat(i.severity) FROM reject j JOIN reject_issue i ON i.reject_id = j.id"
          " WHERE j.line = ? AND i.rule = 'QC-DATE-04'", wline), "W")
EOF

# The stored records are the file's rows; rejects keep the raw line.
py "$DB" "$T/g.csv" <<'EOF'
import json, sys
from decimal import Decimal
from e2e_lib import *
c = db(sys.argv[1])
h, rows = read_rows(sys.argv[2])
raw = raw_lines(sys.argv[2])
col = {k: i for i, k in enumerate(h)}
its = items(sys.argv[1])
recs = {line: r for line, *r in c.execute(
    "SELECT r.line, h.zzjgdm, r.bah, r.zycs, r.jbdm, r.zfy, r.rykb, r.cykb, r.sjzyts, r.dx, r.px, r.id"
    " FROM record r JOIN hospital h ON h.id = r.hospital_id")}
rejs = {line: r for line, r in c.execute("SELECT line, raw FROM reject")}
eq("each row is either a record or a reject", sorted(set(recs) | set(rejs)), [l for l, _ in rows])
eq("never both", set(recs) & set(rejs), set())
bad = []
for line, r in rows:
    if line not in recs:
        continue
    z, bah, zycs, jbdm, zfy, rykb, cykb, los, dx, px, rid = recs[line]
    dx, px, data = json.loads(dx), json.loads(px), its[rid]
    want = (r[col["A01"]], r[col["A48"]], int(r[col["A49"]]), r[col["C03C"]],
            int(Decimal(r[col["D01"]]) * 100), r[col["B13C"]], r[col["B16C"]], int(r[col["B20"]]))
    if (z, bah, zycs, jbdm, zfy, rykb, cykb, los) != want:
        bad.append((line, "columns", want))
    odx = [r[col["C06x%02dC" % n]] for n in range(1, 41) if r[col["C06x%02dC" % n]]]
    if [d[1] for d in dx] != [r[col["C03C"]]] + odx or [d[0] for d in dx] != list(range(len(odx) + 1)):
        bad.append((line, "dx", dx))
    opx = [r[col["C14x01C"]]] + [r[col["C35x%02dC" % n]] for n in range(1, 41)]
    opx = [p for p in opx if p]
    if [p[1] for p in px] != opx:
        bad.append((line, "px", px))
    if data.get("BAH") != r[col["A48"]] or data.get("XM") != r[col["A11"]] or data.get("ZFY") != r[col["D01"]]:
        bad.append((line, "data", data.get("BAH"), data.get("XM"), data.get("ZFY")))
    if len(bad) > 5:
        break
eq("records hold the file's key, dates, departments, costs, diagnoses and procedures", bad, [])
eq("every reject keeps its raw line byte for byte",
   [l for l, x in rejs.items() if x != raw[l]][:5], [])
eq("record_dx and record_px views expand the JSON columns",
   (one(c, "SELECT count(*) FROM record_dx"), one(c, "SELECT count(*) FROM record_px")),
   (one(c, "SELECT sum(json_array_length(dx)) FROM record"), one(c, "SELECT sum(json_array_length(px)) FROM record")))
eq("record_dx seq 0 is the principal diagnosis",
   one(c, "SELECT count(*) FROM record r JOIN record_dx d ON d.record_id = r.id AND d.seq = 0 WHERE d.code != r.jbdm"), 0)
EOF

# carebase rejects: all open rejects, one line per issue, and its filters.
cb rejects --format csv >"$T/rej.csv"
eq "rejects --format csv has the documented header" "$(head -1 "$T/rej.csv")" \
   "file,line,zzjgdm,bah,zycs,status,rule,severity,field,value,detail,raw"
py "$DB" "$T/rej.csv" <<'EOF'
import csv, sys
from e2e_lib import *
c = db(sys.argv[1])
rows = list(csv.DictReader(open(sys.argv[2], encoding="utf-8", newline="")))
want = sorted(c.execute(
    "SELECT j.line, i.rule, i.field FROM reject j JOIN reject_issue i ON i.reject_id = j.id WHERE j.status = 'open'"))
eq("rejects lists one line per issue of every open reject",
   sorted((int(r["line"]), r["rule"], r["field"]) for r in rows), [(l, r, f or "") for l, r, f in want])
ok("rejects --format csv lists only open rejects", all(r["status"] == "open" for r in rows))
EOF
for rule in QC-DEM-01 QC-COST-02 QC-ID-01; do
  cb rejects --rule "$rule" --format csv >"$T/r1.csv"
  n=$(($(wc -l <"$T/r1.csv") - 1))
  eq "rejects --rule $rule lists the open rejects with that rule" "$n" \
     "$(sql "SELECT count(*) FROM reject j JOIN reject_issue i ON i.reject_id = j.id WHERE j.status = 'open' AND i.rule = '$rule'")"
  eq "and only those" "$(tail -n +2 "$T/r1.csv" | cut -d, -f7 | sort -u)" "$rule"
done
check "rejects --rule QC-DEM-01 finds some" test "$(cb rejects --rule QC-DEM-01 | wc -l)" -gt 5
eq "rejects --rule of a rule no row failed lists nothing" "$(cb rejects --rule QC-COMA-01 | wc -l)" 0
eq "rejects --rule QC-ID-02 lists the in-file duplicates" \
   "$(cb rejects --rule QC-ID-02 --format csv | tail -n +2 | wc -l)" \
   "$(sql "SELECT count(*) FROM reject_issue WHERE rule = 'QC-ID-02'")"
eq "rejects --all lists every issue" "$(($(cb rejects --all --format csv | wc -l) - 1))" \
   "$(sql 'SELECT count(*) FROM reject_issue')"
eq "rejects --file g.csv lists them" "$(cb rejects --all --file g.csv --format csv | wc -l)" \
   "$(cb rejects --all --format csv | wc -l)"
eq "rejects --file of another file lists nothing" "$(cb rejects --all --file other.csv | wc -l)" 0
cb rejects --all --format json >"$T/rej.json"
eq "rejects --format json has the same entries" "$(json "$T/rej.json" "len(j['rejects'])")" \
   "$(sql 'SELECT count(*) FROM reject_issue')"
out=$(cb rejects --rule QC-DEM-01 --raw)
check "rejects --raw prints the raw line" grep -qF "$(sql "SELECT raw FROM reject j JOIN reject_issue i ON i.reject_id = j.id WHERE i.rule = 'QC-DEM-01' LIMIT 1")" <<<"$out"

# Hospitals and departments seen in the file were created.
eq "one hospital per organisation code in the file" "$(sql 'SELECT count(*) FROM hospital')" \
   "$(tail -n +2 "$T/g.csv" | cut -d, -f1 | sort -u | wc -l)"
eq "hospitals carry the file's institution name" \
   "$(sql "SELECT count(*) FROM hospital WHERE name IS NULL OR name = ''")" 0
eq "every department of an accepted record exists" "$(sql "
   SELECT count(*) FROM (SELECT hospital_id, rykb AS code FROM record UNION SELECT hospital_id, cykb FROM record) x
   WHERE NOT EXISTS (SELECT 1 FROM department d WHERE d.hospital_id = x.hospital_id AND d.code = x.code)")" 0
eq "departments are named from RC023" "$(sql "SELECT count(*) FROM department WHERE name IS NULL OR name = ''")" 0
check "there are departments" test "$(sql 'SELECT count(*) FROM department')" -gt 10

# org load: names, levels and the consortium.
cb org load "$T/o.tsv"
py "$DB" "$T/o.tsv" <<'EOF'
import sys
from e2e_lib import *
c = db(sys.argv[1])
lines = [l.rstrip("\n").split("\t") for l in open(sys.argv[2], encoding="utf-8")][1:]
want = sorted((z, n, lv) for z, n, lv, g in lines)
eq("org load sets every hospital's name and level",
   sorted(c.execute("SELECT zzjgdm, name, level FROM hospital WHERE zzjgdm IN (%s)" % ",".join("?" * len(want)),
                    [w[0] for w in want])), want)
groups = sorted({g for z, n, lv, g in lines})
eq("org load creates the consortium", sorted(x[0] for x in c.execute(
   "SELECT name FROM org_group WHERE kind = 'consortium'")), groups)
eq("and puts every hospital in it", sorted(c.execute(
   "SELECT h.zzjgdm, g.name FROM org_member m JOIN hospital h ON h.id = m.hospital_id"
   " JOIN org_group g ON g.id = m.group_id")), sorted((z, g) for z, n, lv, g in lines))
eq("no extra hospital", one(c, "SELECT count(*) FROM hospital"), len(lines))
EOF
cb org load "$T/o.tsv"
eq "org load twice changes nothing" "$(sql 'SELECT count(*) FROM org_group')|$(sql 'SELECT count(*) FROM org_member')" \
   "1|$(($(wc -l <"$T/o.tsv") - 1))"
out=$(cb org list)
check "org list shows a hub hospital's level" grep -q '三级' <<<"$out"
out=$(cb status)
check "status shows the import as complete" grep -q 'complete' <<<"$out"
integrity "the database is sound"

finish
