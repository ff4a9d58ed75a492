#!/usr/bin/env bash
# carebase serve: the JSON API end to end, on a small generated consortium.
# Every route (the list must match docs/api.md and docs/openapi.yaml), the
# session, CSRF and scope rules, the numbers against `carebase indicators`,
# the limits (body size, rate limit, slow clients), metrics, audit rows,
# log lines without patient data, TLS, and a graceful SIGTERM.
. "$(dirname "$0")/lib.sh"

# Timeouts scale for slow (sanitizer) builds: CB_TIMEOUT_MULT=3.
MULT=${CB_TIMEOUT_MULT:-1}

gen --hospitals 3 --records 3000 --seed 7 --errors 0.02 --out "$T/fp.csv" --orgs "$T/orgs.tsv"
cb org load "$T/orgs.tsv"
cb import "$T/fp.csv"
cb reference create --name r1 --min-risk-cases 5
H1=$(sed -n 2p "$T/orgs.tsv" | cut -f1)
H2=$(sed -n 3p "$T/orgs.tsv" | cut -f1)
H3=$(sed -n 4p "$T/orgs.tsv" | cut -f1)
G=$(sed -n 2p "$T/orgs.tsv" | cut -f4)
cb org add consortium G2 第二医联体
cb org join G2 "$H3"
DEPT=$(sql "SELECT r.cykb FROM record r JOIN hospital h ON h.id = r.hospital_id
            WHERE h.zzjgdm = '$H1' GROUP BY r.cykb ORDER BY count(*) DESC LIMIT 1")

# ---- carebase user ----
printf 'alice-pass-1\n' | cb user add alice --role hospital_admin --scope "$H1" --password-stdin
CAREBASE_PASSWORD=bob-pass-12 cb user add bob --role consortium_admin --scope "$G"
CAREBASE_PASSWORD=carol-pass-1 cb user add carol --role consortium_admin --scope G2
CAREBASE_PASSWORD=dave-pass-12 cb user add dave --role department_viewer --scope "$H1" \
  --department "$DEPT"
CAREBASE_PASSWORD=eve-pass-123 cb user add eve --role hospital_admin --scope "$H2"
cb user disable eve
CAREBASE_PASSWORD=alice-pass-9 run cb user add alice --role hospital_admin --scope "$H1" 2>/dev/null
eq "user add: a second alice is refused (usage)" "$RC" 2
CAREBASE_PASSWORD=x-pass-1234 run cb user add x1 --role boss --scope "$H1" 2>/dev/null
eq "user add: an unknown role is refused" "$RC" 2
CAREBASE_PASSWORD=x-pass-1234 run cb user add x2 --role hospital_admin --scope NOPE 2>/dev/null
eq "user add: an unknown hospital is refused" "$RC" 1
CAREBASE_PASSWORD=short run cb user add x3 --role hospital_admin --scope "$H1" 2>/dev/null
eq "user add: a short password is refused" "$RC" 2
run cb user add x4 --role department_viewer --scope "$H1" --password-stdin 2>/dev/null <<<"x4-pass-1234"
eq "user add: a department_viewer needs a department" "$RC" 2
eq "users stored" "$(sql 'SELECT count(*) FROM user')" 5
eq "passwords are argon2id hashes" \
  "$(sql "SELECT count(*) FROM user WHERE pw_hash LIKE '\$argon2id\$%'")" 5
out=$(cb user list --format csv)
check "user list names the users" grep -q '^3,carol,consortium_admin,group,G2' <<<"$out"
check "user list: nobody may see patient identifiers by default" \
  bash -c '! grep -Eq ",1$" <<<"$1"' _ "$(tail -n +2 <<<"$out")"
check "user list shows no hash" bash -c '! grep -q argon2 <<<"$1"' _ "$out"
eq "eve is disabled" "$(sql "SELECT disabled FROM user WHERE name = 'eve'")" 1

# ---- what the CLI says, for the comparisons ----
cb indicators --by hospital --period quarter --in 2025Q1 --ids fp.04,drg.cmi,fp.alos \
  --hospital "$H1" --format json > "$T/cli_h1.json"
cb indicators --by hospital --period year --group "$G" --format json > "$T/cli_group.json"
cb indicators --by consortium --period all --group "$G" --ids fp.n,fp.04,drg.cmi,drg.cei \
  --format json > "$T/cli_cons.json"
cb indicators --by department --period year --hospital "$H1" --ids fp.n,fp.alos \
  --format json > "$T/cli_dept.json"
cb indicators --by hospital --period all --hospital "$H1" --ids drg.grouped_rate \
  --format json > "$T/cli_grouped_h1.json"
cb indicators --by department --period all --hospital "$H1" --ids drg.grouped_rate \
  --format json > "$T/cli_grouped_dept.json"

# ---- the server ----
cat > "$T/serve.conf" <<EOF
# carebase serve settings for this test
listen = 127.0.0.1:0
db = $DB
threads = 4
max_body = 65536
login_failures = 5
login_window = 60
timeout = 30
refresh = 0
# the MLLP listener on a free port (tests run in parallel)
mllp_listen = 127.0.0.1:0
EOF
# launch CONFIG OUT ERR: starts a server in the background (SPID); returns
# once it listens (URL set, status 0) or has exited (status 1).
launch() {
  # No stale "listening on" from an earlier server with the same files: the
  # wait below could see it before the new server's redirect empties them.
  rm -f "$2" "$3"
  "$CAREBASE" serve --config "$1" >"$2" 2>"$3" &
  SPID=$!
  wait_until $((60 * MULT)) \
    bash -c 'grep -qs "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$2" "$SPID" || true
  grep -q '^listening on' "$2" || return 1
  URL=$(sed -n 's/^listening on //p' "$2")
}
start_server() {  # start_server CONFIG OUT ERR: launch, or stop the test
  if ! launch "$@"; then
    fail "server started"; cat "$3"; kill -KILL "$SPID" 2>/dev/null || true; finish; exit 1
  fi
}
start_server "$T/serve.conf" "$T/serve.out" "$T/serve.err"
check "prints the ephemeral address" grep -Eq '^listening on http://127\.0\.0\.1:[0-9]+$' "$T/serve.out"

py "$URL" "$T" "$H1" "$H2" "$H3" "$G" "$DEPT" "$DB" "$CAREBASE" <<'PY'
import json, os, re, socket, sqlite3, subprocess, sys, time, urllib.parse
from e2e_lib import ok, SOURCE
from api_client import Client, raw_exchange

url, T, H1, H2, H3, G, DEPT, DB, CB = sys.argv[1:10]
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port

# Every route of the server; docs/api.md and docs/openapi.yaml list the same.
ROUTES = {("GET", "/"), ("GET", "/healthz"), ("GET", "/metrics"),
          ("POST", "/api/login"), ("POST", "/api/logout"), ("GET", "/api/me"),
          ("GET", "/api/orgs"), ("GET", "/api/indicators"), ("GET", "/api/rejects"),
          ("GET", "/api/drgs"), ("GET", "/api/qc"), ("GET", "/api/cases"),
          ("GET", "/api/case"), ("GET", "/api/live/summary"), ("GET", "/api/live/wards"),
          ("GET", "/api/live/alerts"), ("GET", "/api/live/stream"), ("GET", "/app/{path}")}
doc = open(os.path.join(SOURCE, "docs/api.md"), encoding="utf-8").read()
documented = set(re.findall(r"^### `(GET|POST|PUT|DELETE) (/[^`\s]*)`", doc, re.M))
ok("docs/api.md lists exactly the routes", documented == ROUTES,
   f"missing {ROUTES - documented}, extra {documented - ROUTES}")
spec, path, in_paths = set(), None, False
for line in open(os.path.join(SOURCE, "docs/openapi.yaml"), encoding="utf-8"):
    if re.match(r"^\S", line):
        in_paths = line.startswith("paths:")
        continue
    m = re.match(r"^  (/\S*):\s*$", line)
    if in_paths and m:
        path = m.group(1)
    m = re.match(r"^    (get|post|put|delete):\s*$", line)
    if in_paths and path and m:
        spec.add((m.group(1).upper(), path))
ok("docs/openapi.yaml lists exactly the routes", spec == ROUTES,
   f"missing {ROUTES - spec}, extra {spec - ROUTES}")

anon = Client(url)
for method, path in sorted(ROUTES):
    if not path.startswith("/api/") or path == "/api/login":
        continue
    r = anon.request(method, path, body={} if method == "POST" else None)
    ok(f"{method} {path} without a session: 401", r.status == 401
       and r.body["error"]["code"] == "unauthenticated", (r.status, r.body))
r = anon.get("/api/me", headers={"Cookie": "cb_session=" + "ab" * 32})
ok("an unknown session token: 401", r.status == 401, r.status)
r = anon.get("/healthz")
ok("GET /healthz: 200 {status: ok}", r.status == 200 and r.body == {"status": "ok"}, r.body)
# ---- the web application's files: no session, safe paths, fixed types ----
r = anon.get("/")
ok("GET /: the web application", r.status == 200 and '<div id="app"' in r.body
   and r.headers["content-type"] == "text/html; charset=utf-8", r.status)
csp = r.headers.get("content-security-policy", "")
ok("GET /: CSP script-src 'self', no inline script", "script-src 'self';" in csp
   and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp, csp)
ok("GET /: nosniff, DENY, revalidated with an ETag",
   r.headers.get("x-content-type-options") == "nosniff" and r.headers.get("x-frame-options") == "DENY"
   and r.headers.get("cache-control") == "no-cache" and r.headers.get("etag"), r.headers)
r2 = anon.get("/", headers={"If-None-Match": r.headers.get("etag", "")})
ok("GET / with its ETag: 304", r2.status == 304 and not r2.raw, r2.status)
for path, ctype in (("/app/main.js", "text/javascript; charset=utf-8"),
                    ("/app/style.css", "text/css; charset=utf-8"),
                    ("/app/views/overview.js", "text/javascript; charset=utf-8"),
                    ("/app/favicon.svg", "image/svg+xml")):
    r = anon.get(path)
    ok(f"GET {path}: 200 {ctype}, no session needed", r.status == 200
       and r.headers.get("content-type") == ctype and "script-src 'self'" in r.headers.get("content-security-policy", ""),
       (r.status, r.headers.get("content-type")))
if os.path.exists(os.path.join(SOURCE, "web/node_modules/echarts/dist/echarts.min.js")):
    r = anon.get("/app/vendor/echarts.min.js")
    ok("GET /app/vendor/echarts.min.js: ECharts from web/node_modules, cached",
       r.status == 200 and r.headers.get("content-type", "").startswith("text/javascript")
       and "max-age" in r.headers.get("cache-control", "") and len(r.raw) > 100000, r.status)
else:
    print("# skipped: /app/vendor/echarts.min.js (run npm ci in web/)")
r = anon.request("HEAD", "/app/main.js")
ok("HEAD /app/main.js: 200 with a length, no body", r.status == 200 and not r.raw
   and int(r.headers.get("content-length", "0")) > 0, r.status)
r = anon.post("/app/main.js", {})
ok("POST /app/main.js: 405 (GET, HEAD)", r.status == 405 and "GET" in r.headers.get("allow", ""), r.status)
for bad in ("/app/../README.md", "/app/%2e%2e/README.md", "/app/views/../main.js",
            "/app/..%2fREADME.md", "/app/%2e%2e%2f%2e%2e%2fetc/passwd", "/app//etc/passwd",
            "/app/main.js%00.css", "/app/%00", "/app/.hidden.js", "/app/views/.x.js",
            "/app/a%5cb.js", "/app/", "/app/views/", "/app/main.exe", "/app/nosuch.js",
            "/app/../../../../etc/passwd", "/app/node_modules/echarts/package.json",
            "/index.html", "/app/main.js/"):
    line, text = raw_exchange(host, port, f"GET {bad} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    ok(f"GET {bad}: 404, nothing served", (" 404 " in line or " 400 " in line)
       and "root:" not in text and "Carebase is" not in text, line)
r = anon.get("/api/nope")
ok("unknown route: 404 JSON error", r.status == 404 and r.body["error"]["code"] == "not_found")
r = anon.post("/api/me", {})
ok("wrong method: 405 with Allow", r.status == 405 and "GET" in r.headers.get("allow", ""))
r = anon.post("/api/login", raw=b'{"user": "alice", "password": ', headers={"Content-Type": "application/json"})
ok("login with bad JSON: 400 bad_json", r.status == 400 and r.body["error"]["code"] == "bad_json", r.body)
r = anon.post("/api/login", raw=b'user=alice', headers={"Content-Type": "application/x-www-form-urlencoded"})
ok("login as a form: 415", r.status == 415, r.status)
r = anon.post("/api/login", {"user": "alice"})
ok("login without a password: 400", r.status == 400, r.status)
ok("security headers", r.headers.get("x-content-type-options") == "nosniff"
   and r.headers.get("cache-control") == "no-store", r.headers)

# ---- sessions ----
alice, bob, carol, dave = Client(url), Client(url), Client(url), Client(url)
r = alice.login("alice", "alice-pass-1")
ok("login ok: 200 with a CSRF token", r.status == 200 and len(r.body["csrf"]) == 64, r.body)
sc = alice.set_cookie or ""
ok("session cookie: HttpOnly, SameSite=Strict, not Secure without TLS",
   "HttpOnly" in sc and "SameSite=Strict" in sc and "Secure" not in sc and alice.cookie, sc)
con = sqlite3.connect(DB)
import hashlib
stored = [h for (h,) in con.execute("SELECT token_hash FROM session")]
ok("the store keeps the SHA-256 of the token, not the token",
   hashlib.sha256(alice.cookie.encode()).hexdigest() in stored and alice.cookie not in stored)
for c, u, p in ((bob, "bob", "bob-pass-12"), (carol, "carol", "carol-pass-1"), (dave, "dave", "dave-pass-12")):
    r = c.login(u, p)
    ok(f"login {u}", r.status == 200, r.status)
r = Client(url, source="127.0.0.3").login("eve", "eve-pass-123")
ok("a disabled user cannot log in", r.status == 401, r.status)
r = alice.get("/api/me")
ok("/api/me", r.status == 200 and r.body["user"]["name"] == "alice"
   and r.body["user"]["role"] == "hospital_admin" and r.body["user"]["scope"]["code"] == H1
   and r.body["csrf"] == alice.csrf, r.body)
r = alice.get("/api/orgs")
ok("/api/orgs: a hospital admin sees its hospital", r.status == 200
   and [h["zzjgdm"] for h in r.body["hospitals"]] == [H1]
   and r.body["hospitals"][0]["level"] and G in r.body["hospitals"][0]["groups"], r.body)
r = bob.get("/api/orgs")
ok("/api/orgs: a consortium admin sees its consortium",
   sorted(h["zzjgdm"] for h in r.body["hospitals"]) == sorted([H1, H2, H3]), r.body)
r = carol.get("/api/orgs")
ok("/api/orgs: G2 has one hospital",
   [h["zzjgdm"] for h in r.body["hospitals"]] == [H3]
   and sorted(r.body["hospitals"][0]["groups"]) == sorted([G, "G2"]), r.body)

r = alice.get("/api/orgs")
ok("/api/orgs: the departments of the hospitals in scope, with names",
   r.body["departments"] and {d["hospital"] for d in r.body["departments"]} == {H1}
   and any(d["code"] == DEPT and d["name"] for d in r.body["departments"]), r.body.get("departments", [])[:3])
r = dave.get("/api/orgs")
ok("/api/orgs: a department viewer sees its department only",
   [d["code"] for d in r.body["departments"]] == [DEPT], r.body.get("departments"))

# ---- indicators: the same numbers as the CLI ----
def same(api, cli_path, what):
    cli = json.load(open(cli_path))
    keys = ("id", "hospital", "department", "doctor", "period", "value", "numerator",
            "denominator", "status", "previous", "last_year", "rank", "peers")
    def norm(rows):
        return sorted(tuple(round(r[k], 9) if isinstance(r[k], float) else r[k] for k in keys)
                      for r in rows)
    a, c = norm(api["rows"]), norm(cli["rows"])
    good = a == c and len(a) > 0 and api["reference"] == cli["reference"] \
        and api["catalogue"] == cli["catalogue"] and api["unit"] == cli["unit"]
    ok(f"indicators {what} = carebase indicators ({len(a)} rows)", good,
       f"api {a[:2]} cli {c[:2]}")

r = alice.get(f"/api/indicators?by=hospital&period=quarter&in=2025Q1&ids=fp.04,drg.cmi,fp.alos&hospital={H1}")
ok("indicators for the own hospital: 200", r.status == 200, r.body)
same(r.body, f"{T}/cli_h1.json", "own hospital, 2025Q1")
r = alice.get("/api/indicators?in=2025Q1&ids=fp.04,drg.cmi,fp.alos")
same(r.body, f"{T}/cli_h1.json", "own hospital (implicit scope)")
r = bob.get("/api/indicators?by=hospital&period=year")
same(r.body, f"{T}/cli_group.json", "a consortium's hospitals, with ranks")
r = bob.get("/api/indicators?by=consortium&period=all&ids=fp.n,fp.04,drg.cmi,drg.cei")
ok("consortium view for a consortium admin: 200", r.status == 200, r.status)
same(r.body, f"{T}/cli_cons.json", "consortium aggregate")
r = alice.get(f"/api/indicators?hospital={H2}")
ok("another hospital: 403", r.status == 403 and r.body["error"]["code"] == "forbidden", r.body)
r = alice.get("/api/indicators?hospital=NOSUCH")
ok("an unknown hospital: 403", r.status == 403, r.status)
r = alice.get("/api/indicators?by=consortium")
ok("consortium view for a hospital admin: 403", r.status == 403, r.status)
r = carol.get(f"/api/indicators?hospital={H1}")
ok("a hospital outside the consortium: 403", r.status == 403, r.status)
r = carol.get("/api/indicators?ids=fp.n")
ok("a consortium admin sees only its hospitals",
   r.status == 200 and {x["hospital"] for x in r.body["rows"]} == {H3}, r.body)
r = dave.get("/api/indicators?by=department&period=year&ids=fp.n,fp.alos")
cli = json.load(open(f"{T}/cli_dept.json"))
want = [x for x in cli["rows"] if x["department"] == DEPT]
ok("a department viewer sees its department only",
   r.status == 200 and r.body["rows"] and {x["department"] for x in r.body["rows"]} == {DEPT}
   and len(r.body["rows"]) == len(want), (len(r.body.get("rows", [])), len(want)))
ok("... with the CLI's numbers", sorted((x["period"], x["id"], x["numerator"], x["denominator"]) for x in r.body["rows"])
   == sorted((x["period"], x["id"], x["numerator"], x["denominator"]) for x in want))
r = dave.get("/api/indicators?by=doctor")
ok("doctors for a department viewer: 403", r.status == 403, r.status)
for q in ("by=ward", "period=week", "in=2025Q5", "ids=fp.04;drop", "ids=nope.1"):
    r = alice.get("/api/indicators?" + q)
    ok(f"bad parameter {q}: 400", r.status == 400 and r.body["error"]["code"] == "bad_request", (r.status, r.body))

r = alice.get("/api/indicators?in=2025Q1&ids=fp.04,fp.alos,fp.n")
ok("indicator rows say which way is better",
   {x["id"]: x["direction"] for x in r.body["rows"]} == {"fp.04": "up", "fp.alos": "down", "fp.n": "monitor"},
   r.body["rows"][:1])

# ---- the DRG table: from the facts of the hospitals in scope ----
grouped_h1 = json.load(open(f"{T}/cli_grouped_h1.json"))["rows"][0]["numerator"]
r = alice.get("/api/drgs?limit=2000")
ok("/api/drgs: 200 with DRGs", r.status == 200 and r.body["drgs"], r.status)
ok("/api/drgs: the cases add up to the grouped discharges of carebase indicators",
   sum(d["cases"] for d in r.body["drgs"]) == r.body["grouped"] == grouped_h1
   and len(r.body["drgs"]) == r.body["total_drgs"], (r.body["grouped"], grouped_h1))
d0 = r.body["drgs"][0]
ok("/api/drgs: weight, ALOS, cost, mortality and risk grade per DRG",
   d0["weight"] is not None and d0["alos"] > 0 and d0["mean_cost"] > 0 and d0["mortality"] is not None
   and (d0["risk"] is None or 0 <= d0["risk"] <= 4) and r.body["reference"]["name"] == "r1", d0)
ok("/api/drgs: most cases first", [d["cases"] for d in r.body["drgs"]]
   == sorted((d["cases"] for d in r.body["drgs"]), reverse=True))
rq = alice.get("/api/drgs?in=2025Q1&limit=5")
ok("/api/drgs?in=2025Q1&limit=5", rq.status == 200 and len(rq.body["drgs"]) <= 5
   and rq.body["cases"] < r.body["cases"], rq.status)
cli = json.load(open(f"{T}/cli_grouped_dept.json"))["rows"]
want = sum(x["numerator"] for x in cli if x["department"] == DEPT)
r = dave.get("/api/drgs?limit=2000")
ok("/api/drgs: a department viewer gets its department's DRGs",
   r.status == 200 and r.body["grouped"] == want, (r.status, r.body.get("grouped"), want))
r = bob.get(f"/api/drgs?hospital={H2}")
ok("/api/drgs: a consortium admin, one member", r.status == 200 and r.body["cases"] > 0, r.status)
r = alice.get(f"/api/drgs?hospital={H2}")
ok("/api/drgs: another hospital: 403", r.status == 403 and r.body["error"]["code"] == "forbidden", r.status)
r = carol.get("/api/drgs?limit=2000")
ok("/api/drgs: a consortium admin sees only its hospitals",
   r.status == 200 and r.body["cases"] < bob.get("/api/drgs").body["cases"], r.status)
for q in ("in=2025Q5", "limit=0", "limit=x", "hospital=a;b"):
    r = alice.get("/api/drgs?" + q)
    ok(f"/api/drgs bad parameter {q}: 400", r.status == 400, r.status)

# ---- QC status: counts per rule and per hospital ----
r = alice.get("/api/qc")
open_h1 = con.execute("SELECT count(*) FROM reject WHERE status = 'open' AND zzjgdm = ?", (H1,)).fetchone()[0]
acc_h1 = con.execute("SELECT count(*) FROM record r JOIN hospital h ON h.id = r.hospital_id"
                     " WHERE h.zzjgdm = ?", (H1,)).fetchone()[0]
ok("/api/qc: the own hospital, its rejects and accepted records",
   r.status == 200 and [x["hospital"] for x in r.body["hospitals"]] == [H1]
   and r.body["hospitals"][0]["rejected"] == open_h1 and r.body["hospitals"][0]["accepted"] == acc_h1,
   r.body.get("hospitals"))
ok("/api/qc: rules with names, most failing first",
   r.body["rules"] and all(x["rule"].startswith("QC-") and x["name_zh"] and x["name_en"] for x in r.body["rules"])
   and [x["rejects"] + x["warnings"] for x in r.body["rules"]]
   == sorted((x["rejects"] + x["warnings"] for x in r.body["rules"]), reverse=True), r.body["rules"][:2])
top = r.body["rules"][0]
want = con.execute("SELECT count(DISTINCT j.id) FROM reject j JOIN reject_issue i ON i.reject_id = j.id"
                   " WHERE j.status = 'open' AND j.zzjgdm = ? AND i.rule = ?", (H1, top["rule"])).fetchone()[0]
ok("/api/qc: a rule's rejects counted", top["rejects"] == want, (top, want))
r = bob.get("/api/qc")
ok("/api/qc: a consortium admin sees its hospitals",
   r.status == 200 and sorted(x["hospital"] for x in r.body["hospitals"]) == sorted([H1, H2, H3]), r.status)
ok("/api/qc: no patient data", "bah" not in json.dumps(r.body), "")
r = dave.get("/api/qc")
ok("/api/qc for a department viewer: 403", r.status == 403, r.status)
r = alice.get(f"/api/qc?hospital={H2}")
ok("/api/qc: another hospital: 403", r.status == 403, r.status)
r = alice.get("/api/qc?limit=0")
ok("/api/qc limit=0: 400", r.status == 400, r.status)

# ---- rejects (case-level: audited) ----
n0 = con.execute("SELECT count(*) FROM audit WHERE action = 'read_rejects'").fetchone()[0]
r = alice.get("/api/rejects?limit=5")
ok("rejects of the own hospital", r.status == 200 and 0 < len(r.body["rejects"]) <= 5
   and {x["hospital"] for x in r.body["rejects"]} == {H1}
   and all(x["issues"] and x["issues"][0]["rule"] for x in r.body["rejects"]), r.body)
rule = r.body["rejects"][0]["issues"][0]["rule"]
r = alice.get(f"/api/rejects?rule={rule}&limit=1000")
ok("rejects by rule", r.status == 200 and all(any(i["rule"] == rule for i in x["issues"])
   for x in r.body["rejects"]), rule)
want = con.execute("SELECT count(*) FROM reject WHERE status = 'open' AND zzjgdm = ?", (H1,)).fetchone()[0]
r = alice.get("/api/rejects?limit=1000")
ok("all open rejects of the hospital", len(r.body["rejects"]) == want, (len(r.body["rejects"]), want))
r = bob.get(f"/api/rejects?hospital={H2}")
ok("a consortium admin reads a member's rejects",
   r.status == 200 and {x["hospital"] for x in r.body["rejects"]} <= {H2}, r.status)
r = alice.get(f"/api/rejects?hospital={H2}")
ok("rejects of another hospital: 403", r.status == 403, r.status)
r = dave.get("/api/rejects")
ok("rejects for a department viewer: 403", r.status == 403, r.status)
r = alice.get("/api/rejects?limit=0")
ok("rejects limit=0: 400", r.status == 400, r.status)
n1 = con.execute("SELECT count(*) FROM audit WHERE action = 'read_rejects'").fetchone()[0]
ok("an audit row per read of rejects (not for refusals)", n1 - n0 == 4, (n0, n1))
ok("audit rows name the user, not patients",
   con.execute("SELECT count(*) FROM audit WHERE action = 'read_rejects' AND user_id IS NULL").fetchone()[0] == 0)
ok("logins are audited", con.execute("SELECT count(*) FROM audit WHERE action = 'login'").fetchone()[0] >= 4)

# ---- CSRF ----
r = bob.post("/api/logout")
ok("POST without X-CSRF-Token: 403", r.status == 403 and r.body["error"]["code"] == "csrf", r.body)
r = bob.post("/api/logout", headers={"X-CSRF-Token": "0" * 64})
ok("POST with a wrong X-CSRF-Token: 403", r.status == 403, r.status)
ok("... and the session goes on", bob.get("/api/me").status == 200)

# ---- limits ----
big = b'{"user":"alice","password":"' + b"x" * 70000 + b'"}'
r = anon.post("/api/login", raw=big, headers={"Content-Type": "application/json"})
ok("a body over max_body: 413", r.status == 413 and r.body["error"]["code"] == "too_large", r.status)
line, text = raw_exchange(host, port, b"POST /api/login HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: 50000000\r\n\r\n")
ok("a Content-Length far over the limit: 413 at once", " 413 " in line, line)

# A slow client holds a connection, not a worker: with 4 workers, 12 half
# requests do not stop /healthz.
slow = [raw_exchange(host, port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ", read=False)
        for _ in range(12)]
t0 = time.time()
r = anon.get("/healthz")
ok("slow clients do not block /healthz", r.status == 200 and time.time() - t0 < 2,
   time.time() - t0)
for s in slow:
    s.close()

# ---- rate limit: 5 failures per name and per address ----
bad = Client(url)
codes = [bad.login("alice", "wrong-password").status for _ in range(5)]
ok("wrong password: 401 (x5)", codes == [401] * 5, codes)
r = bad.login("alice", "wrong-password")
ok("the sixth try: 429 with Retry-After", r.status == 429 and r.headers.get("retry-after")
   and r.body["error"]["code"] == "rate_limited", (r.status, r.headers))
ok("... even with the right password", bad.login("alice", "alice-pass-1").status == 429)
other = Client(url, source="127.0.0.2")
ok("the name stays limited from another address",
   other.login("alice", "alice-pass-1").status == 429)
ok("another user from another address logs in", other.login("bob", "bob-pass-12").status == 200)
ok("the address stays limited for other names", Client(url).login("carol", "carol-pass-1").status == 429)
ok("sessions already open go on", alice.get("/api/me").status == 200)

# ---- logout; password change ends sessions ----
r = bob.post("/api/logout", csrf=True)
ok("logout with the CSRF token: 200", r.status == 200, r.body)
ok("logout clears the cookie", "Max-Age=0" in (bob.set_cookie or ""), bob.set_cookie)
r = Client(url).get("/api/me", headers={"Cookie": "cb_session=" + (alice.cookie or "")})
ok("the cookie alone is the session", r.status == 200)
subprocess.run([CB, "--db", DB, "--quiet", "user", "passwd", "alice", "--password-stdin"],
               input=b"alice-pass-2\n", check=True)
ok("user passwd ends the user's sessions", alice.get("/api/me").status == 401)
ok("other users' sessions go on", dave.get("/api/me").status == 200)

# ---- an import while serving: the next request sees its facts ----
# QC answers are cached for a data version: rejects that add no fact must
# still show (the same seed gives the same hospitals and keys; errors 1.0
# gives every record an error, so new open rejects for H3).
qc_before = carol.get("/api/qc").body["hospitals"][0]["rejected"]
subprocess.run([CB, "--quiet", "generate", "--hospitals", "3", "--records", "300", "--seed", "7",
                "--errors", "1.0", "--out", f"{T}/fp-bad.csv"], check=True, capture_output=True)
subprocess.run([CB, "--db", DB, "--quiet", "import", f"{T}/fp-bad.csv"], capture_output=True)
open_h3 = con.execute("SELECT count(*) FROM reject WHERE status = 'open' AND zzjgdm = ?",
                      (H3,)).fetchone()[0]
r = carol.get("/api/qc")
ok("/api/qc after an import of rejects: the new count, not a cached one",
   r.status == 200 and open_h3 > qc_before and r.body["hospitals"][0]["rejected"] == open_h3,
   (qc_before, open_h3, r.body.get("hospitals")))
subprocess.run([CB, "--quiet", "generate", "--hospitals", "1", "--records", "200", "--seed", "8",
                "--out", f"{T}/fp2.csv"], check=True, capture_output=True)
subprocess.run([CB, "--db", DB, "--quiet", "import", f"{T}/fp2.csv"], check=True,
               capture_output=True)
r = dave.get("/api/indicators?ids=fp.n")
ok("indicators after an import", r.status == 200, r.status)

# ---- metrics ----
r = anon.get("/metrics")
m = r.body if isinstance(r.body, str) else ""
def metric(name, labels=""):
    mm = re.search(r"^" + re.escape(name + labels) + r" (\S+)$", m, re.M)
    return float(mm.group(1)) if mm else None
facts = con.execute("SELECT count(*) FROM fact").fetchone()[0]
ok("/metrics: Prometheus text", r.status == 200 and r.headers["content-type"].startswith("text/plain"))
ok("/metrics: login 401s counted",
   (metric("carebase_http_requests_total", '{route="/api/login",status="401"}') or 0) >= 5)
ok("/metrics: 429s counted",
   (metric("carebase_http_requests_total", '{route="/api/login",status="429"}') or 0) >= 3)
ok("/metrics: 403s of indicators counted",
   (metric("carebase_http_requests_total", '{route="/api/indicators",status="403"}') or 0) >= 4)
ok("/metrics: a latency histogram",
   (metric("carebase_http_request_duration_seconds_count") or 0) > 50
   and metric("carebase_http_request_duration_seconds_bucket", '{le="+Inf"}')
   == metric("carebase_http_request_duration_seconds_count"))
ok("/metrics: the engine's facts", metric("carebase_engine_facts") == facts, (metric("carebase_engine_facts"), facts))
ok("/metrics: the MLLP listener's counters", metric("carebase_mllp_connections_open") == 0
   and metric("carebase_mllp_messages_total", '{result="accepted"}') == 0)
ok("/metrics: no patient data or raw paths", "BAH" not in m and "/api/nope" not in m
   and 'route="other"' in m)
ok("/metrics: static files counted under one label, never by path",
   'route="/app/*",status="200"' in m and "main.js" not in m and "passwd" not in m)
PY

# ---- a graceful stop ----
t0=$(date +%s%N)
kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
eq "SIGTERM: exit status 0" "$rc" 0
check "SIGTERM: stopped within 5 s (${ms} ms)" test "$ms" -lt $((5000 * MULT))

# ---- the log: one line per request, no query strings, no patient data ----
py "$T/serve.err" "$DB" <<'PY'
import re, sqlite3, sys
from e2e_lib import ok
log, db = sys.argv[1:3]
lines = [l for l in open(log, encoding="utf-8").read().splitlines()
         if re.match(r"^\d{4}-\d\d-\d\dT", l)]
pat = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (GET|POST|HEAD) (/\S*|other) \d{3} \d+\.\dms user=\d+$")
bad = [l for l in lines if not pat.match(l)]
ok(f"{len(lines)} request log lines, all in the format", len(lines) > 50 and not bad, bad[:3])
ok("no query strings in the log", not any("?" in l or "=" in l.split(" user=")[0] for l in lines))
ok("unknown paths are not logged", not any("/api/nope" in l for l in lines))
con = sqlite3.connect(db)
secrets = {v for (v,) in con.execute("SELECT bah FROM record UNION SELECT bah FROM reject") if v and len(v) >= 6}
text = open(log, encoding="utf-8").read()
hits = [s for s in secrets if s in text]
ok(f"no BAH of {len(secrets)} in the log", secrets and not hits, hits[:3])
ok("no passwords in the log", "alice-pass" not in text and "wrong-password" not in text)
PY

# ---- TLS (when libmicrohttpd has it, as Debian's, with GnuTLS) ----
if ! command -v openssl >/dev/null 2>&1; then
  echo "# skipped: TLS (no openssl to make a certificate)"
elif ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null; then
  echo "# skipped: TLS (openssl cannot make a certificate)"
elif printf 'listen = 127.0.0.1:0\nmllp_listen = off\ndb = %s\ntls_cert = %s\ntls_key = %s\n' \
       "$DB" "$T/cert.pem" "$T/key.pem" > "$T/tls.conf" &&
     ! launch "$T/tls.conf" "$T/tls.out" "$T/tls.err" &&
     grep -q 'without TLS support' "$T/tls.err"; then
  echo "# skipped: TLS (libmicrohttpd was built without it)"
else
  check "TLS: prints an https address" grep -q '^listening on https://127.0.0.1:' "$T/tls.out"
  py "$URL" "$T/cert.pem" <<'PY'
import sys
from e2e_lib import ok
from api_client import Client
url, cert = sys.argv[1:3]
c = Client(url, cafile=cert)
ok("TLS: /healthz", c.get("/healthz").status == 200)
r = c.login("bob", "bob-pass-12")
ok("TLS: login", r.status == 200, r.status)
ok("TLS: the cookie is Secure", "; Secure" in (c.set_cookie or ""), c.set_cookie)
ok("TLS: HSTS", "max-age" in c.get("/api/me").headers.get("strict-transport-security", ""))
PY
  kill -TERM "$SPID" 2>/dev/null || true; rc=0; wait "$SPID" || rc=$?
  eq "TLS server: exit status 0" "$rc" 0
fi

# ---- configuration errors ----
printf 'listen = 127.0.0.1:0\nnonsense = 1\n' > "$T/bad.conf"
run "$CAREBASE" --db "$DB" serve --config "$T/bad.conf" 2>"$T/bad.err"
eq "an unknown setting is refused" "$RC" 2
check "... naming the file and line" grep -q 'bad.conf:2' "$T/bad.err"
run "$CAREBASE" --db "$DB" serve --listen nowhere 2>/dev/null
eq "a bad --listen is refused" "$RC" 2

finish
