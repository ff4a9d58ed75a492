#!/usr/bin/env bash
# carebase group: both golden sets reproduce expected.csv exactly (one
# thread, two threads, standard input); --format json is one object per
# line with the documented fields; --explain says why a known record got
# its MDC, ADRG and DRG, in Chinese and English; a malformed golden line
# and a broken scheme fail with 1; a generated front-page file gives one
# result per accepted record, in order, indexed by BAH.
. "$(dirname "$0")/lib.sh"

CHS="$CB_SHARED/data/chs-drg-1.1"
BJ="$CB_SHARED/data/bj-drg-2022"

# same DESCRIPTION FILE WANT: FILE equals WANT byte for byte (the first
# differing lines are shown on failure).
same() {
  if cmp -s "$2" "$3"; then pass "$1"; else
    fail "$1: $(diff "$2" "$3" | grep -c '^[<>]') differing lines"
    diff "$2" "$3" | head -6 | sed 's/^/    /'
  fi
}

# ---- the golden sets ----
for s in "$CHS" "$BJ"; do
  n=$(basename "$s")
  run cb group --scheme "$s" "$s/golden/records.csv" >"$T/$n.csv"
  eq "$n: exit 0" "$RC" 0
  same "$n: golden/records.csv gives golden/expected.csv exactly" "$T/$n.csv" "$s/golden/expected.csv"
  cb group --scheme "$s" --threads 2 "$s/golden/records.csv" >"$T/$n.t2.csv"
  same "$n: the same with --threads 2" "$T/$n.t2.csv" "$s/golden/expected.csv"
  cb group --scheme "$s" - <"$s/golden/records.csv" >"$T/$n.in.csv"
  same "$n: the same from standard input ('-')" "$T/$n.in.csv" "$s/golden/expected.csv"
done
cat "$CHS/golden/records.csv" | cb group --threads 3 >"$T/default.csv"
same "no FILE reads standard input; the default scheme is chs-drg-1.1" "$T/default.csv" "$CHS/golden/expected.csv"
"$CAREBASE" --scheme "$BJ" --quiet group "$BJ/golden/records.csv" >"$T/global.csv"
same "the global --scheme chooses the package" "$T/global.csv" "$BJ/golden/expected.csv"

# The summary on stderr.
"$CAREBASE" group "$CHS/golden/records.csv" 2>"$T/sum" >/dev/null
check "the summary counts the records" grep -q '^group: 20002 records in .* records/s' "$T/sum"
check "and each status" grep -q 'SUCCESS [0-9]*, FAIL [0-9]*, QY 0, CHECK_FAILED [0-9]*' "$T/sum"
"$CAREBASE" --quiet group "$CHS/golden/records.csv" 2>"$T/sum" >/dev/null
eq "--quiet: no summary" "$(wc -c <"$T/sum")" 0

# ---- JSON ----
cb group --format json --threads 2 "$CHS/golden/records.csv" >"$T/g.json"
py "$T/g.json" "$CHS/golden/expected.csv" <<'EOF'
import json, sys
from e2e_lib import *
def main():
    objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
    exp = [l.rstrip("\n").split(",") for l in open(sys.argv[2], encoding="utf-8")][1:]
    eq("json: one object per record", len(objs), len(exp))
    keys = {"line", "index", "status", "status_zh", "mdc", "adrg", "drg", "drg_name",
            "mcc", "cc", "unmapped"}
    eq("json: the documented fields", [sorted(o) for o in objs if set(o) != keys][:1], [])
    eq("json: index, status, mdc, adrg, drg as expected.csv",
       [o["line"] for o, e in zip(objs, exp)
        if [o["index"], o["status"], o["mdc"], o["adrg"], o["drg"]] != e][:5], [])
    eq("json: line numbers (the header is line 1)", [o["line"] for o in objs[:3]], [2, 3, 4])
    eq("json: status_zh", sorted({(o["status"], o["status_zh"]) for o in objs}),
       [("CHECK_FAILED", "信息校验不通过"), ("FAIL", "无法入组"), ("SUCCESS", "分组成功")])
    ok("json: mcc and cc are booleans, unmapped null (translation off)",
       all(isinstance(o["mcc"], bool) and isinstance(o["cc"], bool) and o["unmapped"] is None
           for o in objs))
    ok("json: a DRG name for every 4-character DRG",
       all(o["drg_name"] for o in objs if o["status"] == "SUCCESS" and len(o["drg"]) == 4))
    eq("json: no name for FAIL", {o["drg_name"] for o in objs if o["status"] == "FAIL"}, {None})
    ok("json: records with an MCC and records with only a CC",
       any(o["mcc"] for o in objs) and any(o["cc"] and not o["mcc"] for o in objs))
