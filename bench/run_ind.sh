#!/usr/bin/env bash
# Indicator engine benchmark (issue 4: the indicator engine, §9 and floors).
#
# Data (built once, idempotent; everything in bench/out/, git-ignored):
#   1. N generated front pages (`carebase generate --seed 42 --errors 0.02`,
#      the same file as bench/run.sh), imported into a fresh database, and a
#      DRG reference created from them (`carebase reference create`).
#   2. The fact table replicated with SQL to TARGET rows (default
#      10,000,000): copy k (k = 1, 2, ...) has record_id + k * 2,000,000 and
#      its discharge dates moved k * 2 whole years back, so the copies do
#      not overlap in time; dimensions, amounts, flags, cohorts and DRGs are
#      the generated ones. The last copy is partial to reach TARGET exactly.
#      The result is out/ind-base-N-TARGET.db; each run works on a fresh
#      copy (out/ind.db), because the incremental step imports into it.
#   3. The fact table and the reference (mapped to the engine's DRG ids)
#      exported to CSV for DuckDB (not timed).
#
# Runs:
#   ind_bench (bench/ind_bench.c): engine load time and memory; query plus
#     evaluation of every catalogue indicator on every row, by department x
#     month, hospital x month and consortium x year (RUNS each, 2 threads;
#     department x month also on 1 thread), and again over the facts in
#     random order; incremental update after importing one record
#     (`carebase import` of a 1-record CSV, RUNS rounds).
#   duckdb_indicators.mjs: the same counters and indicator values by
#     hospital x department x month in one SQL query (two formulations,
#     RUNS times each), every value checked against the engine's rows.
#
# usage: bench/run_ind.sh [BUILD_DIR] ; env: N (default 1000000), RUNS
# (default 5), TARGET (default 10000000)
set -euo pipefail
B=$(realpath "${1:-$(dirname "$0")/../build}")
CB="$B/carebase"
cd "$(dirname "$0")"
N=${N:-1000000}
RUNS=${RUNS:-5}
TARGET=${TARGET:-10000000}
OUT=out
mkdir -p "$OUT"

if [ ! -d node_modules/@duckdb/node-api ]; then
  npm install --no-audit --no-fund --silent >/dev/null
fi

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

CSV="$OUT/fp-$N.csv"
[ -f "$CSV" ] || "$CB" --quiet generate --records "$N" --seed 42 --errors 0.02 --out "$CSV"

BASE="$OUT/ind-base-$N-$TARGET.db"
if [ ! -f "$BASE" ]; then
  TMP="$OUT/ind-build.db"
  rm -f "$TMP" "$TMP-wal" "$TMP-shm"
  t0=$(date +%s.%N)
  "$CB" --quiet --db "$TMP" import "$CSV"
  t1=$(date +%s.%N)
  "$CB" --quiet --db "$TMP" reference create --name bench-ref >/dev/null
  accepted=$(sqlite3 "$TMP" "SELECT count(*) FROM fact")
  echo "import: $accepted of $N records accepted in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s; reference bench-ref created"
  # Replicate: copy k shifted by 2k years; the last copy partial.
  k=1
  have=$accepted
  while [ "$have" -lt "$TARGET" ]; do
    take=$((TARGET - have < accepted ? TARGET - have : accepted))
    sqlite3 "$TMP" <<SQL
INSERT INTO fact(record_id, hospital_id, dept_id, doctor_id, cy_day, los, zfy, drug,
                 material, flags, cohorts, drg_id, gen)
SELECT record_id + $k * 2000000, hospital_id, dept_id, doctor_id,
       CAST(julianday(date('2000-01-01', '+' || cy_day || ' days', '-$((2 * k)) years'))
            - julianday('2000-01-01') AS INTEGER),
       los, zfy, drug, material, flags, cohorts, drg_id, gen
FROM fact WHERE record_id < 2000000 ORDER BY record_id LIMIT $take;
SQL
    have=$((have + take))
    k=$((k + 1))
  done
  sqlite3 "$TMP" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
  echo "replicated: $(sqlite3 "$TMP" "SELECT count(*) || ' facts, days ' || min(cy_day) || '..' || max(cy_day) FROM fact") ($((k - 1)) copies of the $accepted)"
  mv "$TMP" "$BASE"
  rm -f "$TMP-wal" "$TMP-shm"
fi

# DuckDB input (not timed): the facts, and the reference by engine DRG id
# (as the engine maps it: dim_drg (scheme, drg) -> reference_drg of the
# reference's scheme; mean_cost only for DRGs with reference cases).
FACT_CSV="$OUT/ind-fact-$N-$TARGET.csv"
REF_CSV="$OUT/ind-ref-$N-$TARGET.csv"
if [ ! -f "$FACT_CSV" ]; then
  sqlite3 -csv -header "$BASE" "SELECT record_id, hospital_id, dept_id, doctor_id, cy_day,
    los, zfy, drug, material, flags, cohorts, drg_id FROM fact" > "$FACT_CSV.tmp"
  mv "$FACT_CSV.tmp" "$FACT_CSV"
