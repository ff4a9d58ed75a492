#!/usr/bin/env bash
# DRG grouper benchmark (issue: CHS-DRG grouper).
#
# 1. drg_bench (bench/drg_bench.c): scheme load time and memory; grouping
#    throughput on one thread over records already in memory: the golden
#    set (adversarial: long code lists, codes drawn uniformly from the
#    scheme's lists) and generated front pages (realistic case mix,
#    clinical codes translated), each repeated to N records.
# 2. End to end from CSV: `carebase group` on the golden CSV repeated to N
#    records (read, split, group, write CSV), on 1 and 2 threads.
#
# The peer is OpenDRG's JavaScript grouper, which the issue reports at
# 4,763 records/s (Node 20, this machine class, 200,000 records); it is
# not runnable here (no network to GitHub), so the ratio uses that figure.
#
# usage: bench/run_drg.sh [BUILD_DIR] ; env: N (default 1000000), RUNS (default 5)
set -euo pipefail
B=$(realpath "${1:-$(dirname "$0")/../build}")
cd "$(dirname "$0")"
N=${N:-1000000}
RUNS=${RUNS:-5}
SHARED=$(realpath ../../shared)
OUT=out
mkdir -p "$OUT"

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"

# Generated front pages in the golden CSV layout (spec c.5.1 inputs).
GEN="$OUT/gen-200k.csv"
GEN_GOLDEN="$OUT/gen-200k-golden.csv"
[ -f "$GEN" ] || "$B/carebase" --quiet generate --records 200000 --seed 7 --errors 0 --out "$GEN"
[ -f "$GEN_GOLDEN" ] || python3 - "$GEN" "$GEN_GOLDEN" <<'PY'
import csv, sys
r = csv.reader(open(sys.argv[1], encoding='utf-8-sig'))
h = next(r); ix = {k: i for i, k in enumerate(h)}
g = lambda row, k: row[ix[k]] if k in ix else ''
dxc = ['C03C'] + ['C06x%02dC' % i for i in range(1, 41)]
pxc = ['C14x01C'] + ['C35x%02dC' % i for i in range(1, 41)]
with open(sys.argv[2], 'w') as out:
    out.write('index,sex,age,age_days,weight,dept,los,leaving_type,dx,px\n')
    for row in r:
        dx = [g(row, k) for k in dxc]; dx = [dx[0]] + [d for d in dx[1:] if d]
        px = [g(row, k) for k in pxc if g(row, k)] or ['']
        age_days = g(row, 'A16') if g(row, 'A14') == '0' else ''
        f = [g(row, 'A48'), g(row, 'A12C'), g(row, 'A14'), age_days, g(row, 'A18x01'),
             g(row, 'B16C'), g(row, 'B20'), g(row, 'B34C'), '|'.join(dx), '|'.join(px)]
        if not any(',' in x for x in f):
            out.write(','.join(f) + '\n')
PY

for p in chs-drg-1.1 bj-drg-2022; do
  "$B/drg_bench" "$SHARED/data/$p" "$SHARED/data/$p/golden/records.csv" "$N" "$RUNS" off
  "$B/drg_bench" "$SHARED/data/$p" "$GEN_GOLDEN" "$N" "$RUNS" codes | grep -v '"load"'
done

# End to end from CSV.
BIG="$OUT/golden-x$((N / 20000)).csv"
if [ ! -f "$BIG" ]; then
  head -1 "$SHARED/data/chs-drg-1.1/golden/records.csv" > "$BIG"
  for _ in $(seq $((N / 20000))); do tail -n +2 "$SHARED/data/chs-drg-1.1/golden/records.csv"; done >> "$BIG"
fi
rows=$(($(wc -l < "$BIG") - 1))
for t in 1 2; do
  r=$(python3 measure.py "$RUNS" "" -- "$B/carebase" --quiet group --threads "$t" \
        --scheme "$SHARED/data/chs-drg-1.1" "$BIG")
  python3 -c "import json,sys; d=json.loads(sys.argv[1]); n=int(sys.argv[2]); print(json.dumps({'what':'group_csv_end_to_end','threads':int(sys.argv[3]),'records':n,'runs':d['runs'],'median_s':d['median_s'],'records_per_s':round(n/d['median_s']),'max_rss_mb':d['max_rss_mb']}))" "$r" "$rows" "$t"
done
