#!/usr/bin/env bash
# carebase cases: the lineage of an indicator value. The cases listed for a
# numerator or a denominator are as many as `carebase indicators` counts
# for the same scope; --explain adds the grouping trace; xlsx output of
# both commands stores numbers as numbers; no output carries a patient's
# name or ID number.
. "$(dirname "$0")/lib.sh"

"$CAREBASE" --quiet generate --records 3000 --seed 7 --out "$T/fp.csv"
cb import "$T/fp.csv"
check "reference create" cb reference create --name ref1 --min-risk-cases 5

# The hospital with the most records, in the first year of the data.
H=$(sql 'SELECT h.zzjgdm FROM record r JOIN hospital h ON h.id = r.hospital_id
         GROUP BY h.id ORDER BY count(*) DESC, h.id LIMIT 1')
Y=$(sql "SELECT strftime('%Y', min(cy_day) * 86400, 'unixepoch') FROM record")

# ---- counts agree with the indicators ----
cb indicators --hospital "$H" --in "$Y" --ids fp.04,fp.08,fp.14,drg.cmi,fp.alos,fp.cost \
  --format json > "$T/ind.json"
# ind ID SIDE: the indicator's numerator or denominator from ind.json.
ind() { json "$T/ind.json" "[r['$2'] for r in j['rows'] if r['id']=='$1'][0]"; }
for spec in fp.04:numerator fp.04:denominator fp.08:numerator fp.08:denominator \
            fp.14:numerator fp.14:denominator drg.cmi:denominator; do
  id=${spec%:*}; side=${spec#*:}
  cb cases --indicator "$id" --hospital "$H" --in "$Y" --"$side" --format json > "$T/c.json"
  want=$(ind "$id" "$side")
  eq "$id $side: cases listed = indicators' $side ($want)" \
     "$(json "$T/c.json" "len(j['cases'])")" "$(python3 -c "print(int($want))")"
  eq "$id $side: count field" "$(json "$T/c.json" "j['count']")" "$(json "$T/c.json" "len(j['cases'])")"
done
eq "fp.04 has cases on both sides" \
   "$(python3 -c "print($(ind fp.04 numerator) > 0 and $(ind fp.04 denominator) > 0)")" True

# The same in a quarter, by department: the rows of 'indicators --by department'.
cb indicators --by department --hospital "$H" --in "${Y}Q2" --ids fp.04 --format json \
  > "$T/dept.json"
D=$(json "$T/dept.json" "max(j['rows'], key=lambda r: r['denominator'] or 0)['department']")
cb cases --indicator fp.04 --hospital "$H" --in "${Y}Q2" --department "$D" --denominator \
  --format csv > "$T/dept.csv"
eq "department $D, ${Y}Q2: cases = denominator" "$(($(wc -l < "$T/dept.csv") - 1))" \
   "$(json "$T/dept.json" "[int(r['denominator']) for r in j['rows'] if r['department']=='$D'][0]")"

# Consortium-wide, all dates: #14 by its national number.
cb indicators --by consortium --period all --ids fp.14 --format json > "$T/all14.json"
cb cases --indicator 14 --numerator --format json > "$T/c14.json"
eq "national number 14 is fp.14" "$(json "$T/c14.json" "j['indicator']['id']")" fp.14
eq "fp.14 numerator, everything" "$(json "$T/c14.json" "j['count']")" \
   "$(json "$T/all14.json" "int(j['rows'][0]['numerator'])")"

# Sums: each case's share adds up to the numerator.
cb cases --indicator fp.alos --hospital "$H" --in "$Y" --numerator --format json > "$T/los.json"
eq "fp.alos numerator: days add up" "$(json "$T/los.json" "int(sum(c['contribution'] for c in j['cases']))")" \
   "$(python3 -c "print(int($(ind fp.alos numerator)))")"
cb cases --indicator fp.cost --hospital "$H" --in "$Y" --numerator --format json > "$T/cost.json"
check "fp.cost numerator: yuan add up" python3 -c "
import json; j=json.load(open('$T/cost.json'))
s=sum(c['contribution'] for c in j['cases']); want=$(ind fp.cost numerator)
assert abs(s - want) < 0.01 and abs(j['numerator'] - want) < 0.01, (s, want)"

# ---- --explain: the DRG and its trace ----
cb cases --indicator fp.04 --hospital "$H" --in "${Y}Q1" --numerator --explain --format csv \
  > "$T/x.csv"
check "explain: every case has both traces, naming its stored DRG" python3 -c "
import csv; rows=list(csv.DictReader(open('$T/x.csv', encoding='utf-8')))
assert rows, 'no cases'
for r in rows:
    assert r['trace_zh'] and r['trace_en'], r['record_id']
    assert r['drg'] and r['drg'] in r['trace_en'].splitlines()[0], (r['drg'], r['trace_en'][:200])
    assert 'MDC' in r['trace_en'], r['record_id']
    assert 'grouping now gives' not in r['trace_en'], r['trace_en'][-300:]
print(len(rows), 'traced')"
cb cases --indicator fp.04 --hospital "$H" --in "${Y}Q1" --numerator --explain > "$T/x.txt"
check "explain table: a line per case with its DRG" \
  grep -qE "^[0-9]+  $H  BAH .* DRG [A-Z]{2}[0-9A-Z]{2} SUCCESS \(chs-drg-1.1\)" "$T/x.txt"
check "explain table: the trace below it, zh and en" \
  sh -c "grep -q '^    .*分组成功 MDC' '$T/x.txt' && grep -q '^    .*SUCCESS MDC' '$T/x.txt'"

# ---- xlsx ----
cb indicators --hospital "$H" --in "$Y" --ids fp.04,fp.05,fp.14,drg.cmi --format xlsx \
  --output "$T/ind.xlsx"
cb cases --indicator fp.04 --hospital "$H" --in "$Y" --numerator --explain --format xlsx \
  --output "$T/cases.xlsx"
py "$T/ind.xlsx" "$T/cases.xlsx" "$T/ind.json" "$(ind fp.04 numerator)" <<'PY'
import json, re, sys, zipfile
import xml.etree.ElementTree as ET
ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
ind_x, cases_x, ind_j, want_cases = sys.argv[1:5]

def sheet(path):
    """Rows of the first sheet as {column letter: (type, text)}, and the styles."""
    z = zipfile.ZipFile(path)
    root = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
    rows = []
    for row in root.find('m:sheetData', ns):
        cells = {}
        for c in row:
            col = re.match(r'[A-Z]+', c.get('r')).group(0)
            v = c.find('m:v', ns)
            t = c.find('m:is/m:t', ns)
            cells[col] = (c.get('t'), v.text if v is not None else t.text if t is not None else None,
                          int(c.get('s', 0)))
        rows.append(cells)
    st = ET.fromstring(z.read('xl/styles.xml'))
    fmts = {int(f.get('numFmtId')): f.get('formatCode') for f in st.iterfind('m:numFmts/m:numFmt', ns)}
    fonts = [f.find('m:b', ns) is not None for f in st.iterfind('m:fonts/m:font', ns)]
    xfs = [(int(x.get('numFmtId', 0)), fonts[int(x.get('fontId', 0))])
           for x in st.iterfind('m:cellXfs/m:xf', ns)]
    frozen = root.find('m:sheetViews/m:sheetView/m:pane', ns)
    return rows, fmts, xfs, frozen is not None and frozen.get('state') == 'frozen'

def ok(cond, what):
    print(('ok - ' if cond else 'not ok - ') + what)

rows, fmts, xfs, frozen = sheet(ind_x)
head = {v[1]: k for k, v in rows[0].items()}
ok(frozen, 'indicators.xlsx: header frozen')
ok(all(xfs[c[2]][1] for c in rows[0].values()), 'indicators.xlsx: header bold')
ok('分子\nNumerator' in head and '值\nValue' in head, 'indicators.xlsx: zh + en headers')
by_id = {r[head['指标编号\nIndicator id']][1]: r for r in rows[1:]}
j = {r['id']: r for r in json.load(open(ind_j))['rows']}
r = by_id['fp.04']
t, v, s = r[head['分子\nNumerator']]
ok(t is None and float(v) == j['fp.04']['numerator'], f'fp.04 numerator stored as a number: {v}')
t, v, s = r[head['值\nValue']]
ok(t is None and abs(float(v) - j['fp.04']['value']) < 1e-9, f'fp.04 value stored as a number: {v}')
ok(fmts.get(xfs[s][0]) == '0.00', f'fp.04 value: 2 decimals by number format ({fmts.get(xfs[s][0])})')
t, v, s = by_id['drg.cmi'][head['分母\nDenominator']]
ok(t is None and float(v) == j['drg.cmi']['denominator'], 'drg.cmi denominator is a number')
r = by_id['fp.05']
ok(head['值\nValue'] not in r and 'catalogue missing' in r[head['说明\nNote']][1],
   'fp.05 not computable: empty value, reason in the note')

rows, fmts, xfs, frozen = sheet(cases_x)
head = {v[1]: k for k, v in rows[0].items()}
ok(frozen, 'cases.xlsx: header frozen')
ok(len(rows) - 1 == int(float(want_cases)), f'cases.xlsx: {len(rows) - 1} case rows = numerator {want_cases}')
rid, contrib = head['记录号\nRecord id'], head['贡献（例）\nContribution (cases)']
ok(all(r[rid][0] is None and r[contrib][0] is None and r[contrib][1] == '1' for r in rows[1:]),
   'cases.xlsx: record ids and contributions are numbers')
date = head['出院日期\nDischarge date (CYSJ)']
ok(all(r[date][0] is None and fmts.get(xfs[r[date][2]][0]) == 'yyyy-mm-dd' for r in rows[1:]),
   'cases.xlsx: discharge dates are dates')
ok(all(r[head['分组过程（英文）\nGrouping trace (en)']][1] for r in rows[1:]), 'cases.xlsx: traces')
PY

# ---- no patient identifiers in any output ----
cb cases --indicator fp.04 --hospital "$H" --in "$Y" --denominator --format csv > "$T/den.csv"
cb cases --indicator fp.04 --hospital "$H" --in "$Y" --denominator > "$T/den.txt"
cb cases --indicator fp.04 --hospital "$H" --in "$Y" --denominator --explain --format json \
  > "$T/den.json"
"$CAREBASE" --db "$DB" sql --format json "SELECT r.zzys AS doctor,
    json_extract(fp_data(r.data), '$.XM') AS xm, json_extract(fp_data(r.data), '$.SFZH') AS sfzh,
    json_extract(fp_data(r.data), '$.JKKH') AS jkkh
  FROM record r JOIN hospital h ON h.id = r.hospital_id WHERE h.zzjgdm = '$H'" > "$T/ids.json"
py "$T/ids.json" "$T/den.csv" "$T/den.txt" "$T/den.json" "$T/x.csv" "$T/x.txt" "$T/cases.xlsx" \
   "$T/c.json" <<'PY'
import json, re, sys, zipfile
recs = json.load(open(sys.argv[1]))
doctors = {r['doctor'] for r in recs if r['doctor']}
numbers = {r[k] for r in recs for k in ('sfzh', 'jkkh') if r[k]}
# A patient may share a name with a doctor; those names are not evidence.
names = {r['xm'] for r in recs if r['xm']} - doctors
print(f'{len(names)} names, {len(numbers)} ID numbers checked')
for path in sys.argv[2:]:
    if path.endswith('.xlsx'):
        z = zipfile.ZipFile(path)
        text = '\n'.join(z.read(n).decode('utf-8') for n in z.namelist() if n.endswith('.xml'))
    else:
        text = open(path, encoding='utf-8').read()
    hit = [n for n in numbers if n in text]
    print(('not ok - ' if hit else 'ok - ') + f'no ID number in {path.rsplit("/", 1)[1]}', hit[:2])
    cells = set()
    if path.endswith('.csv'):
        import csv
        for row in csv.reader(open(path, encoding='utf-8')):
            cells.update(row)
    elif path.endswith('.json'):
        for c in json.load(open(path))['cases']:
            cells.update(str(v) for v in c.values())
    elif path.endswith('.xlsx'):
        cells.update(re.findall(r'<t[^>]*>([^<]*)</t>', text))
    else:
        cells.update(text.split())
    hit = sorted(names & cells)
    print(('not ok - ' if hit else 'ok - ') + f'no patient name in {path.rsplit("/", 1)[1]}', hit[:2])
PY
# The check above would see them: --show-identifiers puts them on the screen.
first=$(cbsql "SELECT json_extract(fp_data(data), '$.SFZH') FROM record
               WHERE id = $(sed -n 2p "$T/den.csv" | cut -d, -f1)")
python3 - "$T/shown.txt" "$CAREBASE" --db "$DB" --quiet cases --indicator fp.04 --hospital "$H" \
  --in "$Y" --denominator --show-identifiers <<'PY'
# On a terminal (a pseudo-terminal here): what a person at the screen sees.
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[2:], stdout=slave, stderr=subprocess.DEVNULL)
os.close(slave)
out = b''
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
p.wait()
open(sys.argv[1], 'wb').write(out)
PY
check "--show-identifiers shows them on a terminal" grep -qF "$first" "$T/shown.txt"
run sh -c "'$CAREBASE' --db '$DB' --quiet cases --indicator fp.04 --numerator --show-identifiers > '$T/redirected.txt'"
eq "--show-identifiers refused when standard output is a file" "$RC" 2

# ---- usage and failures ----
run cb cases --indicator fp.04
eq "no side: usage error" "$RC" 2
run cb cases --indicator fp.n --denominator
eq "a count has no denominator" "$RC" 2
run cb cases --indicator nope --numerator
eq "unknown indicator: usage error" "$RC" 2
run cb cases --indicator fp.04 --numerator --format xlsx
eq "xlsx without --output: usage error" "$RC" 2
run cb indicators --format xlsx
eq "indicators xlsx without --output: usage error" "$RC" 2
run cb cases --indicator fp.04 --numerator --show-identifiers --format csv
eq "identifiers are never exported" "$RC" 2
run cb cases --indicator fp.05 --numerator
exit1 "not computable (catalogue missing): a failure, not an empty list" "$RC"
run cb cases --indicator fp.04 --numerator --format xlsx --output "$T/no/such/dir.xlsx"
exit1 "unwritable xlsx output" "$RC"
run cb cases --indicator fp.04 --numerator --doctor 无此医生 2>"$T/err"
exit1 "an unknown doctor: a failure that names it" "$RC"
check "... the message names the doctor" grep -q "no attending doctor '无此医生'" "$T/err"
run cb cases --indicator fp.04 --numerator --department NO-SUCH 2>"$T/err"
exit1 "an unknown department: a failure that names it" "$RC"
check "... the message names the department" grep -q "no department 'NO-SUCH'" "$T/err"

finish
