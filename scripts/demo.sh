#!/usr/bin/env bash
# The demo: a synthetic consortium (a tertiary hub, district hospitals and
# community health centres, two years of discharges) generated in the
# national upload format, imported into demo/carebase.db, and shown; then
# the web application on it: a demo login and `carebase serve` in the
# foreground (Ctrl-C stops it).
#
# usage: scripts/demo.sh [CAREBASE_BINARY]
#   DEMO_LISTEN=127.0.0.1:8080 (the address), DEMO_SERVE=0 (do not serve)
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
echo
echo "== Serving the web application (Ctrl-C stops it)"
echo "   URL:      http://$LISTEN/"
echo "   login:    demo / demo-carebase  (consortium_admin of $CONSORTIUM)"
echo "   大屏:      http://$LISTEN/#/wall"
echo
exec "$CB" --db "$DB" --quiet serve --listen "$LISTEN"
