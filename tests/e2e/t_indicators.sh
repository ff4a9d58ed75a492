#!/usr/bin/env bash
# carebase indicators / reference: the engine's numbers, cross-checked
# against straightforward SQL over the stored records (not the facts), with
# the definitions of spec c.0/c.1 re-written independently in Python.
. "$(dirname "$0")/lib.sh"

"$CAREBASE" --quiet generate --records 6000 --seed 11 --errors 0.01 --out "$T/fp.csv" \
  --orgs "$T/orgs.tsv"
cb org load "$T/orgs.tsv"
cb import "$T/fp.csv"
eq "one fact per accepted record" "$(sql 'SELECT count(*) FROM fact')" \
   "$(sql 'SELECT count(*) FROM record')"

# Without a reference the DRG indicators are not computable, never 0.
cb indicators --by consortium --period all --ids drg.cmi,fp.14 --format json > "$T/noref.json"
eq "no reference: CMI not computable" \
   "$(json "$T/noref.json" "j['rows'][0]['status']")" "not computable: no DRG reference"
eq "no reference: #14 value is null" \
   "$(json "$T/noref.json" "j['rows'][1]['value']")" "None"

check "reference create" cb reference create --name ref1 --min-risk-cases 5
eq "reference listed" "$(cb reference list --format csv | tail -n +2 | cut -d, -f2)" "ref1"
cb indicators --by hospital --period year --format json > "$T/h.json"
cb indicators --by consortium --period all --format json > "$T/all.json"

# Independent recomputation from the record table and the national
# procedure catalogue (categories), per hospital and year of CYSJ.
rc=0
"$CAREBASE" --db "$DB" sql --format csv \
  "SELECT id, json_extract(fp_data(data), '$.YZZY_YLJG') FROM record WHERE lyfs = '2'" \
  > "$T/transfers.csv"
python3 - "$DB" "$CB_SHARED/data/nhc-2019/procedures.tsv" "$T/h.json" "$T/all.json" "$T/transfers.csv" <<'PY' || rc=$?
import csv, json, sqlite3, sys, datetime, collections
db, procs, hj, aj, tf = sys.argv[1:6]
cat = {}
with open(procs, encoding='utf-8') as f:
    for r in csv.DictReader(f, delimiter='\t'):
        cat[r['code']] = r['category']
con = sqlite3.connect(db)
hosp = dict(con.execute('SELECT id, zzjgdm FROM hospital'))
rank = {'三级': 3, '二级': 2, '基层': 1}
level = {i: rank.get(l, 0) for i, l in con.execute('SELECT id, level FROM hospital')}
by_name = {n: i for i, n in con.execute('SELECT id, name FROM hospital WHERE name IS NOT NULL')}
groups = collections.defaultdict(set)
for g, h in con.execute("SELECT m.group_id, m.hospital_id FROM org_member m JOIN org_group g"
                        " ON g.id = m.group_id WHERE g.kind = 'consortium'"):
    groups[h].add(g)
# the receiving institution of each transfer, from the stored items
transfer_to = {int(r[0]): r[1] for r in csv.reader(open(tf, encoding='utf-8'))
               if r and r[0].isdigit()}
px = collections.defaultdict(list)
for rid, code, inc, heal in con.execute('SELECT record_id, code, incision, healing FROM record_px'):
    px[rid].append((code, inc, heal))
acc = collections.defaultdict(lambda: collections.Counter())
for rid, hid, day, los, lyfs, zfy, jbdm in con.execute(
        'SELECT id, hospital_id, cy_day, sjzyts, lyfs, zfy, jbdm FROM record'):
    year = (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).year
    for key in ((hosp[hid], str(year)), ('', 'all')):
        a = acc[key]
        a['n'] += 1
        a['los'] += los or 0
        a['zfy'] += zfy or 0
        a['deaths'] += lyfs == '5'
        ps = px.get(rid, [])
        a['surgical'] += any(cat.get(c) in ('手术', '介入治疗') for c, _, _ in ps)
        inc1 = [h for c, i, h in ps if i == '1']
        a['inc1'] += bool(inc1)
        a['ssi'] += any(h == '3' for h in inc1)
        a['ami'] += (jbdm or '').startswith('I21')
        to = by_name.get(transfer_to.get(rid, ''))
        down2 = (lyfs == '2' and to is not None and to != hid and groups[hid] & groups[to]
                 and 0 < level[to] < level[hid])
        a['down'] += lyfs == '3' or bool(down2)
want = {'fp.n': lambda a: (a['n'], 1), 'fp.04': lambda a: (a['surgical'], a['n']),
        'fp.09': lambda a: (a['ssi'], a['inc1']), 'fp.alos': lambda a: (a['los'], a['n']),
        'fp.mortality': lambda a: (a['deaths'], a['n']), 'fp.cost': lambda a: (a['zfy'] / 100, a['n']),
        'fp.10.1.n': lambda a: (a['ami'], 1), 'fp.02': lambda a: (a['down'], 1)}
