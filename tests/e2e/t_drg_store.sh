#!/usr/bin/env bash
# DRG results in the store: an import groups every accepted record (one
# drg_result each, none for rejected rows), unmapped codes are reported
# with the record, the summary counts per status; a regional scheme from a
# date takes over the records of that region after the date on regroup;
# a new version of a scheme replaces the old one where it applied; removing
# a use and regrouping goes back; re-importing changes nothing; a broken
# package is refused naming the file.
. "$(dirname "$0")/lib.sh"

CHS="$CB_SHARED/data/chs-drg-1.1"
BJ="$CB_SHARED/data/bj-drg-2022"
# Every run of carebase here uses the default package from the environment.
export CAREBASE_SCHEME="$CHS"

gen --records 3000 --seed 11 --errors 0.03 --out "$T/g.csv" --orgs "$T/o.tsv"
check "generate wrote the file and the directory" test -s "$T/g.csv" -a -s "$T/o.tsv"

# Codes of the national clinical edition that the scheme's map lacks: a
# secondary diagnosis (A01.000x003) in 6 rows, a procedure (12.9902) in 6
# others. Their lines go to $T/inj (kind line).
py "$T/g.csv" "$T/inj" <<'EOF'
import sys
from e2e_lib import *
path, out = sys.argv[1:3]
h, rows = read_rows(path)
dx, px = h.index("C06x01C"), h.index("C14x01C")
inj, ndx, npx = [], 0, 0
for l, r in rows:
    if l % 7 == 0 and r[dx] and ndx < 6:
        r[dx] = "A01.000x003"; ndx += 1; inj.append("dx %d" % l)
    elif l % 11 == 0 and r[px] and npx < 6:
        r[px] = "12.9902"; npx += 1; inj.append("px %d" % l)
write_rows(path, h, [r for l, r in rows])
open(out, "w").write("\n".join(inj) + "\n")
eq("codes were injected", (ndx, npx), (6, 6))
EOF

# ---- import groups ---------------------------------------------------------
run cb import --json "$T/g.csv" >"$T/s.json" 2>"$T/err"
eq "import exits 0" "$RC" 0
acc=$(summary "$T/s.json" accepted)
rej=$(summary "$T/s.json" rejected)
check "some rows are rejected" test "$rej" -gt 20
eq "the default scheme was installed for everywhere" \
   "$(sql "SELECT s.scheme, u.region_id IS NULL, u.valid_from IS NULL, u.valid_to IS NULL
           FROM drg_scheme_use u JOIN drg_scheme s ON s.id = u.scheme_id")" "chs-drg-1.1|1|1|1"
eq "every accepted record has a result" "$(sql 'SELECT count(*) FROM drg_result')" "$acc"
eq "every record has exactly one result" \
   "$(sql 'SELECT count(*) FROM record r WHERE (SELECT count(*) FROM drg_result d WHERE d.record_id = r.id) != 1')" 0
eq "every result belongs to a stored record" \
   "$(sql 'SELECT count(*) FROM drg_result d LEFT JOIN record r ON r.id = d.record_id WHERE r.id IS NULL')" 0
# A rejected row's key is not a stored record (except a duplicate of an
# accepted one, QC-ID-02), so it has no result.
eq "no rejected row has a result" \
   "$(sql "SELECT count(*) FROM reject j JOIN hospital h ON h.zzjgdm = j.zzjgdm
           JOIN record r ON r.hospital_id = h.id AND r.bah = j.bah AND CAST(r.zycs AS TEXT) = j.zycs
           JOIN drg_result d ON d.record_id = r.id
           WHERE NOT EXISTS (SELECT 1 FROM reject_issue i WHERE i.reject_id = j.id AND i.rule = 'QC-ID-02')")" 0
eq "statuses are known ones" \
   "$(sql "SELECT count(*) FROM drg_result WHERE status NOT IN ('SUCCESS','FAIL','QY','CHECK_FAILED','ZD_NOT_MAPPING','SS_NOT_MAPPING')")" 0
