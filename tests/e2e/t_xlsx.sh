#!/usr/bin/env bash
# .xlsx import: a real workbook written at test time (Python's zipfile;
# shared strings, inline strings, numeric cells, gaps, cells without r)
# imports to the same content as the CSV it was made from; its rejects keep
# the row as TAB-joined cells. Broken workbooks fail cleanly (exit 1).
. "$(dirname "$0")/lib.sh"

gen --records 400 --seed 71 --errors 0.05 --out "$T/s.csv"
py "$T/s.csv" "$T/s.xlsx" <<'EOF'
import sys, zipfile
from e2e_lib import *
h, rows = read_rows(sys.argv[1])
csv_to_xlsx([h] + [r for l, r in rows], sys.argv[2])
z = zipfile.ZipFile(sys.argv[2])
ok("the workbook is a zip with the five parts", {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml",
   "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} <= set(z.namelist()))
sheet = z.read("xl/worksheets/sheet1.xml").decode()
ok("it uses shared strings, inline strings and numbers",
   't="s"' in sheet and 't="inlineStr"' in sheet and "<c><v>" in sheet)
EOF

DB="$T/csv.db" cb import --json "$T/s.csv" >"$T/csv.json"
DB="$T/x.db" run cb import --json "$T/s.xlsx" >"$T/x.json"
eq "the workbook imports" "$RC" 0
eq "as xlsx" "$(summary "$T/x.json" format)" xlsx
eq "with the detected profile" "$(summary "$T/x.json" profile)" western
eq "all its columns" "$(summary "$T/x.json" columns)" "$(summary "$T/csv.json" columns)"
eq "the same counts as the CSV" \
   "$(json "$T/x.json" "[j['files'][0][k] for k in ('read','accepted','rejected','with_warnings')]")" \
   "$(json "$T/csv.json" "[j['files'][0][k] for k in ('read','accepted','rejected','with_warnings')]")"
eq "the same per-rule counts" "$(json "$T/x.json" "j['files'][0]['rules']")" "$(json "$T/csv.json" "j['files'][0]['rules']")"
check "there are rejects" test "$(summary "$T/x.json" rejected)" -gt 5
# Everything but the rejects' raw line is identical.
noraw() {
  dump_content "$1" | grep -v "^'reject'"
  sqlite3 -batch -quote "$1" "SELECT 'reject', line, zzjgdm, bah, zycs, status FROM reject ORDER BY line"
}
noraw "$T/csv.db" >"$T/c.dump"; noraw "$T/x.db" >"$T/x.dump"
check "the database content equals the CSV import's (records, warnings, rejects, issues, org)" cmp -s "$T/c.dump" "$T/x.dump"
py "$T/x.db" "$T/s.csv" <<'EOF'
import sys
from e2e_lib import *
c = db(sys.argv[1])
h, rows = read_rows(sys.argv[2])
rows = dict(rows)
bad = [l for l, raw in c.execute("SELECT line, raw FROM reject") if raw != "\t".join(rows[l]).rstrip("\t")]
eq("a reject from a workbook keeps its cells joined by TABs", bad, [])
EOF
cp "$T/s.xlsx" "$T/s.dat"
DB="$T/dat.db" run cb import --json "$T/s.dat" >"$T/dat.json"
eq "a workbook is recognised by its content, not its name" "$RC/$(summary "$T/dat.json" format)" 0/xlsx
run "$CAREBASE" --quiet check --report json --rules-only "$T/s.xlsx" >"$T/chk.json"
eq "check reads the workbook like import" "$(json "$T/chk.json" "j['files'][0]['summary']['rules']")" \
   "$(json "$T/x.json" "j['files'][0]['rules']")"
DB="$T/forced.db" run cb import --format xlsx "$T/s.csv" 2>"$T/err"
exit1 "--format xlsx on a CSV file fails" "$RC"
check "saying it is not a workbook" grep -q "s.csv' is not an xlsx workbook" "$T/err"

# Broken workbooks.
head -c 60000 "$T/s.xlsx" >"$T/trunc.xlsx"
py "$T/s.xlsx" "$T" <<'EOF'
import sys, zipfile
src, T = zipfile.ZipFile(sys.argv[1]), sys.argv[2]
def variant(name, fn):
    with zipfile.ZipFile("%s/%s" % (T, name), "w", zipfile.ZIP_DEFLATED) as z:
        for n in src.namelist():
            d = fn(n, src.read(n))
            if d is not None:
                z.writestr(n, d)
with zipfile.ZipFile(T + "/notwb.xlsx", "w") as z:
    z.writestr("hello.txt", "not a workbook")
variant("nosheet.xlsx", lambda n, d: None if n.endswith("sheet1.xml") else d)
variant("badxml.xlsx", lambda n, d: d[:len(d) // 2] if n.endswith("sheet1.xml") else d)
variant("badsst.xlsx", lambda n, d: d.replace(b'<c r="B2" t="s"><v>', b'<c r="B2" t="s"><v>9999', 1)
        if n.endswith("sheet1.xml") else d)
EOF
for f in trunc notwb nosheet badxml badsst; do
  DB="$T/$f.db" run cb import "$T/$f.xlsx" 2>"$T/err"
  exit1 "$f.xlsx: import fails with status 1" "$RC"
  check "$f.xlsx: with a message" test -s "$T/err"
  eq "$f.xlsx: nothing stored" "$(sql 'SELECT count(*) FROM record' "$T/$f.db")" 0
  integrity "$f.xlsx: the database is sound" "$T/$f.db"
  run "$CAREBASE" --quiet check "$T/$f.xlsx" >/dev/null 2>"$T/err2"
  exit1 "$f.xlsx: check fails with status 1" "$RC"
  # Regression (fixed): errors inside the worksheet name the part
  # ('xl/worksheets/sheet1.xml' line 2, column N) but not the workbook file,
  # so with several files on the command line the user cannot tell which.
  # Repro: break sheet1.xml of any .xlsx; carebase import a.csv broken.xlsx
  check "$f.xlsx: the message names the workbook file" \
    grep -q "$f.xlsx" "$T/err"
done
check "a truncated workbook is reported as not a zip archive" grep -q "not a zip archive" <(DB="$T/t2.db" cb import "$T/trunc.xlsx" 2>&1 || true)
check "a broken sheet is located in the sheet part" grep -q "sheet1.xml' line [0-9]*, column [0-9]*" <(DB="$T/t3.db" cb import "$T/badxml.xlsx" 2>&1 || true)
check "a bad shared-string index names the cell" grep -q "cell B2: shared string index" <(DB="$T/t4.db" cb import "$T/badsst.xlsx" 2>&1 || true)

finish