bad = checked = 0
for path, unit in ((hj, 'hospital'), (aj, 'all')):
    for r in json.load(open(path))['rows']:
        if r['id'] not in want:
            continue
        key = (r['hospital'], r['period']) if unit == 'hospital' else ('', 'all')
        num, den = want[r['id']](acc[key])
        checked += 1
        if den == 0:  # an empty denominator is 'not computable', never 0
            if r['value'] is not None or 'empty denominator' not in r['status']:
                bad += 1
                print('empty denominator not reported', key, r)
            continue
        if r['numerator'] != num or r['denominator'] != den:
            bad += 1
            print('mismatch', unit, key, r['id'], r['numerator'], r['denominator'], 'want', num, den)
print(f'checked {checked}, mismatched {bad}')
sys.exit(1 if bad or checked < 20 else 0)
PY
eq "engine = independent SQL recomputation" "$rc" 0

# DRG evaluation: CMI over the reference population itself is the mean
# weight; CEI/TEI near 1 for the population the reference came from.
eq "DRG count = distinct grouped DRGs" \
   "$(json "$T/all.json" "[r['value'] for r in j['rows'] if r['id']=='drg.count'][0]")" \
   "$(sql "SELECT count(DISTINCT drg_id) FROM fact WHERE drg_id > 0 AND flags & 32768")"
check "CEI of the reference population is ~1" python3 -c "
import json; j=json.load(open('$T/all.json'))
v=[r['value'] for r in j['rows'] if r['id']=='drg.cei'][0]
assert abs(v-1) < 0.05, v"
check "#14 computed with a reference" python3 -c "
import json; j=json.load(open('$T/all.json'))
r=[r for r in j['rows'] if r['id']=='fp.14'][0]
assert r['status']=='ok' and r['denominator']>0, r"
check "catalogue missing reported for #5" python3 -c "
import json; j=json.load(open('$T/all.json'))
r=[r for r in j['rows'] if r['id']=='fp.05'][0]
assert r['value'] is None and 'catalogue missing' in r['status'], r"

# A user MIS catalogue, loaded at import, makes #5 computable.
printf '# version: test-1\nprefix\tnote\n68.29\tlaparoscopic\n' > "$T/mis.tsv"
# ... either by re-deriving the stored records' facts ...
CAREBASE_CATALOGUE_MIS="$T/mis.tsv" cb regroup --facts
CAREBASE_CATALOGUE_MIS="$T/mis.tsv" cb indicators --by consortium --period all --ids fp.05 \
  --format json > "$T/mis-regroup.json"
# ... or at import.
rm -f "$DB" "$DB-wal" "$DB-shm"
CAREBASE_CATALOGUE_MIS="$T/mis.tsv" cb import "$T/fp.csv"
CAREBASE_CATALOGUE_MIS="$T/mis.tsv" cb indicators --by consortium --period all --ids fp.05 \
  --format json > "$T/mis.json"
check "#5 with a loaded catalogue" python3 -c "
import json; j=json.load(open('$T/mis.json'))
r=j['rows'][0]; assert r['status']=='ok' and r['denominator']>0, r
assert j['catalogues']['mis']=='test-1', j['catalogues']"
eq "regroup --facts gives the same #5 as a fresh import" \
   "$(json "$T/mis-regroup.json" "(j['rows'][0]['numerator'], j['rows'][0]['denominator'])")" \
   "$(json "$T/mis.json" "(j['rows'][0]['numerator'], j['rows'][0]['denominator'])")"

# Periods, filters, an empty period and bad options.
cb indicators --in 2099 --format json > "$T/empty.json"
eq "empty period: no rows" "$(json "$T/empty.json" "len(j['rows'])")" "0"
check "month rows carry previous-period values" python3 -c "
import json,subprocess
out=subprocess.run(['$CAREBASE','--db','$DB','--quiet','indicators','--by','consortium','--period','month','--ids','fp.n','--format','json'],capture_output=True,text=True).stdout
rows=json.loads(out)['rows']; assert len(rows)>=12
assert all(r['previous']==p['value'] for p,r in zip(rows,rows[1:])), rows[:3]"
h1=$(sql 'SELECT zzjgdm FROM hospital ORDER BY id LIMIT 1')
cb indicators --hospital "$h1" --ids fp.n --period all --format json > "$T/one.json"
eq "hospital filter" "$(json "$T/one.json" "[r['hospital'] for r in j['rows']]")" "['$h1']"
check "bad --by is a usage error" sh -c "'$CAREBASE' --db '$DB' indicators --by ward 2>/dev/null; test \$? -eq 2"
check "csv output has a header and rows" sh -c "'$CAREBASE' --db '$DB' --quiet indicators --format csv | head -1 | grep -q '^unit,hospital'"
check "table output in English" sh -c "'$CAREBASE' --db '$DB' --quiet indicators --lang en --ids fp.04 | grep -q 'Share of discharges with surgery'"

finish