succ=$(sql "SELECT count(*) FROM drg_result WHERE status = 'SUCCESS'")
check "most records group (SUCCESS $succ of $acc)" test $((succ * 100)) -ge $((acc * 80))
eq "a SUCCESS has its MDC, ADRG and DRG" \
   "$(sql "SELECT count(*) FROM drg_result WHERE status = 'SUCCESS' AND NOT (mdc LIKE 'MDC_'
           AND length(adrg) = 3 AND substr(drg, 1, 3) = adrg AND substr(mdc, 4) = substr(adrg, 1, 1))")" 0
eq "unmapped is set exactly for *_NOT_MAPPING" \
   "$(sql "SELECT count(*) FROM drg_result WHERE (unmapped IS NOT NULL) != (status IN ('ZD_NOT_MAPPING','SS_NOT_MAPPING'))")" 0
eq "each result records its choice and time" \
   "$(sql "SELECT count(*) FROM drg_result WHERE choice = 'default' AND grouped_at LIKE '20__-__-__T__:__:__Z' AND scheme_id = 1")" "$acc"

# The injected codes: every accepted row that carries one is reported.
py "$DB" "$T/inj" <<'EOF'
import sys
from e2e_lib import *
c = db(sys.argv[1])
inj = [l.split() for l in open(sys.argv[2]) if l.strip()]
got = {}
for kind, line in inj:
    r = c.execute("SELECT d.status, d.unmapped FROM record r JOIN drg_result d ON d.record_id = r.id"
                  " WHERE r.line = ?", (int(line),)).fetchone()
    if r:
        got[(kind, line)] = r
want = {k: ("ZD_NOT_MAPPING", "dx:A01.000x003") if k[0] == "dx" else ("SS_NOT_MAPPING", "px:12.9902")
        for k in got}
eq("accepted rows with an unmappable code are reported with it", got, want)
ok("some of them were accepted (dx %d, px %d)" % (sum(k[0] == "dx" for k in got), sum(k[0] == "px" for k in got)),
   any(k[0] == "dx" for k in got) and any(k[0] == "px" for k in got))
eq("nothing else is unmapped", one(c, "SELECT count(*) FROM drg_result WHERE unmapped IS NOT NULL"), len(got))
EOF

# The summary counts per status and names the scheme.
py "$DB" "$T/s.json" <<'EOF'
import json, sys
from e2e_lib import *
c = db(sys.argv[1])
f = json.load(open(sys.argv[2]))["files"][0]
d = f["drg"]
eq("summary: grouped = accepted", d["grouped"], f["accepted"])
eq("summary: per-status counts = the database's", d["status"],
   {k: one(c, "SELECT count(*) FROM drg_result WHERE status = ?", k)
    for k in ("SUCCESS", "FAIL", "QY", "CHECK_FAILED", "ZD_NOT_MAPPING", "SS_NOT_MAPPING")})
eq("summary: the scheme used", [(s["id"], s["scheme"], s["records"]) for s in d["schemes"]],
   [(1, "chs-drg-1.1", f["accepted"])])
EOF
# Importing again (nothing changes) prints the text summary with its DRG line.
"$CAREBASE" --db "$DB" import "$T/g.csv" 2>"$T/err" >/dev/null
check "the text summary has a DRG line" grep -q "DRG: $acc grouped with chs-drg-1.1 #1" "$T/err"
check "and the counts per status" grep -q "SUCCESS $succ" "$T/err"

# Without translation nothing is unmapped (the codes are grouped as they are).
run "$CAREBASE" --db "$T/nt.db" --quiet import --no-translate "$T/g.csv"
eq "import --no-translate exits 0" "$RC" 0
eq "--no-translate: nothing is unmapped" \
   "$(sql "SELECT count(*) FROM drg_result WHERE unmapped IS NOT NULL OR status LIKE '%NOT_MAPPING'" "$T/nt.db")" 0
eq "--no-translate: every record still has a result" "$(sql 'SELECT count(*) FROM drg_result' "$T/nt.db")" "$acc"
run "$CAREBASE" --db "$T/ng.db" --quiet import --no-group "$T/g.csv"
eq "--no-group: records without results" \
   "$(sql 'SELECT count(*) FROM record' "$T/ng.db")|$(sql 'SELECT count(*) FROM drg_result' "$T/ng.db")" "$acc|0"

