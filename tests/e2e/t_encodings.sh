#!/usr/bin/env bash
# The same content in UTF-8 and in GB18030 gives the same database, byte for
# byte (records, warnings, rejects and their issues, hospitals,
# departments), with the encoding detected; also across the reader's 1 MiB
# read boundaries, and for a GB18030 file that is pure ASCII for its first
# megabytes. A GB18030 file forced as UTF-8 fails with its line and column;
# a UTF-8 file with a byte-order mark imports.
. "$(dirname "$0")/lib.sh"

gen --records 2000 --seed 31 --errors 0.05 --out "$T/u.csv"
gen --records 2000 --seed 31 --errors 0.05 --encoding gb18030 --out "$T/g.csv"
py "$T/g.csv" "$T/u.csv" <<'EOF'
import sys
from e2e_lib import *
g = open(sys.argv[1], "rb").read()
u = open(sys.argv[2], "rb").read()
eq("generate --encoding gb18030 writes the same text", g.decode("gb18030"), u.decode("utf-8"))
try:
    g.decode("utf-8")
    ok("the GB18030 file is not valid UTF-8", False)
except UnicodeDecodeError:
    ok("the GB18030 file is not valid UTF-8", True)
EOF

for e in u g; do
  DB="$T/$e.db" cb import --json "$T/$e.csv" >"$T/$e.json"
done
eq "UTF-8 detected" "$(summary "$T/u.json" encoding)" utf-8
eq "GB18030 detected" "$(summary "$T/g.json" encoding)" gb18030
eq "same counts" "$(summary "$T/u.json" read)/$(summary "$T/u.json" accepted)/$(summary "$T/u.json" rejected)" \
   "$(summary "$T/g.json" read)/$(summary "$T/g.json" accepted)/$(summary "$T/g.json" rejected)"
check "there are rejects and warnings to compare" test "$(sql 'SELECT count(*) FROM reject' "$T/g.db")" -gt 20 \
   -a "$(sql 'SELECT count(*) FROM record_warning' "$T/g.db")" -gt 5
same_content "UTF-8 and GB18030 imports hold identical content" "$T/u.db" "$T/g.db"
eq "Chinese names are stored as UTF-8 text" \
   "$(sql "SELECT count(*) FROM hospital WHERE length(CAST(name AS BLOB)) > 2 * length(name)" "$T/g.db")" \
   "$(sql 'SELECT count(*) FROM hospital' "$T/u.db")"

# Multi-byte characters split by the reader's 1 MiB reads (src/io/reader.c
# reads 1 MiB at a time and decodes GB18030 with iconv): a 4-byte character
# starts 1 byte before 1 MiB and 3 bytes before 2 MiB, in each encoding;
# and a GB18030 file whose first 1.3 MB are ASCII (detection must switch
# to GB18030 when the first non-ASCII byte comes).
py "$T/u.csv" "$T" <<'EOF'
import sys
from e2e_lib import *
h, rows = read_rows(sys.argv[1])
col = {k: i for i, k in enumerate(h)}
out = sys.argv[2]
CH = "\U00020000"                        # 4 bytes in UTF-8 and in GB18030

def encoded(rows, enc):
    import io, csv
    s = io.StringIO()
    w = csv.writer(s, lineterminator="\n")
    w.writerow(h)
    for r in rows:
        w.writerow(r)
    return s.getvalue().encode(enc)

def line(r):
    import io, csv
    s = io.StringIO()
    csv.writer(s, lineterminator="\n").writerow(r)
    return s.getvalue()

def field_start(rs, enc, c, limit):
    # the last row whose field c starts at or before byte offset limit, and
    # that offset
    off = len(line(h).encode(enc))
    best = None
    for i, r in enumerate(rs):
        p = off + len(line(r[:c]).encode(enc))   # "a,b\n": its newline counts for the comma
        if p > limit:
            break
        best = (i, p)
        off += len(line(r).encode(enc))
    return best