run_checks(main)
EOF

# ---- --explain: record 1 of chs-drg-1.1 is SUCCESS MDCI / IJ1 / IJ13 ----
head -4 "$CHS/golden/records.csv" >"$T/few.csv"
eq "the known record" "$(sed -n 2p "$CHS/golden/expected.csv")" "1,SUCCESS,MDCI,IJ1,IJ13"
cb group --explain "$T/few.csv" >"$T/ex.txt"
cb group --explain --lang zh "$T/few.csv" >"$T/ex.zh"
cb group --explain --lang en "$T/few.csv" >"$T/ex.en"
cb group --explain --format json "$T/few.csv" >"$T/ex.json"
py "$T/ex.txt" "$T/ex.zh" "$T/ex.en" "$T/ex.json" "$CHS/golden/expected.csv" <<'EOF'
import json, re, sys
from e2e_lib import *
def blocks(path):
    """record line -> its indented trace text"""
    out, cur = {}, None
    for l in open(path, encoding="utf-8"):
        l = l.rstrip("\n")
        if l.startswith(" "):
            out[cur].append(l)
        elif l != "index,status,mdc,adrg,drg":
            cur = l
            out[cur] = []
    return {k: "\n".join(v) for k, v in out.items()}
def main():
    both, zh, en = blocks(sys.argv[1]), blocks(sys.argv[2]), blocks(sys.argv[3])
    exp = [l.rstrip("\n") for l in open(sys.argv[5], encoding="utf-8")][1:4]
    eq("explain: the csv lines are the expected ones", list(both), exp)
    eq("explain: every record has a trace", [k for k, v in both.items() if not v], [])
    ok("explain: indented", all(l.startswith("    ") for v in both.values() for l in v.split("\n")))
    k = "1,SUCCESS,MDCI,IJ1,IJ13"
    for lang, t in (("zh", zh[k]), ("en", en[k])):
        ok("explain %s: names the MDC MDCI, entered" % lang,
           re.search(r"MDCI (进入|entered)", t), t[:200])
        ok("explain %s: names the ADRG rule IJ1 that matched" % lang,
           re.search(r"IJ1.*(匹配|matched)", t), t[:200])
        ok("explain %s: names the DRG split IJ13" % lang, "IJ13" in t)
        ok("explain %s: the CC secondary E16.300x001" % lang, "E16.300x001" in t)
    ok("explain zh: in Chinese", "主要诊断" in zh[k] and "principal" not in zh[k])
    ok("explain en: in English", "principal" in en[k] and "主要诊断" not in en[k])
    ok("explain: both languages by default", both[k] == zh[k] + "\n" + en[k])
    o = json.loads(open(sys.argv[4], encoding="utf-8").readline())
    t = o.get("trace", {})
    eq("explain json: the MDC entered with the rule", [(m["mdc"], m.get("rule", {}).get("id"))
       for m in t.get("mdcs", []) if m.get("rule")], [("MDCI", "IJ1")])
    eq("explain json: the split taken", [s["drg"] for s in t.get("splits", []) if s["held"]], ["IJ13"])
run_checks(main)
EOF

