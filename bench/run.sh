#!/usr/bin/env bash
# Import benchmark (issue: foundation). Generates N front-page records,
# imports them with carebase (end to end: parse, check, store) and loads the
# same file with DuckDB's read_csv (the comparison peer), RUNS times each;
# reports medians, peak RSS, and RSS at two file sizes (bounded streaming).
#
# usage: bench/run.sh [CAREBASE] ; env: N (default 1000000), RUNS (default 3)
set -euo pipefail
CB=$(realpath "${1:-$(dirname "$0")/../build/carebase}")
cd "$(dirname "$0")"
N=${N:-1000000}
RUNS=${RUNS:-3}
OUT=out
mkdir -p "$OUT"

if [ ! -d node_modules/@duckdb/node-api ]; then
  npm install --no-audit --no-fund --silent >/dev/null
fi

CSV="$OUT/fp-$N.csv"
SMALL="$OUT/fp-$((N / 4)).csv"
[ -f "$CSV" ] || "$CB" --quiet generate --records "$N" --seed 42 --errors 0.02 --out "$CSV"
[ -f "$SMALL" ] || "$CB" --quiet generate --records $((N / 4)) --seed 43 --errors 0.02 --out "$SMALL"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "file: $CSV, $(du -h "$CSV" | cut -f1), $N records, $(head -1 "$CSV" | tr ',' '\n' | wc -l) columns"

DB="$OUT/bench.db"
cb=$(python3 measure.py "$RUNS" "rm -f $DB $DB-wal $DB-shm; sync" -- "$CB" --quiet --db "$DB" import "$CSV")
small=$(python3 measure.py 1 "rm -f $DB $DB-wal $DB-shm; sync" -- "$CB" --quiet --db "$DB" import "$SMALL")
"$CB" --quiet --db "$DB" import --json "$CSV" > "$OUT/last-import.json" || true
DUCK="$OUT/bench.duckdb"
duck=$(python3 measure.py "$RUNS" "rm -f $DUCK $DUCK.wal; sync" -- node duckdb_import.mjs "$CSV" "$DUCK")
rm -f "$DUCK" "$DUCK.wal"

python3 - "$N" "$cb" "$duck" "$small" <<'PY'
import json, sys
n = int(sys.argv[1])
cb, duck, small = (json.loads(a) for a in sys.argv[2:5])
print(f"carebase import: runs {cb['runs']} s, median {cb['median_s']} s = "
      f"{n / cb['median_s']:,.0f} records/s, peak RSS {cb['max_rss_mb']} MB")
print(f"duckdb read_csv: runs {duck['runs']} s, median {duck['median_s']} s = "
      f"{n / duck['median_s']:,.0f} records/s, peak RSS {duck['max_rss_mb']} MB")
print(f"ratio (carebase records/s / duckdb records/s): {duck['median_s'] / cb['median_s']:.2f}")
print(f"RSS at {n // 4} records: {small['max_rss_mb']} MB; at {n}: {cb['max_rss_mb']} MB")
PY