# ---- regroup ---------------------------------------------------------------
results() { sql "SELECT record_id, scheme_id, status, mdc, adrg, drg, mcc, cc, unmapped, choice
                 FROM drg_result ORDER BY record_id" "${1:-$DB}"; }
results >"$T/r0"
run cb regroup --json >/dev/null
eq "regroup exits 0" "$RC" 0
results >"$T/r1"
check "regroup with nothing changed gives the import's results (stored records decode whole)" \
  cmp -s "$T/r0" "$T/r1"

cb org load "$T/o.tsv" 2>/dev/null
hub=$(sed -n 2p "$T/o.tsv" | cut -f1)
dist=$(sed -n 3p "$T/o.tsv" | cut -f1)
cb org add region BJ 北京
cb org join BJ "$hub" "$dist"
run cb scheme install "$BJ" --region 北京 --from 2025-01-01
eq "scheme install exits 0" "$RC" 0
cb scheme list --format json >"$T/l.json"
eq "scheme list shows both schemes and their uses" \
   "$(json "$T/l.json" "[(r['use'], r['scheme'], r['region'], r['valid_from'], r['valid_to']) for r in j['schemes']]")" \
   "[('1', 'chs-drg-1.1', None, None, None), ('2', 'bj-drg-2022', 'BJ', '2025-01-01', None)]"
# Re-importing the same file: the records are unchanged, and their results
# follow the new choice (a new scheme regroups on re-import).
# (rejected rows are stored again by each import: compare the records)
dump_content "$DB" | grep -v "^'reject'\|^'issue'" >"$T/c2"
run cb import --json "$T/g.csv" >"$T/s2.json"
eq "re-import exits 0" "$RC" 0
eq "re-import: every accepted record is unchanged" "$(summary "$T/s2.json" unchanged)" "$acc"
dump_content "$DB" | grep -v "^'reject'\|^'issue'" >"$T/c3"
check "re-import leaves the records as they were" cmp -s "$T/c2" "$T/c3"
# 2025-01-01 is day 20089.
region_after="r.hospital_id IN (SELECT m.hospital_id FROM org_member m JOIN org_group g ON g.id = m.group_id
               WHERE g.code = 'BJ') AND r.cy_day >= 20089"
nbj=$(sql "SELECT count(*) FROM record r WHERE $region_after")
check "some records are of the region after the date ($nbj)" test "$nbj" -gt 100
check "the region has records before the date too" \
  test "$(sql "SELECT count(*) FROM record r WHERE r.hospital_id IN (SELECT m.hospital_id FROM org_member m
              JOIN org_group g ON g.id = m.group_id WHERE g.code = 'BJ') AND r.cy_day < 20089")" -gt 100
by_choice() {
  eq "$1: the region's records after the date carry bj-drg-2022" \
     "$(sql "SELECT count(*) FROM record r JOIN drg_result d ON d.record_id = r.id
             JOIN drg_scheme s ON s.id = d.scheme_id WHERE $region_after
             AND s.scheme = 'bj-drg-2022' AND d.choice = 'region 北京 2025-01-01..'")" "$nbj"
  eq "$1: every other record keeps chs-drg-1.1" \
     "$(sql "SELECT count(*) FROM record r JOIN drg_result d ON d.record_id = r.id
             JOIN drg_scheme s ON s.id = d.scheme_id WHERE NOT ($region_after)
             AND s.scheme = 'chs-drg-1.1' AND d.choice = 'default'")" "$((acc - nbj))"
}
by_choice "re-import"
eq "re-import: the summary names both schemes" \
   "$(json "$T/s2.json" "sorted((s['scheme'], s['records']) for s in j['files'][0]['drg']['schemes'])")" \
   "[('bj-drg-2022', $nbj), ('chs-drg-1.1', $((acc - nbj)))]"
results >"$T/r2"

