#!/usr/bin/env bash
# /api/cases on the 10M-fact web benchmark database (bench/run_web.sh makes
# out/web.db and its user "bench"): each query three times, the median.
#
# usage: bench/run_cases.sh [CAREBASE] [DB]
set -euo pipefail
CB=$(realpath "${1:-$(dirname "$0")/../build/carebase}"); DB=${2:-$(dirname "$0")/out/web.db}; TMP=$(mktemp -d)
printf 'listen = 127.0.0.1:0\ndb = %s\nthreads = 2\n' "$(realpath "$DB")" > $TMP/serve.conf
s0=$(date +%s.%N)
"$CB" serve --config $TMP/serve.conf > $TMP/out 2> $TMP/log & SERVER=$!
trap 'kill $SERVER; wait $SERVER 2>/dev/null; rm -rf $TMP' EXIT
for _ in $(seq 1200); do grep -q '^listening on' $TMP/out && break; sleep 0.1; done
URL=$(sed -n 's/^listening on //p' $TMP/out | head -1)
echo "listening after $(awk "BEGIN{print $(date +%s.%N) - $s0}") s"
curl -fsS -c $TMP/jar -H 'Content-Type: application/json' -d '{"user":"bench","password":"bench-password-1"}' "$URL/api/login" >/dev/null
C=$(awk '$6 == "cb_session" {print $7}' $TMP/jar)
HUB=$(sqlite3 "$DB" "SELECT zzjgdm FROM hospital ORDER BY id LIMIT 1")
DEPT=$(sqlite3 "$DB" "SELECT code FROM dim_dept ORDER BY id LIMIT 1")
for q in "indicator=fp.04&side=numerator&in=2025" "indicator=fp.04&side=denominator&in=2025-12" \
         "indicator=fp.04&side=numerator&in=2025&hospital=$HUB" \
         "indicator=drg.cmi&side=denominator&in=2025-12&hospital=$HUB&department=$DEPT" \
         "indicator=fp.04&side=numerator&in=2025&offset=400"; do
  t=$(for i in 1 2 3; do
        curl -fsS -o $TMP/body -w "%{time_total}\n" -b "cb_session=$C" "$URL/api/cases?$q"
      done | sort -n | sed -n 2p)
  n=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['count'], len(j['cases']))" $TMP/body)
  echo "median ${t} s  count, listed: ${n}  $q"
done
