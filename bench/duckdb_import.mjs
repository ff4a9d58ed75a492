// The comparison peer for the import benchmark: DuckDB's read_csv loading
// the same front-page file into a DuckDB database file.
// usage: node duckdb_import.mjs FILE.csv OUT.duckdb
import { DuckDBInstance } from '@duckdb/node-api';

const [file, dbfile] = process.argv.slice(2);
const instance = await DuckDBInstance.create(dbfile);
const con = await instance.connect();
const t0 = performance.now();
await con.run(
  `CREATE TABLE front_page AS SELECT * FROM read_csv('${file.replaceAll("'", "''")}',` +
  ` header = true, all_varchar = true)`);
await con.run('CHECKPOINT');
const seconds = (performance.now() - t0) / 1000;
const rows = (await con.runAndReadAll('SELECT count(*) FROM front_page')).getRows()[0][0];
console.log(JSON.stringify({ seconds, rows: Number(rows) }));
