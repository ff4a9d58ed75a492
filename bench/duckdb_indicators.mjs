// The comparison peer for the indicator engine benchmark (bench/run_ind.sh):
// DuckDB computing the engine's counters and every catalogue indicator by
// hospital x department x month of discharge, in one SQL query over the
// same facts, joined to the same DRG reference.
//
// usage: node duckdb_indicators.mjs FACT.csv REF.csv RUNS ENGINE_ROWS.tsv CATALOGUE.tsv
//
// 1. Loads FACT.csv (the store's fact table) and REF.csv (the reference per
//    engine DRG id) into in-memory tables; reports the load time.
// 2. Runs the query RUNS times per formulation (flag tests as FILTER
//    clauses, or as bit arithmetic); the result is materialised inside
//    DuckDB (connection.run), not converted to JavaScript. Reports the runs
//    and the median of each, and the best formulation.
// 3. Compares every counter of every row with the engine's rows
//    (ENGINE_ROWS.tsv, written by ind_bench): integers exactly, the real
//    sums (tw, cei, tei) to a relative 1e-9.
// Output: one JSON object per line.
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [factCsv, refCsv, runsArg, rowsTsv, cataloguePath] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const q = (s) => `'${s.replaceAll("'", "''")}'`;

// Flag bits of struct cb_fact (include/carebase/indicator.h).
const F = {
  SURGICAL: 1 << 0, ELECTIVE: 1 << 1, OBST_NEONATAL: 1 << 2, DEATH: 1 << 3,
  DAY_SURGERY: 1 << 4, DAY_SURGERY_48: 1 << 5, MIS: 1 << 6, LEVEL4: 1 << 7,
  LEVEL4_PROXY: 1 << 8, LEVEL3: 1 << 9, LEVEL3_PROXY: 1 << 10, COMPLICATION: 1 << 11,
  INCISION_I: 1 << 12, SSI_I: 1 << 13, DOWN_REFERRAL: 1 << 14, GROUPED: 1 << 15,
};

// The counters of add_fact() in src/ind/engine.c, as [name, condition, value]:
// count(*) (value null) or sum(value) over the rows where condition holds.
// g: grouped (status SUCCESS and a DRG); rc: the DRG has reference cases.
function counters() {
  const bit = (b) => `(flags & ${b}) <> 0`;
  const mask = (m, v) => `(flags & ${m}) = ${v}`;
  const S = F.SURGICAL, E = F.ELECTIVE, O = F.OBST_NEONATAL, C = F.COMPLICATION;
  const g = 'g', rc = 'g AND mean_cost IS NOT NULL', death = bit(F.DEATH);
  const c = [
    ['n', null, null],
    ['surgical', bit(S), null],
    ['elective_surgical', mask(S | E, S | E), null],
    ['s8_den', mask(S | E | O, S | E), null],
    ['s8_num', mask(S | E | O | C, S | E | C), null],
    ['day24', bit(F.DAY_SURGERY), null],
    ['day48', bit(F.DAY_SURGERY_48), null],
    ['mis', bit(F.MIS), null],
    ['level4', bit(F.LEVEL4), null],
    ['level4_proxy', bit(F.LEVEL4_PROXY), null],
    ['level3', bit(F.LEVEL3), null],
    ['level3_proxy', bit(F.LEVEL3_PROXY), null],
    ['incision_i', bit(F.INCISION_I), null],
    ['ssi_i', bit(F.SSI_I), null],
    ['deaths', death, null],
    ['los', null, 'los'],
    ['zfy', null, 'zfy'],
    ['drug', null, 'drug'],
    ['material', null, 'material'],
    ['down_referral', bit(F.DOWN_REFERRAL), null],
    ['grouped', g, null],
    ['drg_cases', rc, null],
    ['drg_skipped', 'g AND mean_cost IS NULL', null],
    ['weighted', `${rc} AND weight IS NOT NULL`, null],
    ['zfy_weighted', `${rc} AND weight IS NOT NULL`, 'zfy'],
  ];
  for (const k of [1, 2, 3, 4, 0]) {
    c.push([`risk${k}_n`, `${rc} AND risk = ${k}`, null]);
    c.push([`risk${k}_deaths`, `${rc} AND risk = ${k} AND ${death}`, null]);
  }
  c.push(['ungraded', `${rc} AND (risk IS NULL OR risk NOT BETWEEN 0 AND 4)`, null]);
  for (let k = 1; k <= 10; k++) {
    const in_k = `(cohorts & ${1 << (k - 1)}) <> 0`;
    c.push([`cohort${k}_n`, in_k, null]);
    c.push([`cohort${k}_los`, in_k, 'los']);
    c.push([`cohort${k}_zfy`, in_k, 'zfy']);
    c.push([`cohort${k}_deaths`, `${in_k} AND ${death}`, null]);
  }
  c.push(['tw', `${rc} AND weight IS NOT NULL`, 'weight']);
  c.push(['cei', rc, 'zfy / mean_cost']);
  c.push(['tei', rc, 'CASE WHEN mean_los > 0 THEN los / mean_los ELSE 0 END']);
  return c;
}

