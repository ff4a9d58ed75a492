#!/usr/bin/env bash
# carebase serve: lineage end to end. GET /api/cases (the cases behind an
# indicator value) against GET /api/indicators and `carebase cases`, paging,
# scope (hospitals, consortium, department), audit rows, bad parameters;
# GET /api/case (one case with its grouping trace) with identifiers masked
# unless the user is allowed them (carebase user add|set --show-identifiers).
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}

gen --hospitals 3 --records 3000 --seed 7 --errors 0.02 --out "$T/fp.csv" --orgs "$T/orgs.tsv"
cb org load "$T/orgs.tsv"
cb import "$T/fp.csv"
cb reference create --name r1 --min-risk-cases 5
H1=$(sed -n 2p "$T/orgs.tsv" | cut -f1)
H2=$(sed -n 3p "$T/orgs.tsv" | cut -f1)
G=$(sed -n 2p "$T/orgs.tsv" | cut -f4)
DEPT=$(sql "SELECT r.cykb FROM record r JOIN hospital h ON h.id = r.hospital_id
            WHERE h.zzjgdm = '$H1' GROUP BY r.cykb ORDER BY count(*) DESC LIMIT 1")

# ---- users; who may see identifiers ----
CAREBASE_PASSWORD=alice-pass-1 cb user add alice --role hospital_admin --scope "$H1"
CAREBASE_PASSWORD=bob-pass-12 cb user add bob --role consortium_admin --scope "$G"
CAREBASE_PASSWORD=dave-pass-12 cb user add dave --role department_viewer --scope "$H1" \
  --department "$DEPT"
CAREBASE_PASSWORD=ivy-pass-123 cb user add ivy --role hospital_admin --scope "$H1" \
  --show-identifiers
CAREBASE_PASSWORD=joe-pass-123 cb user add joe --role hospital_admin --scope "$H1"
eq "user add --show-identifiers is stored" \
  "$(sql "SELECT name || '=' || show_identifiers FROM user WHERE show_identifiers ORDER BY name")" "ivy=1"
cb user set joe --show-identifiers
eq "user set --show-identifiers" "$(sql "SELECT show_identifiers FROM user WHERE name = 'joe'")" 1
cb user set joe --no-show-identifiers
eq "user set --no-show-identifiers" "$(sql "SELECT show_identifiers FROM user WHERE name = 'joe'")" 0
run cb user set joe 2>/dev/null
eq "user set without a setting: usage" "$RC" 2
run cb user set nobody --show-identifiers 2>/dev/null
eq "user set of an unknown user: exit 1" "$RC" 1
out=$(cb user list --format csv)
check "user list shows who may see identifiers" grep -q '^4,ivy,hospital_admin,.*,1$' <<<"$out"

# ---- what the CLI lists, for the comparisons ----
cb cases --indicator fp.04 --numerator --hospital "$H1" --in 2025Q1 --format json > "$T/cli_fp04.json"
cb cases --indicator fp.cost --numerator --hospital "$H1" --in 2025 --format json > "$T/cli_cost.json"

cat > "$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
threads = 4
refresh = 0
EOF
"$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
wait_until $((60 * MULT)) \
  bash -c 'grep -q "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
if ! grep -q '^listening on' "$T/serve.out"; then
  fail "server started"; cat "$T/serve.err"; kill -KILL "$SPID" 2>/dev/null || true; finish; exit 1
fi
URL=$(sed -n 's/^listening on //p' "$T/serve.out")

py "$URL" "$T" "$H1" "$H2" "$G" "$DEPT" "$DB" "$CAREBASE" <<'PY'
import json, sqlite3, subprocess, sys, urllib.parse
from e2e_lib import ok
from api_client import Client

url, T, H1, H2, G, DEPT, DB, CB = sys.argv[1:9]
q = urllib.parse.quote
con = sqlite3.connect(DB)

def audits(action):
    return con.execute("SELECT count(*) FROM audit WHERE action = ?", (action,)).fetchone()[0]

# ---- authentication first ----
anon = Client(url)
for path in ("/api/cases?indicator=fp.04&side=numerator",
             f"/api/case?hospital={H1}&bah=1&zycs=1"):
    r = anon.get(path)
    ok(f"{path.split('?')[0]} without a session: 401 JSON", r.status == 401
       and r.body["error"]["code"] == "unauthenticated", (r.status, r.body))

alice, bob, dave, ivy = Client(url), Client(url), Client(url), Client(url)
for c, u, p in ((alice, "alice", "alice-pass-1"), (bob, "bob", "bob-pass-12"),
                (dave, "dave", "dave-pass-12"), (ivy, "ivy", "ivy-pass-123")):
    ok(f"login {u}", c.login(u, p).status == 200)
n_cases0, n_case0 = audits("read_cases"), audits("read_case")
good_cases = 0      # successful /api/cases requests, each audited

def cases(c, query):
    global good_cases
    r = c.get("/api/cases?" + query)
    if r.status == 200:
        good_cases += 1
    return r

def ind_row(c, query, **match):
    r = c.get("/api/indicators?" + query)
    rows = [x for x in r.body["rows"] if all(x[k] == v for k, v in match.items())]
    return rows[0] if len(rows) == 1 else None

# ---- the count is the indicator's numerator (and denominator) ----
ind = ind_row(alice, "by=hospital&period=quarter&in=2025Q1&ids=fp.04", hospital=H1)
r = cases(alice, "indicator=fp.04&side=numerator&in=2025Q1&limit=500")
ok("/api/cases: 200 with cases", r.status == 200 and r.body["cases"], r.status)
ok(f"/api/cases: count = numerator of /api/indicators ({ind and ind['numerator']})",
   ind and r.body["count"] == ind["numerator"] == len(r.body["cases"])
   and r.body["total"] == ind["numerator"], (r.body.get("count"), ind))
ok("/api/cases: the indicator's value alongside", ind and r.body["value"] == ind["value"]
   and r.body["numerator"] == ind["numerator"] and r.body["denominator"] == ind["denominator"],
   (r.body.get("value"), ind))
ok("/api/cases: the hospital's cases only", {x["hospital"] for x in r.body["cases"]} == {H1})
ok("/api/cases: no identifiers in a list", r.body["identifiers"] == "omitted"
   and not any(k in x for x in r.body["cases"] for k in ("xm", "sfzh", "XM", "SFZH")))
full = r.body["cases"]
cli = json.load(open(f"{T}/cli_fp04.json"))
ok("/api/cases lists the cases of `carebase cases` (same keys, same order)",
   [(x["hospital"], x["bah"], x["zycs"]) for x in full]
   == [(x["hospital"], x["bah"], x["zycs"]) for x in cli["cases"]], (len(full), len(cli["cases"])))
r = cases(alice, "indicator=fp.04&side=denominator&in=2025Q1&limit=1")
ok("/api/cases: denominator count = denominator", ind and r.status == 200
   and r.body["count"] == ind["denominator"] and len(r.body["cases"]) == 1, r.body.get("count"))
r = cases(alice, "indicator=4&side=numerator&in=2025Q1&limit=1")
ok("/api/cases: a national number names the indicator", r.status == 200
   and r.body["indicator"]["id"] == "fp.04" and r.body["count"] == len(full), r.status)

# Money: the total is the numerator in yuan; each contribution a case's cost.
ind = ind_row(alice, "by=hospital&period=year&in=2025&ids=fp.cost", hospital=H1)
r = cases(alice, "indicator=fp.cost&side=numerator&in=2025&limit=500")
cli = json.load(open(f"{T}/cli_cost.json"))
ok("/api/cases: a sum in yuan equals the numerator", ind and r.status == 200
   and r.body["contribution_unit"] == "yuan" and abs(r.body["total"] - ind["numerator"]) < 0.01
   and r.body["count"] == cli["count"] and abs(r.body["total"] - cli["total"]) < 0.01,
   (r.body.get("total"), ind and ind["numerator"], cli["total"]))
ok("/api/cases: contributions add up to the page", abs(sum(x["contribution"] for x in r.body["cases"])
   - (r.body["total"] if r.body["count"] <= 500 else sum(x["contribution"] for x in r.body["cases"]))) < 0.01)

# A real-valued sum: drg.cmi's numerator is the total weight.
ind = ind_row(alice, "by=hospital&period=year&in=2025&ids=drg.cmi", hospital=H1)
r = cases(alice, "indicator=drg.cmi&side=numerator&in=2025&limit=1")
ok("/api/cases: drg.cmi, cases with a weight, the total weight",
   ind and r.status == 200 and r.body["contribution_unit"] == "weight"
   and abs(r.body["total"] - ind["numerator"]) < 1e-6 * max(1, ind["numerator"]),
   (r.body.get("total"), ind))

# ---- paging ----
pages, off = [], 0
while True:
    r = cases(alice, f"indicator=fp.04&side=numerator&in=2025Q1&limit=30&offset={off}")
    if r.status != 200 or not r.body["cases"]:
        break
    pages += r.body["cases"]
    off += 30
ok(f"paging by 30: the same {len(full)} cases in the same order", pages == full,
   (len(pages), len(full)))
r = cases(alice, f"indicator=fp.04&side=numerator&in=2025Q1&offset={len(full) + 5}")
ok("an offset past the end: no cases, the count stays", r.status == 200 and r.body["cases"] == []
   and r.body["count"] == len(full))
r = cases(alice, "indicator=fp.04&side=numerator&from=2025-01-01&to=2025-03-31&limit=500")
ok("from/to: the same as in=2025Q1", r.status == 200 and r.body["cases"] == full
   and r.body["scope"]["from"] == "2025-01-01" and r.body["scope"]["to"] == "2025-03-31")

# ---- scope ----
r = alice.get(f"/api/cases?indicator=fp.04&side=numerator&hospital={H2}")
ok("a hospital admin, another hospital's cases: 403", r.status == 403
   and r.body["error"]["code"] == "forbidden", r.status)
cons = ind_row(bob, "by=consortium&period=year&in=2025&ids=fp.04")
r = cases(bob, "indicator=fp.04&side=numerator&in=2025&limit=1")
ok("a consortium admin: the consortium's count = the consortium numerator",
   cons and r.status == 200 and r.body["count"] == cons["numerator"], (r.body.get("count"), cons))
h2 = ind_row(bob, f"by=hospital&period=year&in=2025&ids=fp.04&hospital={H2}", hospital=H2)
r = cases(bob, f"indicator=fp.04&side=numerator&in=2025&hospital={H2}&limit=500")
ok("a consortium admin, one member: its cases, its numerator", h2 and r.status == 200
   and r.body["count"] == h2["numerator"] and {x["hospital"] for x in r.body["cases"]} == {H2},
   (r.body.get("count"), h2))
dep = ind_row(dave, "by=department&period=year&in=2025&ids=fp.n", department=DEPT)
r = cases(dave, "indicator=fp.n&side=numerator&in=2025&limit=500")
ok("a department viewer: its department's cases, the department's numerator",
   dep and r.status == 200 and r.body["count"] == dep["numerator"]
   and {x["department"] for x in r.body["cases"]} == {DEPT}
   and r.body["scope"]["department"] == DEPT, (r.body.get("count"), dep))
all_h1 = cases(alice, "indicator=fp.n&side=numerator&in=2025&limit=1").body["count"]
ok("... fewer than the hospital's", r.body["count"] < all_h1, (r.body["count"], all_h1))
other = con.execute("SELECT r.cykb FROM record r JOIN hospital h ON h.id = r.hospital_id"
                    " WHERE h.zzjgdm = ? AND r.cykb <> ? LIMIT 1", (H1, DEPT)).fetchone()[0]
r = dave.get(f"/api/cases?indicator=fp.n&side=numerator&department={q(other)}")
ok("a department viewer, another department: 403", r.status == 403, r.status)
r = cases(alice, f"indicator=fp.n&side=numerator&in=2025&department={q(DEPT)}&limit=1")
ok("a hospital admin may narrow to a department", r.status == 200 and r.body["count"] == dep["numerator"])

# ---- one attending doctor: the by=doctor row's numerator ----
docs = alice.get("/api/indicators?by=doctor&period=year&in=2025&ids=fp.n").body["rows"]
doc = max((x for x in docs if x["hospital"] == H1 and x["doctor"]), key=lambda x: x["numerator"])
r = cases(alice, f"indicator=fp.n&side=numerator&in=2025&doctor={q(doc['doctor'])}&limit=500")
ok(f"doctor={doc['doctor']}: the cases of the by=doctor row ({doc['numerator']})",
   r.status == 200 and r.body["count"] == doc["numerator"]
   and {x["doctor"] for x in r.body["cases"]} == {doc["doctor"]}
   and r.body["scope"]["doctor"] == doc["doctor"], (r.body.get("count"), doc))
r = cases(alice, "indicator=fp.n&side=numerator&in=2025&doctor=" + q("无此医生"))
ok("a doctor with no cases: an empty list, count 0", r.status == 200 and r.body["count"] == 0
   and r.body["cases"] == [], r.body)

# ---- bad parameters: 400 JSON errors; refusals are not audited ----
for query, code in (("side=numerator", "bad_request"),
                    ("indicator=fp.04", "bad_request"),
                    ("indicator=fp.04&side=both", "bad_request"),
                    ("indicator=fp.04;x&side=numerator", "bad_request"),
                    ("indicator=nope.1&side=numerator", "bad_request"),
                    ("indicator=fp.n&side=denominator", "bad_request"),
                    ("indicator=fp.04&side=numerator&in=2025Q5", "bad_request"),
                    ("indicator=fp.04&side=numerator&from=2025-02-30", "bad_request"),
                    ("indicator=fp.04&side=numerator&from=2025-03-01&to=2025-01-01", "bad_request"),
                    ("indicator=fp.04&side=numerator&in=2025&from=2025-01-01", "bad_request"),
                    ("indicator=fp.04&side=numerator&limit=0", "bad_request"),
                    ("indicator=fp.04&side=numerator&doctor=%FF%FE", "bad_request"),
                    ("indicator=fp.04&side=numerator&doctor=a%0Ab", "bad_request"),
                    ("indicator=fp.04&side=numerator&doctor=" + "x" * 65, "bad_request"),
                    ("indicator=fp.04&side=numerator&department=%C3%28", "bad_request"),
                    ("indicator=fp.04&side=numerator&limit=x", "bad_request"),
                    ("indicator=fp.04&side=numerator&limit=501", "too_many"),
                    ("indicator=fp.04&side=numerator&offset=-1", "bad_request"),
                    ("indicator=fp.04&side=numerator&hospital=a;b", "bad_request")):
    r = alice.get("/api/cases?" + query)
    ok(f"/api/cases?{query}: 400 {code}", r.status == 400 and r.body["error"]["code"] == code
       and r.body["error"]["message"], (r.status, r.body))
r = alice.get("/api/cases?indicator=fp.05&side=numerator")
ok("an indicator whose catalogue is missing: 409 not_computable", r.status == 409
   and r.body["error"]["code"] == "not_computable", (r.status, r.body))

# ---- one case with its grouping trace ----
case = full[0]
key = f"hospital={case['hospital']}&bah={q(case['bah'])}&zycs={case['zycs']}"
xm, sfzh = None, None
# fp_data() exists on Carebase connections only: ask `carebase sql`.
out = subprocess.run([CB, "--db", DB, "sql", "--format", "json",
                      "SELECT json_extract(fp_data(r.data), '$.XM') AS xm,"
                      " json_extract(fp_data(r.data), '$.SFZH') AS sfzh"
                      " FROM record r JOIN hospital h ON h.id = r.hospital_id"
                      f" WHERE h.zzjgdm = '{case['hospital']}' AND r.bah = '{case['bah']}'"
                      f" AND r.zycs = {case['zycs']}"], capture_output=True, text=True).stdout
try:
    row = json.loads(out)
    row = row[0] if isinstance(row, list) else row.get("rows", [{}])[0]
    xm, sfzh = row.get("xm"), row.get("sfzh")
except Exception as e:
    print("carebase sql output:", out[:200], e)
ok("the case's stored name and ID number are known to the test", xm and sfzh, out[:200])

r = alice.get("/api/case?" + key)
b = r.body if r.status == 200 else {}
ok("/api/case: 200, the case as listed", r.status == 200
   and {k: b["case"][k] for k in case if k != "contribution"}
   == {k: v for k, v in case.items() if k != "contribution"}, (r.status, b.get("case")))
ok("/api/case: diagnoses and procedures (codes)", b.get("diagnoses") and b["diagnoses"][0]["slot"] == 0
   and b["diagnoses"][0]["code"] and isinstance(b.get("procedures"), list), b.get("diagnoses"))
tr = b.get("trace", {})
ok("/api/case: the grouping trace in zh and en, naming the DRG", tr.get("zh") and tr.get("en")
   and case["drg"] and case["drg"] in tr["zh"] and case["drg"] in tr["en"]
   and "MDC" in tr["en"] and tr["zh"] != tr["en"], (tr.get("en") or "")[:200])
ok("/api/case: the trace as JSON", isinstance(tr.get("json"), dict)
   and tr["json"].get("scheme") == case["drg_scheme"] and tr["json"].get("mdcs"), str(tr.get("json"))[:200])
ok("/api/case: identifiers omitted for a user not allowed them", b.get("identifiers") == "omitted"
   and xm not in r.raw.decode() and sfzh not in r.raw.decode())
r = ivy.get("/api/case?" + key)
ok("/api/case: identifiers for a user allowed them", r.status == 200
   and r.body["identifiers"]["XM"] == xm and r.body["identifiers"]["SFZH"] == sfzh,
   r.body.get("identifiers") if r.status == 200 else r.status)
r = ivy.get("/api/cases?indicator=fp.04&side=numerator&in=2025Q1&limit=500")
good_cases += r.status == 200
ok("... but never in a list", r.status == 200 and r.body["identifiers"] == "omitted"
   and xm not in r.raw.decode() and sfzh not in r.raw.decode())

h2case = cases(bob, f"indicator=fp.n&side=numerator&hospital={H2}&limit=1").body["cases"][0]
k2 = f"hospital={H2}&bah={q(h2case['bah'])}&zycs={h2case['zycs']}"
r = alice.get("/api/case?" + k2)
ok("/api/case of another hospital: 403", r.status == 403 and r.body["error"]["code"] == "forbidden", r.status)
ok("/api/case: a consortium admin reads a member's case", bob.get("/api/case?" + k2).status == 200)
mine = cases(dave, "indicator=fp.n&side=numerator&limit=1").body["cases"][0]
r = dave.get(f"/api/case?hospital={H1}&bah={q(mine['bah'])}&zycs={mine['zycs']}")
ok("/api/case: a department viewer reads its department's case", r.status == 200, r.status)
theirs = con.execute("SELECT r.bah, r.zycs FROM record r JOIN hospital h ON h.id = r.hospital_id"
                     " WHERE h.zzjgdm = ? AND r.cykb <> ? LIMIT 1", (H1, DEPT)).fetchone()
r = dave.get(f"/api/case?hospital={H1}&bah={q(theirs[0])}&zycs={theirs[1]}")
ok("/api/case: another department's case is not found for a viewer", r.status == 404
   and r.body["error"]["code"] == "not_found", r.status)
r = alice.get(f"/api/case?hospital={H1}&bah=no-such-bah&zycs=1")
ok("/api/case: an unknown case: 404", r.status == 404, r.status)
for query in ("", f"hospital={H1}", f"hospital={H1}&bah=1", f"hospital={H1}&bah=1&zycs=x",
              f"hospital={H1}&bah=1&zycs=-1", "hospital=a;b&bah=1&zycs=1",
              f"hospital={H1}&bah=a%22b&zycs=1"):
    r = alice.get("/api/case?" + query)
    ok(f"/api/case?{query}: 400", r.status == 400 and r.body["error"]["code"] == "bad_request",
       (r.status, r.body))

# ---- audit: one row per successful read, the query, no patient data ----
n_cases, n_case = audits("read_cases") - n_cases0, audits("read_case") - n_case0
ok(f"one read_cases audit row per successful list ({good_cases})", n_cases == good_cases,
   (n_cases, good_cases))
ok("one read_case audit row per case read (4)", n_case == 4, n_case)
rows = con.execute("SELECT a.what, u.name FROM audit a JOIN user u ON u.id = a.user_id"
                   " WHERE a.action IN ('read_cases', 'read_case')").fetchall()
ok("audit rows name the user", len(rows) == n_cases + n_case + n_cases0 + n_case0)
ok("a list's audit row is the query", any(w.startswith("indicator=fp.04 side=numerator")
   and "from=2025-01-01 to=2025-03-31" in w and u == "alice" for w, u in rows), rows[:2])
ok("a case's audit row says whether identifiers were shown",
   any("identifiers=shown" in w for w, u in rows if u == "ivy")
   and all("identifiers=omitted" in w for w, u in rows if u == "alice" and w.startswith("hospital=")))
bahs = {b for (b,) in con.execute("SELECT bah FROM record") if len(b) >= 6}
text = " ".join(w for w, u in rows)
ok("no BAH, name or ID number in the audit rows", not any(x in text for x in bahs)
   and xm not in text and sfzh not in text)
PY

kill -TERM "$SPID"; rc=0; wait "$SPID" || rc=$?
eq "server stopped cleanly" "$rc" 0
py "$T/serve.err" "$DB" <<'PY'
import sqlite3, sys
from e2e_lib import ok
log, db = sys.argv[1:3]
text = open(log, encoding="utf-8").read()
con = sqlite3.connect(db)
bahs = {b for (b,) in con.execute("SELECT bah FROM record") if len(b) >= 6}
ok("the request log has the case routes, without their queries",
   "GET /api/cases 200" in text and "GET /api/case 200" in text and "bah=" not in text)
ok("no BAH in the request log", not any(b in text for b in bahs))
PY

finish