# ---- errors ----
{ head -5 "$CHS/golden/records.csv"; echo '9,1,40,,,,,1,A00.000'; tail -n 2 "$CHS/golden/records.csv"; } >"$T/bad.csv"
run cb group "$T/bad.csv" >"$T/bad.out" 2>"$T/err"
exit1 "a golden line with 9 fields fails" "$RC"
check "naming the file and line" grep -q 'bad.csv:6: expected 10 fields, got 9' "$T/err"
eq "after the records before it" "$(cat "$T/bad.out")" "$(head -5 "$CHS/golden/expected.csv")"
{ head -12001 "$CHS/golden/records.csv"; echo 'a,b,c,d,e,f,g,h,i,j,k'; tail -n +12002 "$CHS/golden/records.csv"; } >"$T/bad2.csv"
run cb group --threads 2 "$T/bad2.csv" >"$T/bad2.out" 2>"$T/err"
exit1 "a golden line with 11 fields fails with --threads 2" "$RC"
check "naming the line" grep -q 'bad2.csv:12002: expected 10 fields, got 11' "$T/err"
same "the output stops just before it" "$T/bad2.out" <(head -12001 "$CHS/golden/expected.csv")
run cb group --scheme "$T/nosuch" "$T/few.csv" 2>"$T/err" >/dev/null
exit1 "a missing scheme directory fails" "$RC"
mkdir "$T/broken"
cp -r "$CHS"/. "$T/broken/"
sed -i '0,/MDCA/s/MDCA/MDCQ/' "$T/broken/rules.json"
run cb group --scheme "$T/broken" "$T/few.csv" 2>"$T/err" >/dev/null
exit1 "a damaged scheme fails" "$RC"
check "with the loader's message naming the file" grep -q "cannot load scheme.*rules.json" "$T/err"
run cb group "$T/missing.csv" 2>"$T/err"
exit1 "a missing input fails" "$RC"
check "and names it" grep -q 'missing.csv' "$T/err"
run cb group --bogus "$T/few.csv" 2>/dev/null
eq "an unknown option is a usage error" "$RC" 2
run cb group --format xml "$T/few.csv" 2>/dev/null
eq "an unknown format is a usage error" "$RC" 2
run cb group --threads x "$T/few.csv" 2>/dev/null
eq "a bad thread count is a usage error" "$RC" 2
run cb group "$T/few.csv" "$T/few.csv" 2>/dev/null
eq "two files are a usage error" "$RC" 2
check "help group documents every option" bash -c \
  'h=$("$0" help group); for o in --scheme --format --wide --explain --lang --translate --threads --quiet --profile --aliases --encoding --input-format --hospital --hospital-name; do grep -q -- "$o" <<<"$h" || exit 1; done' "$CAREBASE"

