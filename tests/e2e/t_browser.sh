#!/usr/bin/env bash
# The web application in a real browser: a demo-like consortium (3
# hospitals, 2 years), `carebase serve` on an ephemeral port, and
# tests/browser/run.mjs driving Debian's chromium headless through
# playwright-core: login, every view, the charts drawn, the KPI tiles equal
# to `carebase indicators --format json`, the language switch, a CSV
# download, the command centre and logout. Screenshots of every view are
# kept in browser-artifacts/ of the build directory (or $CB_ARTIFACTS).
#
# Needs what scripts/install-deps.sh installs: chromium (Debian), node, and
# npm ci in web/ (ECharts) and tests/browser/ (playwright-core). A missing
# one is a failure, not a skip.
. "$(dirname "$0")/lib.sh"

MULT=${CB_TIMEOUT_MULT:-1}
ART=${CB_ARTIFACTS:-$PWD/browser-artifacts}
CHROMIUM=${CB_CHROMIUM:-/usr/bin/chromium}

missing=""
[ -x "$CHROMIUM" ] || missing="$missing chromium ($CHROMIUM)"
command -v node >/dev/null 2>&1 || missing="$missing node"
[ -d "$CB_SOURCE/tests/browser/node_modules/playwright-core" ] ||
  missing="$missing playwright-core (tests/browser/node_modules)"
[ -f "$CB_SOURCE/web/node_modules/echarts/dist/echarts.min.js" ] ||
  missing="$missing echarts (web/node_modules)"
if [ -n "$missing" ]; then
  fail "browser test dependencies missing:$missing -- run scripts/install-deps.sh"
  finish
  exit 1
fi

gen --hospitals 3 --years 2 --records 24000 --seed 2025 --errors 0.02 \
  --out "$T/fp.csv" --orgs "$T/orgs.tsv"
cb org load "$T/orgs.tsv"
cb import "$T/fp.csv"
cb reference create --name demo
G=$(sed -n 2p "$T/orgs.tsv" | cut -f4)
printf 'demo-carebase\n' | cb user add demo --role consortium_admin --scope "$G" --password-stdin

# What the CLI says, for the same queries as the views.
KPI=fp.n,fp.04,fp.08,fp.14,fp.alos,fp.cost,drg.cmi,drg.cei,drg.tei,drg.count
cb indicators --by consortium --period year --group "$G" --ids fp.n --format json > "$T/years.json"
P=$(json "$T/years.json" "j['rows'][-1]['period']")
cb indicators --by consortium --in "$P" --group "$G" --ids "$KPI,drg.grouped_rate" --format json > "$T/kpi_cons.json"
cb indicators --by hospital --in "$P" --group "$G" --ids fp.n,drg.cmi --format json > "$T/hosp.json"
H1=$(json "$T/hosp.json" "max((r for r in j['rows'] if r['id'] == 'fp.n'), key=lambda r: r['value'])['hospital']")
cb indicators --by hospital --in "$P" --hospital "$H1" --ids "$KPI" --format json > "$T/kpi_h1.json"
cb indicators --by consortium --period month --group "$G" --ids fp.n --format json > "$T/trend_cons.json"
cb indicators --by hospital --period month --hospital "$H1" --ids fp.n --format json > "$T/trend_h1.json"
cb indicators --by department --in "$P" --hospital "$H1" --ids fp.n --format json > "$T/dept_h1.json"
python3 - "$T" "$P" "$H1" <<'PY'
import json, sys
T, P, H1 = sys.argv[1:4]
load = lambda n: json.load(open(f"{T}/{n}.json"))["rows"]
kpi = load("kpi_cons")
hosp = load("hosp")
x = {
    "period": P, "h1": H1,
    "kpi_consortium": [r for r in kpi if r["id"] != "drg.grouped_rate"],
    "grouped": int(next(r for r in kpi if r["id"] == "drg.grouped_rate")["numerator"]),
    "hospitals": hosp,
    "nhospitals": len({r["hospital"] for r in hosp}),
    "kpi_h1": load("kpi_h1"),
    "trend_consortium": load("trend_cons"),
    "trend_h1": load("trend_h1"),
    "ndepartments": len({r["department"] for r in load("dept_h1")}),
}
json.dump(x, open(f"{T}/expected.json", "w"), ensure_ascii=False)
PY

# The command centre: the wards of the consortium and an MLLP listener,
# fed a day of simulated ADT history (ending now, local time +0800).
cb simulate --wards-out "$T/wards.tsv"
cat > "$T/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $DB
web_dir = $CB_SOURCE/web
refresh = 0
mllp_listen = 127.0.0.1:0
wards = $T/wards.tsv
EOF
"$CAREBASE" serve --config "$T/serve.conf" >"$T/serve.out" 2>"$T/serve.err" &
SPID=$!
wait_until $((60 * MULT)) \
  bash -c 'grep -qs "^listening on" "$1" || ! kill -0 "$2" 2>/dev/null' _ "$T/serve.out" "$SPID" || true
if ! grep -q '^listening on' "$T/serve.out"; then
  fail "server started"; cat "$T/serve.err"; kill -KILL "$SPID" 2>/dev/null || true; finish; exit 1
fi
URL=$(sed -n 's/^listening on //p' "$T/serve.out")
MLLP=$(sed -n 's/^mllp listening on //p' "$T/serve.out")
cb simulate --to "$MLLP" --start "$(date -u -d '-24 hours +8 hours' '+%Y-%m-%d %H:%M')" --days 1 \
  --seed 5 --malformed 0 >/dev/null

rm -rf "$ART"
mkdir -p "$ART"
out=$(CB_TIMEOUT_MULT=$MULT CB_CHROMIUM=$CHROMIUM CB_MLLP=$MLLP CB_BIN=$CAREBASE CB_DB=$DB \
      CB_LIVE_START="$(date -u -d '+8 hours' '+%Y-%m-%d %H:%M')" \
      node "$CB_SOURCE/tests/browser/run.mjs" "$URL/" demo demo-carebase "$T/expected.json" "$ART" 2>&1) ||
  true
while IFS= read -r line; do
  case "$line" in
    "ok - "*) pass "${line#ok - }" ;;
    "not ok - "*) fail "${line#not ok - }" ;;
    *" passed, "*" failed") ;;
    "") ;;
    *) echo "    $line" ;;
  esac
done <<<"$out"
grep -q ' passed, 0 failed$' <<<"$out" || fail "the browser run completed without failures"
n=$(find "$ART" -name '*.png' | wc -l)
check "screenshots of the views kept ($n in $ART)" test "$n" -ge 9

kill -TERM "$SPID"
rc=0; wait "$SPID" || rc=$?
eq "server: exit status 0 after SIGTERM" "$rc" 0
check "no patient identifiers in the server log" \
  bash -c '! grep -Eq "bah=|[?&]hospital=" "$1"' _ "$T/serve.err"

finish
