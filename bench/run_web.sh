#!/usr/bin/env bash
# Web API benchmark (issue 5, §7 "Benchmark and floors": p99 <= 50 ms for
# the dashboard endpoints on 10M records with 50 concurrent clients).
#
# Needs wrk (Debian package `wrk`). It is a benchmark tool only, so it is
# checked here and not installed by scripts/install-deps.sh (CI does not
# need it): `apt-get install wrk`.
#
# Data: the indicator benchmark's 10M-fact database (bench/run_ind.sh builds
# out/ind-base-1000000-10000000.db), copied fresh to out/web.db for each run
# (KEEP_DB=1 reuses an existing copy). Its 5 hospitals are put into one
# consortium, BENCH, unless a consortium exists; a consortium_admin `bench`
# is created with that scope.
#
# Runs: `carebase serve` (THREADS_SERVE worker threads, default 4) on a free
# port (it loads the 10M facts before it listens; timed); one login with
# curl for the session cookie; one warm-up request; then
# for each endpoint `wrk -t2 -c50 -d20s --latency --timeout 10s` with the
# cookie (wrk's default 2 s timeout would cut off the slow endpoints' tail).
# Output: a Markdown table (p50, p90, p99, max, requests/s, non-2xx, wrk's
# socket errors) on
# standard output and in out/web-results.md.
#
# usage: bench/run_web.sh [BUILD_DIR] ; env: DUR (20s), CONN (50),
# WRK_THREADS (2), THREADS_SERVE (4), BASE, KEEP_DB
set -euo pipefail
B=$(realpath "${1:-$(dirname "$0")/../build}")
CB="$B/carebase"
cd "$(dirname "$0")"
DUR=${DUR:-20s}
CONN=${CONN:-50}
WRK_THREADS=${WRK_THREADS:-2}
THREADS_SERVE=${THREADS_SERVE:-4}
BASE=${BASE:-out/ind-base-1000000-10000000.db}
DB=out/web.db
PASS=bench-password-1

if ! command -v wrk >/dev/null; then
  echo "run_web.sh: wrk not found (benchmarks only): apt-get install wrk" >&2
  exit 1
fi
[ -f "$BASE" ] || { echo "run_web.sh: $BASE missing: run bench/run_ind.sh first" >&2; exit 1; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "${KEEP_DB:-0}" != 1 ] || [ ! -f "$DB" ]; then
  rm -f "$DB" "$DB-wal" "$DB-shm"
  cp "$BASE" "$DB"
fi

# The consortium and the user.
GROUP=$(sqlite3 "$DB" "SELECT code FROM org_group WHERE kind = 'consortium' ORDER BY id LIMIT 1")
if [ -z "$GROUP" ]; then
  GROUP=BENCH
  "$CB" --quiet --db "$DB" org add consortium "$GROUP" "benchmark consortium"
  # shellcheck disable=SC2046
  "$CB" --quiet --db "$DB" org join "$GROUP" $(sqlite3 "$DB" "SELECT zzjgdm FROM hospital ORDER BY id")
fi
if ! sqlite3 "$DB" "SELECT 1 FROM user WHERE name = 'bench'" | grep -q 1; then
  echo "$PASS" | "$CB" --quiet --db "$DB" user add bench --role consortium_admin \
    --scope "$GROUP" --password-stdin
fi
echo "consortium $GROUP: $(sqlite3 "$DB" "SELECT count(*) FROM org_member m JOIN org_group g ON g.id = m.group_id WHERE g.code = '$GROUP'" 2>/dev/null || echo '?') hospitals; $(sqlite3 "$DB" "SELECT count(*) FROM fact") facts"

TMP=$(mktemp -d)
SERVER=
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
# The command centre too: the consortium's wards and a day of simulated ADT
# over MLLP (the journal is emptied first, so each run starts alike).
sqlite3 "$DB" "DELETE FROM hl7_message" 2>/dev/null || true
"$CB" --quiet --db "$DB" simulate --wards-out "$TMP/wards.tsv"
cat > "$TMP/serve.conf" <<EOF
listen = 127.0.0.1:0
db = $(realpath "$DB")
threads = $THREADS_SERVE
mllp_listen = 127.0.0.1:0
wards = $TMP/wards.tsv
EOF
s0=$(date +%s.%N)
"$CB" serve --config "$TMP/serve.conf" > "$TMP/out" 2> "$TMP/log" &
SERVER=$!
for _ in $(seq 1200); do
  grep -q '^listening on' "$TMP/out" && break
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' "$TMP/out" | head -1)
[ -n "$URL" ] || { echo "run_web.sh: the server did not start" >&2; cat "$TMP/log" >&2; exit 1; }
MLLP=$(sed -n 's/^mllp listening on //p' "$TMP/out" | head -1)
"$CB" --quiet --db "$DB" simulate --to "$MLLP" --days 1 --malformed 0 --seed 3 --window 32 > /dev/null
s1=$(date +%s.%N)
echo "server: $URL, $THREADS_SERVE threads; listening after $(awk "BEGIN{printf \"%.1f\", $s1 - $s0}") s (the facts are loaded before it listens)"