# ---- front pages ----
gen --records 2000 --seed 91 --out "$T/fp.csv"
run cb group "$T/fp.csv" >"$T/fp.out"
eq "front pages: exit 0" "$RC" 0
cb group --threads 2 "$T/fp.csv" >"$T/fp.t2.out"
same "front pages: the same with --threads 2" "$T/fp.t2.out" "$T/fp.out"
cb group <"$T/fp.csv" >"$T/fp.in.out"
same "front pages: the same from standard input" "$T/fp.in.out" "$T/fp.out"
cb group <(cat "$T/fp.csv") >"$T/fp.pipe.out"
same "front pages: the same from a pipe given as FILE" "$T/fp.pipe.out" "$T/fp.out"
py "$T/fp.csv" "$T/fp.xlsx" "$T/fp.300.csv" <<'EOF'
import sys
from e2e_lib import *
h, rows = read_rows(sys.argv[1])
csv_to_xlsx([h] + [r for _, r in rows[:300]], sys.argv[2])
write_rows(sys.argv[3], h, [r for _, r in rows[:300]])
EOF
cb group "$T/fp.300.csv" >"$T/fp.300.out"
cb group "$T/fp.xlsx" >"$T/fp.xlsx.out"
same "front pages: xlsx gives the same as csv" "$T/fp.xlsx.out" "$T/fp.300.out"
cb group - <"$T/fp.xlsx" >"$T/fp.xlsx.in.out"
same "front pages: xlsx from standard input" "$T/fp.xlsx.in.out" "$T/fp.300.out"
cb group --wide --format json "$T/fp.csv" >"$T/fp.json"
cb group --wide "$T/fp.csv" >"$T/fp.wide"
eq "--wide: the extra columns" "$(head -1 "$T/fp.wide")" "index,status,mdc,adrg,drg,mcc,cc,unmapped"
cb check --report json "$T/fp.csv" >"$T/fp.check"
py "$T/fp.csv" "$T/fp.out" "$T/fp.check" "$T/fp.json" "$T/fp.wide" <<'EOF'
import csv, json, sys
from e2e_lib import *
def main():
    h, rows = read_rows(sys.argv[1])
    out = list(csv.reader(open(sys.argv[2], encoding="utf-8", newline="")))
    check = json.load(open(sys.argv[3]))["files"][0]
    rejected = {r["line"] for r in check["records"] if any(i["severity"] == "E" for i in r["issues"])}
    eq("front pages: rejected as check says", len(rejected), check["summary"]["rejected"])
    accepted = [r for l, r in rows if l not in rejected]
    eq("front pages: the header", out[0], ["index", "status", "mdc", "adrg", "drg"])
    eq("front pages: one result per accepted record", len(out) - 1, len(accepted))
    bah = h.index("A48")
    eq("front pages: in order, indexed by BAH", [r[0] for r in out[1:]], [r[bah] for r in accepted])
    st = [r[1] for r in out[1:]]
    ok("front pages: only known statuses",
       set(st) <= {"SUCCESS", "FAIL", "QY", "CHECK_FAILED", "ZD_NOT_MAPPING", "SS_NOT_MAPPING"}, set(st))
    ok("front pages: mostly SUCCESS", st.count("SUCCESS") > 0.8 * len(st),
       {s: st.count(s) for s in set(st)})
    ok("front pages: SUCCESS rows have an MDC, an ADRG and a DRG of it",
       all(r[2] == "MDC" + r[4][0] and r[4].startswith(r[3]) for r in out[1:] if r[1] == "SUCCESS"))
    objs = [json.loads(l) for l in open(sys.argv[4], encoding="utf-8")]
    eq("front pages json: the same results", [[o["index"], o["status"], o["mdc"], o["adrg"], o["drg"]]
       for o in objs], out[1:])
    eq("front pages json: line is the file's line", [o["line"] for o in objs],
       [l for l, r in rows if l not in rejected])
    wide = list(csv.reader(open(sys.argv[5], encoding="utf-8", newline="")))[1:]
    eq("--wide: mcc and cc as in json", [(w[5], w[6]) for w in wide],
       [(str(int(o["mcc"])), str(int(o["cc"]))) for o in objs])
run_checks(main)
EOF
# Translation: a clinical 2.0 code (nhc-2019) that the scheme's map lacks
# stops grouping with ZD_NOT_MAPPING by default; with it off it is just a
# code no list holds.
py "$T/fp.csv" "$T/fp1.csv" <<'EOF'
import sys
from e2e_lib import *
h, rows = read_rows(sys.argv[1])
r = rows[0][1]
r[h.index("C03C")] = "A01.000x003"
write_rows(sys.argv[2], h, [r])
EOF
cb group --wide "$T/fp1.csv" >"$T/fp1.out"
eq "an unmappable principal: ZD_NOT_MAPPING, the code reported" \
   "$(tail -1 "$T/fp1.out" | cut -d, -f2,8)" "ZD_NOT_MAPPING,A01.000x003"
eq "with --translate off: FAIL" "$(cb group --translate off "$T/fp1.csv" | tail -1 | cut -d, -f2)" FAIL

finish