for enc in ("utf-8", "gb18030"):
    rs = [list(r) for _, r in rows]
    for boundary, split in ((1 << 20, 1), (2 << 20, 3)):
        c = col["A22"]                   # CSD, place of birth: free text
        ri, p = field_start(rs, enc, c, boundary - split)
        pad = boundary - split - p
        # pad earlier rows' employer field (GZDWJDZ) with ASCII, <= 60 each
        j = ri - 1
        while pad > 0:
            n = min(pad, 60)
            rs[j][col["A29"]] += "x" * n
            pad -= n
            j -= 1
        rs[ri][c] = CH + rs[ri][c]
        data = encoded(rs, enc)
        at = boundary - split
        ok("%s: the 4-byte character straddles %d" % (enc, boundary),
           data[at:at + 4] == CH.encode(enc), data[at - 4:at + 8])
    tag = "sp8" if enc == "utf-8" else "spgb"
    open("%s/%s.csv" % (out, tag), "wb").write(encoded(rs, enc))
    open("%s/%s-u.csv" % (out, tag), "wb").write(encoded(rs, "utf-8"))

# ASCII first: the first 900 rows have no non-ASCII character
rs = [list(r) for _, r in rows]
for r in rs[:900]:
    for k, v in enumerate(r):
        r[k] = "".join(ch if ord(ch) < 128 else "Z" for ch in v)
data = encoded(rs, "gb18030")
first = next(i for i, b in enumerate(data) if b >= 128)
ok("the ASCII-first file is ASCII for more than 1 MiB", first > (1 << 20), first)
open(out + "/asc.csv", "wb").write(data)
open(out + "/asc-u.csv", "wb").write(encoded(rs, "utf-8"))
EOF
for f in sp8 spgb asc; do
  DB="$T/$f.db" run cb import --json "$T/$f.csv" >"$T/$f.json"
  eq "$f: imports" "$RC" 0
  DB="$T/$f-u.db" cb import "$T/$f-u.csv"
  same_content "$f: same content as the same text in UTF-8" "$T/$f-u.db" "$T/$f.db"
done
eq "the straddling GB18030 file is detected as GB18030" "$(summary "$T/spgb.json" encoding)" gb18030
# Regression (found by this suite, fixed in f3dade2): it was reported as
# utf-8 although decoded as GB18030.
eq "the ASCII-first GB18030 file is reported as GB18030" "$(summary "$T/asc.json" encoding)" gb18030
eq "and recorded so" "$(sql "SELECT encoding FROM import_file" "$T/asc.db")" gb18030
for f in sp8 spgb; do
  eq "$f: the split characters are stored whole" "$(cbsql "SELECT (SELECT count(*) FROM record WHERE json_extract(fp_data(data), '\$.CSD') LIKE '𠀀%') + (SELECT count(*) FROM reject WHERE raw LIKE '%,𠀀%')" "$T/$f.db")" 2
done

# A GB18030 file forced as UTF-8: a located error, nothing stored.
read -r eline ecol < <(python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = next(k for k, b in enumerate(d) if b >= 128)
print(d[:i].count(b"\n") + 1, i - (d.rfind(b"\n", 0, i) + 1) + 1)' "$T/g.csv")
DB="$T/forced.db" run cb import --encoding utf-8 "$T/g.csv" 2>"$T/err"
exit1 "GB18030 forced as UTF-8 fails with status 1" "$RC"
check "the message names the file, line and column of the first bad byte" \
  grep -qF "g.csv: line $eline, column $ecol" "$T/err"
check "and says what was expected" grep -q 'expected UTF-8' "$T/err"
eq "nothing is stored" "$(sql 'SELECT count(*) FROM record' "$T/forced.db")" 0
integrity "the database is sound" "$T/forced.db"
run "$CAREBASE" --quiet check --encoding utf-8 "$T/g.csv" 2>"$T/err2" >/dev/null
exit1 "check: the same failure" "$RC"
check "check: the same message" grep -qF "g.csv: line $eline, column $ecol" "$T/err2"

# Forced GB18030 on the GB18030 file is the same as detected.
DB="$T/forcedgb.db" cb import --encoding gb18030 "$T/g.csv"
same_content "--encoding gb18030 gives the same content as detection" "$T/g.db" "$T/forcedgb.db"

# A UTF-8 file with a byte-order mark.
{ printf '\xef\xbb\xbf'; cat "$T/u.csv"; } >"$T/bom.csv"
DB="$T/bom.db" run cb import --json "$T/bom.csv" >"$T/bom.json"
eq "a UTF-8 file with a BOM imports" "$RC" 0
eq "as UTF-8" "$(summary "$T/bom.json" encoding)" utf-8
eq "with the right profile (the BOM is not part of the first column name)" "$(summary "$T/bom.json" profile)" western
same_content "a BOM changes nothing in the content" "$T/u.db" "$T/bom.db"

finish
