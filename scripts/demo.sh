#!/usr/bin/env bash
# The demo: a synthetic consortium (a tertiary hub, district hospitals and
# community health centres, two years of discharges) generated in the
# national upload format, imported into demo/carebase.db, and shown; then
# the web application on it: a demo login and `carebase serve` (Ctrl-C
# stops it), fed live by `carebase simulate`: three days of HL7 ADT history
# for the consortium's wards, then a live stream at an hour a minute, so
# that the command centre moves.
#
# usage: scripts/demo.sh [CAREBASE_BINARY]
#   DEMO_LISTEN=127.0.0.1:8080 (the address), DEMO_SERVE=0 (do not serve),
#   DEMO_MLLP=127.0.0.1:2575 (the MLLP listener), DEMO_SIMULATE=0 (no stream)
set -euo pipefail
cd "$(dirname "$0")/.."
CB=${1:-build/carebase}
DEMO=demo
DB=$DEMO/carebase.db
mkdir -p "$DEMO"
rm -f "$DB" "$DB-wal" "$DB-shm"

echo "== Generating the demo consortium (5 hospitals, 2 years, 2% realistic errors)"
"$CB" generate --hospitals 5 --years 2 --seed 2025 --errors 0.02 \
  --out "$DEMO/front-page-western.csv" --orgs "$DEMO/consortium.tsv"

echo
echo "== Loading the consortium directory"
"$CB" --db "$DB" org load "$DEMO/consortium.tsv"

echo
echo "== The wards of the consortium's hospitals (beds, ICU, ED) for the live census"
"$CB" --db "$DB" simulate --wards-out "$DEMO/wards.tsv"
echo "   $DEMO/wards.tsv: $(($(wc -l <"$DEMO/wards.tsv") - 1)) wards"

echo
echo "== Importing the front pages (checked against the national QC rules)"
"$CB" --db "$DB" import "$DEMO/front-page-western.csv"

echo
echo "== What was loaded"
"$CB" --db "$DB" org list
echo
"$CB" --db "$DB" status

echo
echo "== A few rejected records and why ('carebase --db $DB rejects' lists them all)"
"$CB" --db "$DB" --quiet rejects > "$DEMO/rejects.txt"
head -n 10 "$DEMO/rejects.txt"

echo
echo "== DRG reference (weights and risk grades from the consortium's own cases)"
"$CB" --db "$DB" reference create --name demo

echo
echo "== Headline indicators of the consortium (国考 and DRG evaluation), by year"
"$CB" --db "$DB" --quiet indicators --by consortium --period year \
  --ids fp.n,fp.04,fp.06.proxy,fp.08,fp.09,fp.14,fp.alos,fp.cost,drg.count,drg.cmi,drg.cei,drg.tei

echo
echo "== The web application: a demo login for the whole consortium"
CONSORTIUM=$(sed -n 2p "$DEMO/consortium.tsv" | cut -f4)
printf 'demo-carebase\n' | "$CB" --db "$DB" --quiet user add demo --role consortium_admin \
  --scope "$CONSORTIUM" --password-stdin
LISTEN=${DEMO_LISTEN:-127.0.0.1:8080}

echo
echo "The demo database is $DB. Try:"
echo "  $CB --db $DB indicators --by hospital --period quarter --ids fp.04,drg.cmi"
echo "  $CB --db $DB group --explain $DEMO/front-page-western.csv | head -40"
echo "  $CB --db $DB rejects --rule QC-DATE-02"
echo "  $CB --db $DB org list departments"
echo "  $CB --db $DB sql \"SELECT cykb, count(*), round(avg(sjzyts), 2) FROM record GROUP BY cykb\""
echo "  $CB --db $DB sql \"SELECT code, count(*) FROM record_dx WHERE seq = 0 GROUP BY code ORDER BY 2 DESC LIMIT 10\""

if [ "${DEMO_SERVE:-1}" = 0 ]; then
  exit 0
fi
MLLP=${DEMO_MLLP:-127.0.0.1:2575}
# The command centre's wards (staffed beds, levels of care) and the
# MLLP listener that the simulator feeds (DEMO_SIMULATE=0: no live stream).
printf 'wards = %s\n' "$PWD/$DEMO/wards.tsv" >"$DEMO/serve.conf"
SERVE_ARGS=(--listen "$LISTEN" --config "$DEMO/serve.conf")
LIVE=0
if [ "${DEMO_SIMULATE:-1}" != 0 ]; then
  SERVE_ARGS+=(--mllp "$MLLP")
  LIVE=1
else
  SERVE_ARGS+=(--mllp off)
fi

echo
echo "== Serving the web application (Ctrl-C stops it)"
echo "   URL:      http://$LISTEN/"
echo "   login:    demo / demo-carebase  (consortium_admin of $CONSORTIUM)"
echo "   大屏:      http://$LISTEN/#/wall"
echo "   运营指挥:  http://$LISTEN/#/live  (the operations command centre, live)"
if [ "$LIVE" = 1 ]; then
  echo "   HL7:      MLLP on $MLLP, fed by 'carebase simulate': 3 days of history,"
  echo "             then live at five times real time up to the present, then in real time"
else
  echo "   HL7:      no live stream (DEMO_SIMULATE=0)"
fi
echo
if [ "$LIVE" = 0 ]; then
  exec "$CB" --db "$DB" --quiet serve "${SERVE_ARGS[@]}"
fi

# The server in the background, the simulator once it listens; both stop
# when the server stops or on Ctrl-C.
"$CB" --db "$DB" --quiet serve "${SERVE_ARGS[@]}" > >(tee "$DEMO/serve.log") 2>&1 &
SERVER=$!
SIMULATOR=""
stop_demo() {
  trap - INT TERM EXIT
  if [ -n "$SIMULATOR" ]; then   # first the simulator: it writes expect.json
    kill "$SIMULATOR" 2>/dev/null || true
    wait "$SIMULATOR" 2>/dev/null || true
  fi
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap stop_demo INT TERM EXIT
for _ in $(seq 1 300); do
  grep -q '^mllp listening on' "$DEMO/serve.log" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done
if grep -q '^mllp listening on' "$DEMO/serve.log" 2>/dev/null; then
  # Three days of history ending six hours ago, then live at five times
  # real time, so that the screens move; after about an hour and a half the
  # stream's clock reaches the wall clock and goes on in real time
  # (--catch-up), so "today" stays today (times are local, +0800).
  START=$(date -u -d '-78 hours +8 hours' '+%Y-%m-%d %H:%M')
  "$CB" --db "$DB" --quiet simulate --to "$MLLP" --start "$START" --days 3 --live --speed 5 --catch-up \
    --connections 2 --window 16 --malformed 0.002 --timeout 3600 \
    --expect "$DEMO/expect.json" &
  SIMULATOR=$!
fi
wait "$SERVER" || true