// Formulation "filter": each counter an aggregate with a FILTER clause,
// straight from the list above.
function queryFilter() {
  const aggs = counters().map(([name, cond, val]) => {
    const agg = val ? `coalesce(sum(${val})${cond ? ` FILTER (WHERE ${cond})` : ''}, 0)`
                    : `count(*)${cond ? ` FILTER (WHERE ${cond})` : ''}`;
    return `${agg} AS ${name}`;
  }).concat(['count(DISTINCT drg_id) FILTER (WHERE g) AS drg_count']);
  return `
  SELECT hospital_id, dept_id, ym,
    ${aggs.join(',\n    ')}
  FROM (
    SELECT f.hospital_id, f.dept_id, f.flags, f.cohorts, f.los, f.zfy, f.drug, f.material,
           f.drg_id, r.weight, r.mean_cost, r.mean_los, r.risk, ${YM} AS ym,
           (f.flags & ${F.GROUPED}) <> 0 AND f.drg_id <> 0 AS g
    FROM fact f LEFT JOIN ref r ON r.drg_id = f.drg_id)
  GROUP BY hospital_id, dept_id, ym`;
}

// Formulation "arith" (the faster one, tuned by hand): conditions as 0/1
// integers multiplied into the sums, no CASE or FILTER per counter; the
// reference's values resolved per fact once (rc: the fact counts for the
// DRG evaluation).
function queryArith() {
  const b = (k) => `((flags >> ${k}) & 1)`;
  const m = (mask, v) => `((flags & ${mask}) = ${v})::INTEGER`;
  const S = F.SURGICAL, E = F.ELECTIVE, O = F.OBST_NEONATAL, C = F.COMPLICATION;
  const death = b(3);
  const a = [
    'count(*) AS n', `sum(${b(0)}) AS surgical`, `sum(${m(S | E, S | E)}) AS elective_surgical`,
    `sum(${m(S | E | O, S | E)}) AS s8_den`, `sum(${m(S | E | O | C, S | E | C)}) AS s8_num`,
    `sum(${b(4)}) AS day24`, `sum(${b(5)}) AS day48`, `sum(${b(6)}) AS mis`,
    `sum(${b(7)}) AS level4`, `sum(${b(8)}) AS level4_proxy`, `sum(${b(9)}) AS level3`,
    `sum(${b(10)}) AS level3_proxy`, `sum(${b(12)}) AS incision_i`, `sum(${b(13)}) AS ssi_i`,
    `sum(${death}) AS deaths`, 'sum(los) AS los', 'sum(zfy) AS zfy', 'sum(drug) AS drug',
    'sum(material) AS material', `sum(${b(14)}) AS down_referral`,
    'sum(gi) AS grouped', 'sum(rc) AS drg_cases', 'sum(gi - rc) AS drg_skipped',
    'sum(rc * hw) AS weighted', 'sum(zfy * (rc * hw)) AS zfy_weighted'];
  for (const k of [1, 2, 3, 4, 0])
    a.push(`sum(rc * (risk = ${k})::INTEGER) AS risk${k}_n`,
           `sum(rc * (risk = ${k})::INTEGER * ${death}) AS risk${k}_deaths`);
  a.push('sum(rc * (risk NOT BETWEEN 0 AND 4)::INTEGER) AS ungraded');
  for (let k = 0; k < 10; k++) {
    const c = `((cohorts >> ${k}) & 1)`;
    a.push(`sum(${c}) AS cohort${k + 1}_n`, `sum(los * ${c}) AS cohort${k + 1}_los`,
           `sum(zfy * ${c}) AS cohort${k + 1}_zfy`, `sum(${c} & ${death}) AS cohort${k + 1}_deaths`);
  }
  a.push('sum(rc * w) AS tw', 'sum(rc * cei1) AS cei', 'sum(rc * tei1) AS tei',
         'count(DISTINCT drg_id) FILTER (WHERE gi = 1) AS drg_count');
  return `
  SELECT hospital_id, dept_id, ym,
    ${a.join(',\n    ')}
  FROM (
    SELECT f.hospital_id, f.dept_id, f.flags, f.cohorts, f.los, f.zfy, f.drug, f.material,
           f.drg_id, ${YM} AS ym,
           ((f.flags & ${F.GROUPED}) <> 0 AND f.drg_id <> 0)::INTEGER AS gi,
           ((f.flags & ${F.GROUPED}) <> 0 AND f.drg_id <> 0
            AND r.mean_cost IS NOT NULL)::INTEGER AS rc,
           (r.weight IS NOT NULL)::INTEGER AS hw, coalesce(r.weight, 0) AS w,
           coalesce(r.risk, -1) AS risk, coalesce(f.zfy / r.mean_cost, 0) AS cei1,
           coalesce(CASE WHEN r.mean_los > 0 THEN f.los / r.mean_los END, 0) AS tei1
    FROM fact f LEFT JOIN ref r ON r.drg_id = f.drg_id)
  GROUP BY hospital_id, dept_id, ym`;
}