fi
if [ ! -f "$REF_CSV" ]; then
  sqlite3 -csv -header "$BASE" "SELECT d.id AS drg_id, rd.weight,
    CASE WHEN rd.cases > 0 THEN rd.mean_cost END AS mean_cost, rd.mean_los, rd.risk
    FROM dim_drg d JOIN reference r ON r.name = 'bench-ref' AND r.scheme = d.scheme
    JOIN reference_drg rd ON rd.reference_id = r.id AND rd.drg = d.drg" > "$REF_CSV"
fi

# A fresh copy for this run (the incremental step writes into it).
DB="$OUT/ind.db"
rm -f "$DB" "$DB-wal" "$DB-shm"
cp "$BASE" "$DB"

# One new record per incremental round: line i of the CSV with a new case
# number (A48), imported by `carebase import` between measurements.
cat > "$OUT/ind-import-one.sh" <<EOF
#!/usr/bin/env bash
# usage: ind-import-one.sh ROUND  (called by ind_bench)
set -euo pipefail
one="$OUT/ind-one-\$1.csv"
python3 - "$CSV" "\$one" "\$1" <<'PY'
import csv, sys
src, dst, i = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = csv.reader(open(src, encoding='utf-8-sig', newline=''))
h = next(r)
for _ in range(i + 1):
    row = next(r)
row[h.index('A48')] = str(90000000 + i)
with open(dst, 'w', encoding='utf-8', newline='') as f:
    w = csv.writer(f, lineterminator='\r\n')
    w.writerow(h)
    w.writerow(row)
PY
"$CB" --quiet --db "$DB" import "\$one" >/dev/null
EOF
chmod +x "$OUT/ind-import-one.sh"

ROWS_TSV="$OUT/ind-engine-rows.tsv"
"$B/ind_bench" "$DB" "$RUNS" "$ROWS_TSV" "$OUT/ind-import-one.sh" | tee "$OUT/ind-bench.jsonl"
node duckdb_indicators.mjs "$FACT_CSV" "$REF_CSV" "$RUNS" "$ROWS_TSV" \
  ../data/indicators/catalogue-2019.tsv | tee "$OUT/ind-duckdb.jsonl"

python3 - "$OUT/ind-bench.jsonl" "$OUT/ind-duckdb.jsonl" <<'PY'
import json, sys
eng = [json.loads(l) for l in open(sys.argv[1])]
duck = {json.loads(l)['what'] + json.loads(l).get('form', ''): json.loads(l)
        for l in open(sys.argv[2])}
q = duck['query']
load = next(d for d in eng if d['what'] == 'load')
print(f"engine load: {load['facts']} facts in {load['load_s']} s; "
      f"{load['engine_bytes_per_discharge']} bytes/discharge (engine), RSS growth "
      f"{load['rss_delta_less_sqlite_bytes_per_discharge']} bytes/discharge without SQLite's heap")
for d in eng:
    if d['what'] == 'query':
        print(f"engine ({d.get('path', 'full')}) {d['unit']} x {d['period']}, {d['threads']} thread(s), {d['order']} order: "
              f"median {d['median_s']:.4f} s (query {d['query_median_s']:.4f} + evaluation "
              f"{d['eval_median_s']:.4f}), {d['rows']} rows x {d['indicators']} indicators")
    if d['what'] == 'incremental':
        print(f"incremental (one imported record, {d['rounds']} rounds, added {d['added']}): "
              f"load {d['load_median_ms']} ms, re-query hospital x month {d['requery_median_ms']} ms, "
              f"together {d['total_median_ms']} ms")
print(f"duckdb load: {duck['load']['load_s']} s")
for f in ('filter', 'arith'):
    d = duck['query_form' + f]
    print(f"duckdb dept x month, {f}: median {d['median_s']:.4f} s, check {d['check']}")
e = next(d for d in eng if d['what'] == 'query' and d['unit'] == 'department'
         and d['threads'] == 2 and d['order'] == 'stored' and d.get('path') == 'cube')
print(f"ratio (duckdb best median / engine median, dept x month, 2 threads): "
      f"{q['median_s'] / e['median_s']:.1f}")
c = q['check']
print(f"check (every counter of every row, {q['best_form']}): {c['result']}, "
      f"{c['values_compared']} values, {c['mismatches']} mismatches")
print(f"load average after: {' '.join(open('/proc/loadavg').read().split()[:3])}")
PY