# Regroup agrees with the re-import.
run cb regroup --json >"$T/rg.json"
eq "regroup exits 0" "$RC" 0
eq "regroup looks at every record" "$(json "$T/rg.json" "j['records']")" "$acc"
eq "regroup groups every record" "$(json "$T/rg.json" "j['grouped']")" "$acc"
by_choice "regroup"
results >"$T/r3"
check "regroup gives the re-import's results" cmp -s "$T/r2" "$T/r3"
eq "scheme list counts the results of each scheme" \
   "$(cb scheme list --format csv | cut -d, -f3,10 | tail -n +2 | tr '\n' ' ')" \
   "chs-drg-1.1,$((acc - nbj)) bj-drg-2022,$nbj "
# Regrouping again, or importing again, changes nothing.
cb regroup
cb import "$T/g.csv"
results >"$T/r4"
check "regroup and import again leave the results as they were" cmp -s "$T/r3" "$T/r4"

# A new version of chs (another manifest digest): regroup --scheme puts it
# in place of the old one and regroups only the records chosen for it.
cp -r "$CHS" "$T/chs2"
chmod -R u+w "$T/chs2"
printf '\n' >>"$T/chs2/manifest.json"
run cb regroup --scheme "$T/chs2" --json >"$T/rg2.json"
eq "regroup --scheme exits 0" "$RC" 0
eq "the new version is a third scheme row, the old one keeps no use" \
   "$(sql "SELECT count(*) FROM drg_scheme")|$(sql "SELECT group_concat(scheme_id) FROM (SELECT scheme_id FROM drg_scheme_use ORDER BY id)")" "3|3,2"
eq "regroup --scheme regroups the records chosen for it, leaves the others" \
   "$(json "$T/rg2.json" "(j['grouped'], j['skipped'], j['scheme_id'])")" "($((acc - nbj)), $nbj, 3)"
eq "the old version has no results left" "$(sql 'SELECT count(*) FROM drg_result WHERE scheme_id = 1')" 0
eq "the regional results stay" "$(sql 'SELECT count(*) FROM drg_result WHERE scheme_id = 2')" "$nbj"
eq "the same package groups the same" \
   "$(results | sed 's/^\([0-9]*\)|3|/\1|1|/' | md5sum)" "$(md5sum <"$T/r3")"

# Removing the regional use and regrouping goes back to chs everywhere.
run cb scheme remove 2
eq "scheme remove exits 0" "$RC" 0
run cb scheme remove 2
exit1 "removing it again fails" "$RC"
cb regroup
eq "after removing the region's use, every record is on chs again" \
   "$(sql "SELECT count(*) FROM drg_result WHERE scheme_id = 3 AND choice = 'default'")" "$acc"
eq "with the same results as at first" "$(results | sed 's/^\([0-9]*\)|3|/\1|1|/' | md5sum)" "$(md5sum <"$T/r0")"

# ---- refusals --------------------------------------------------------------
cp -r "$CHS" "$T/broken"
chmod -R u+w "$T/broken"
printf 'XX\tbogus\n' >>"$T/broken/lists.tsv"
run cb scheme install "$T/broken"
exit1 "scheme install of a broken package exits 1" "$RC"
cb scheme install "$T/broken" 2>"$T/err" || true
check "the message names lists.tsv" grep -q "lists.tsv" "$T/err"
eq "nothing was installed" "$(sql 'SELECT count(*) FROM drg_scheme')" 3
run "$CAREBASE" --db "$T/b.db" --scheme "$T/broken" --quiet import "$T/g.csv"
exit1 "import with a broken default package exits 1" "$RC"
"$CAREBASE" --db "$T/b.db" --scheme "$T/broken" --quiet import "$T/g.csv" 2>"$T/err" || true
check "and says why (lists.tsv)" grep -q "lists.tsv" "$T/err"
# (an unknown region is refused too: tests/unit/test_store.c)
run cb scheme install "$BJ" --from 2025-13-01
eq "a bad date is a usage error" "$RC" 2
run cb scheme install "$BJ" --from 2025-02-01 --to 2025-01-01
eq "an empty date range is a usage error" "$RC" 2
run cb scheme remove x
eq "a use id that is not a number is a usage error" "$RC" 2

integrity "the database is intact"
finish