// Every catalogue indicator as value = num / den * scale (NULL: not computable).
function indicators() {
  const lines = readFileSync(cataloguePath, 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const h = lines[0].split('\t');
  const col = (row, k) => row[h.indexOf(k)];
  return lines.slice(1).map((l) => {
    const r = l.split('\t');
    const [id, num, den, scale] = [col(r, 'id'), col(r, 'numerator'), col(r, 'denominator'),
                                   col(r, 'scale')];
    return den
      ? `CASE WHEN ${den} > 0 THEN ${num}::DOUBLE / ${den} * ${scale} END AS "${id}"`
      : `CASE WHEN n > 0 THEN ${num}::DOUBLE * ${scale} END AS "${id}"`;
  });
}

// Month of discharge (yyyymm) from the fact day (days since 2000-01-01).
const YM = "year(DATE '2000-01-01' + f.cy_day) * 100 + month(DATE '2000-01-01' + f.cy_day)";

// Counters per (hospital, department, month), then every indicator.
function query(form) {
  return `WITH c AS (${form === 'filter' ? queryFilter() : queryArith()})
SELECT *, ${indicators().join(',\n  ')}
FROM c`;
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r4 = (x) => Math.round(x * 1e4) / 1e4;

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];
const threads = (await con.runAndReadAll("SELECT current_setting('threads')")).getRows()[0][0];

// 1. load
let t0 = performance.now();
await con.run(`CREATE TABLE fact AS SELECT * FROM read_csv(${q(factCsv)}, header = true,
  columns = {'record_id': 'BIGINT', 'hospital_id': 'USMALLINT', 'dept_id': 'USMALLINT',
             'doctor_id': 'UINTEGER', 'cy_day': 'USMALLINT', 'los': 'USMALLINT',
             'zfy': 'UINTEGER', 'drug': 'UINTEGER', 'material': 'UINTEGER',
             'flags': 'UINTEGER', 'cohorts': 'USMALLINT', 'drg_id': 'USMALLINT'})`);
await con.run(`CREATE TABLE ref AS SELECT * FROM read_csv(${q(refCsv)}, header = true,
  columns = {'drg_id': 'USMALLINT', 'weight': 'DOUBLE', 'mean_cost': 'DOUBLE',
             'mean_los': 'DOUBLE', 'risk': 'TINYINT'})`);
const loadS = (performance.now() - t0) / 1000;
const facts = Number((await con.runAndReadAll('SELECT count(*) FROM fact')).getRows()[0][0]);
console.log(JSON.stringify({ what: 'load', duckdb: version, threads: Number(threads), facts,
                             load_s: r4(loadS) }));

// 2. the query, each formulation
const tsv = readFileSync(rowsTsv, 'utf8').trimEnd().split('\n');
const results = {};
for (const form of ['filter', 'arith']) {
  const sql = query(form);
  await con.run(sql);  // warm-up
  const times = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    t0 = performance.now();
    const res = await con.run(sql);
    times.push((performance.now() - t0) / 1000);
    rows = res.rowCount;
  }
  const check = await compare(sql);
  results[form] = { runs: times.map(r4), median_s: r4(median(times)), rows, check };
  console.log(JSON.stringify({ what: 'query_form', form, facts, rows, indicators:
                               indicators().length, runs_s: results[form].runs,
                               median_s: results[form].median_s, check: check.result }));
}
const best = results.filter.median_s <= results.arith.median_s ? 'filter' : 'arith';
console.log(JSON.stringify({
  what: 'query', facts, rows: results[best].rows, best_form: best,
  runs_s: results[best].runs, median_s: results[best].median_s, check: results[best].check,
}));

