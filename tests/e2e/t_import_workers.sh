#!/usr/bin/env bash
# The import's worker threads change nothing but the speed: with one worker
# or three, the database holds the same content, row for row, and the
# counts agree. A row that only a worker can find malformed (a quote closed
# in the middle of a field), in a chunk far after the first, stops the
# import at that row exactly as a single thread would: the batches before
# it committed, the batch in progress rolled back, the run failed with the
# row's line and column, and importing the corrected file completes it.
. "$(dirname "$0")/lib.sh"

gen --records 6000 --seed 71 --errors 0.03 --out "$T/a.csv"
# A second file that replaces, confirms and duplicates records of the first.
python3 - "$T/a.csv" "$T/b.csv" <<'EOF'
import sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
out = [lines[0]]
for i, l in enumerate(lines[1:]):
    if not l:
        continue
    if i % 5 == 0 and '"' not in l:
        f = l.split(',')
        f[8] += '乙'                        # a new version of the record
        l = ','.join(f)
    out.append(l)
    if i % 997 == 3:
        out.append(l)                      # the same key twice in one file
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(out) + '\n')
EOF

for w in 1 3; do
  DB="$T/w$w.db" cb import --json --workers $w --batch 700 "$T/a.csv" >"$T/a$w.json"
  DB="$T/w$w.db" cb import --json --workers $w --batch 700 "$T/b.csv" >"$T/b$w.json"
done
same_content "one worker and three store the same content" "$T/w1.db" "$T/w3.db"
for f in a b; do
  for k in read accepted rejected inserted replaced unchanged with_warnings; do
    eq "$f: $k is the same with one worker and three" \
       "$(summary "$T/${f}1.json" "$k")" "$(summary "$T/${f}3.json" "$k")"
  done
done
for f in a b; do
  eq "$f: the per-rule counts are the same with one worker and three" \
     "$(json "$T/${f}1.json" "j['files'][0]['rules']")" "$(json "$T/${f}3.json" "j['files'][0]['rules']")"
done
eq "the second file replaced records" "$( [ "$(summary "$T/b3.json" replaced)" -gt 0 ] && echo yes)" yes
eq "and found duplicates" \
   "$(json "$T/b3.json" "[r['records'] > 0 for r in j['files'][0]['rules'] if r['id'] == 'QC-ID-02'][0]")" True

# Row 4,001 of the data (line 4,002), in the fourth chunk of 1024 rows.
python3 - "$T/a.csv" "$T/bad.csv" <<'EOF'
import sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
f = lines[4001].split(',')
f[8] = '"x"y'                              # a quote closed inside the field
lines[4001] = ','.join(f)
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines))
EOF
col=$(python3 -c "import sys; l=open(sys.argv[1],encoding='utf-8').read().split('\n')[4001]; print(len(','.join(l.split(',')[:8])) + 5)" "$T/bad.csv")
for w in 1 3; do
  DB="$T/bad$w.db"
  run cb import --workers $w --batch 700 "$T/bad.csv" 2>"$T/err$w"
  exit1 "workers $w: the malformed row fails the import" "$RC"
  check "workers $w: the message names line 4002, column $col" \
    grep -q "bad.csv: line 4002, column $col: unexpected character after a closing quote" "$T/err$w"
  check "workers $w: 4,000 rows were read before it" grep -q "4000 rows were read before the problem" "$T/err$w"
  eq "workers $w: the run is failed, with the rows before the last whole batch" \
     "$(sql "SELECT status, rows_read, accepted + rejected FROM import_file")" "failed|4000|3500"
  eq "workers $w: five batches of 700 rows are kept" \
     "$(sql "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM reject)")" 3500
  integrity "workers $w: the database is sound"
done
same_content "one worker and three keep the same batches" "$T/bad1.db" "$T/bad3.db"
DB="$T/bad3.db" cb import --workers 3 --batch 700 "$T/a.csv"
DB="$T/clean.db" cb import --workers 3 --batch 700 "$T/a.csv"
DB="$T/bad3.db"
eq "importing the corrected file completes the run" \
   "$(sql "SELECT status, rows_read FROM import_file ORDER BY id DESC LIMIT 1")" "complete|6000"
eq "with the records of a clean import" "$(sql 'SELECT count(*) FROM record')" \
   "$(sql 'SELECT count(*) FROM record' "$T/clean.db")"
finish