curl -fsS -c "$TMP/jar" -H 'Content-Type: application/json' \
  -d "{\"user\":\"bench\",\"password\":\"$PASS\"}" "$URL/api/login" > /dev/null
COOKIE=$(awk '$6 == "cb_session" {print $7}' "$TMP/jar")
[ -n "$COOKIE" ] || { echo "run_web.sh: login gave no cookie" >&2; exit 1; }

t0=$(date +%s.%N)
curl -fsS -b "cb_session=$COOKIE" "$URL/api/indicators?by=consortium&period=year" > /dev/null
t1=$(date +%s.%N)
echo "first request: $(awk "BEGIN{printf \"%.3f\", $t1 - $t0}") s"

# The requests the web application makes (web/app/views: the overview's
# KPI tiles, its hospital table and a trend; a hospital's department table;
# the DRG and QC views), then, with FULL=1, whole unfiltered answers (every
# indicator, an export rather than a screen).
KPI=fp.n,fp.04,fp.08,fp.14,fp.alos,fp.cost,drg.cmi,drg.cei,drg.tei,drg.count
TABLE=fp.n,fp.04,fp.08,fp.alos,fp.cost,drg.cmi,drg.cei,drg.tei,fp.14,drg.count
HUB=$(sqlite3 "$DB" "SELECT zzjgdm FROM hospital ORDER BY id LIMIT 1")
ENDPOINTS=(
  "/api/indicators?by=consortium&in=2025-12&ids=$KPI"
  "/api/indicators?by=hospital&in=2025-12&ids=$TABLE"
  "/api/indicators?by=consortium&period=month&ids=fp.04"
  "/api/indicators?by=department&hospital=$HUB&in=2025-12&ids=$TABLE"
  "/api/drgs?in=2025&limit=2000"
  "/api/qc?limit=30"
  "/api/live/summary"
  "/api/live/wards?hospital=$HUB"
  "/api/orgs"
  "/healthz"
)
if [ "${FULL:-0}" = 1 ]; then
  ENDPOINTS+=(
    "/api/indicators?by=consortium&period=year"
    "/api/indicators?by=hospital&period=quarter&in=2025Q1"
    "/api/indicators?by=department&period=month&in=2025-03"
  )
fi

# wrk latency values ("1.23ms", "456.78us", "1.02s") in ms.
to_ms() {
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.0f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.1f", v * 1000 }
    else print v }'
}

RES=out/web-results.md
{
  echo "| endpoint | bytes | p50 ms | p90 ms | p99 ms | max ms | requests/s | non-2xx | socket errors |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$RES"
for ep in "${ENDPOINTS[@]}"; do
  bytes=$(curl -fsS -b "cb_session=$COOKIE" "$URL$ep" | wc -c)
  wrk -t"$WRK_THREADS" -c"$CONN" -d"$DUR" --latency --timeout 10s -H "Cookie: cb_session=$COOKIE" \
    "$URL$ep" > "$TMP/wrk" 2>&1 || true
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$TMP/wrk")")
  p90=$(to_ms "$(awk '$1 == "90%" {print $2}' "$TMP/wrk")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$TMP/wrk")")
  max=$(to_ms "$(awk '$1 == "Latency" {print $4}' "$TMP/wrk")")
  rps=$(awk '$1 == "Requests/sec:" {printf "%.0f", $2}' "$TMP/wrk")
  bad=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk")
  errs=$(sed -n 's/^ *Socket errors: //p' "$TMP/wrk")
  echo "| \`$ep\` | $bytes | $p50 | $p90 | $p99 | $max | $rps | ${bad:-0} | ${errs:-none} |" >> "$RES"
  echo "$ep: p50 $p50 ms, p99 $p99 ms, $rps req/s, non-2xx ${bad:-0}, socket errors ${errs:-none}" >&2
done
cat "$RES"
# The first paint, in a real browser (needs tests/browser/node_modules and chromium).
if command -v node >/dev/null && [ -d ../tests/browser/node_modules/playwright-core ] && [ -x /usr/bin/chromium ]; then
  node paint.mjs "$URL" bench "$PASS" "${PAINT_RUNS:-7}" > out/paint.json
  echo "first paint (median of ${PAINT_RUNS:-7} fresh browser contexts): $(python3 -c 'import json; print(json.load(open("out/paint.json"))["median"])')"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