// 3. every counter of every row against the engine's (not timed)
async function compare(sql) {
  const reader = await con.runAndReadAll(sql);
  const names = reader.columnNames();
  const duck = new Map();
  for (const row of reader.getRows())
    duck.set(`${row[0]}/${row[1]}/${row[2]}`, row);
  const eh = tsv[0].split('\t');
  const col = eh.map((h) => names.indexOf(h));
  let mismatches = 0, compared = 0, missing = 0;
  const examples = [];
  const tot = ['n', 'surgical', 'zfy', 'tw', 'cei', 'drg_count'];
  const totals = { engine: {}, duckdb: {} };
  for (const k of tot) { totals.engine[k] = 0; totals.duckdb[k] = 0; }
  for (const line of tsv.slice(1)) {
    const v = line.split('\t');
    const key = `${v[0]}/${v[1]}/${v[2]}`;
    const d = duck.get(key);
    if (!d) { missing++; continue; }
    duck.delete(key);
    for (let j = 3; j < eh.length; j++) {
      const dv = d[col[j]];
      const real = ['tw', 'cei', 'tei'].includes(eh[j]);
      const e = real ? Number(v[j]) : BigInt(v[j]);
      const x = real ? Number(dv ?? 0) : BigInt(dv ?? 0);
      const ok = real ? Math.abs(e - x) <= 1e-9 * Math.max(1, Math.abs(e)) : e === x;
      compared++;
      if (!ok) {
        mismatches++;
        if (examples.length < 5) examples.push({ key, counter: eh[j], engine: String(e),
                                                 duckdb: String(x) });
      }
      if (tot.includes(eh[j])) {
        totals.engine[eh[j]] += Number(e);
        totals.duckdb[eh[j]] += Number(x);
      }
    }
  }
  const extra = duck.size;
  return { result: !mismatches && !missing && !extra && col.every((c) => c >= 0)
                   ? 'equal' : 'DIFFERENT',
           rows_engine: tsv.length - 1, rows_missing_in_duckdb: missing,
           rows_only_in_duckdb: extra, values_compared: compared, mismatches, examples,
           totals };
}
