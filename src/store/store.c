/*
 * store.c - opening the database, schema migrations, transactions and the
 * prepared-statement cache.
 *
 * Schema history (PRAGMA user_version):
 *   1  organisations, import runs, records with diagnoses, procedures,
 *      warnings and history, rejects with their issues
 *   2  DRG schemes, where and when each applies, one DRG result per record
 *   3  the indicator engine's facts and dimensions, DRG references
 *   4  users, sessions and the audit trail of `carebase serve`
 *   5  drg_result without its two unused indexes
 *   6  user.show_identifiers: who may see patient identifiers
 *   7  the HL7 message journal (hl7_message, store_hl7.c)
 *   8  record without its index on (hospital_id, cy_day)
 *   9  DRG results in the fact row (drg_outcome), drg_result a view
 *  10  fact_change (the record ids each generation wrote) for fact_gen
 *  11  record.data in items layout V2 (typed, not compressed) and
 *      content hashes over it (CB_STORE_HASH_V2); nothing to convert, but
 *      older binaries cannot read such rows
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/json.h"
#include "store_int.h"

static const char *const migrations[CB_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;"
    "CREATE TABLE org_group("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('consortium','region')),"
    "  code TEXT NOT NULL UNIQUE,"
    "  name TEXT NOT NULL);"
    "CREATE TABLE hospital("
    "  id INTEGER PRIMARY KEY,"
    "  zzjgdm TEXT NOT NULL UNIQUE,"
    "  name TEXT,"
    "  level TEXT CHECK (level IN ('三级','二级','基层')),"
    "  origin TEXT NOT NULL DEFAULT 'import');"
    "CREATE TABLE org_member("
    "  group_id INTEGER NOT NULL REFERENCES org_group(id) ON DELETE CASCADE,"
    "  hospital_id INTEGER NOT NULL REFERENCES hospital(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (group_id, hospital_id)) WITHOUT ROWID;"
    "CREATE TABLE department("
    "  hospital_id INTEGER NOT NULL REFERENCES hospital(id),"
    "  code TEXT NOT NULL,"
    "  name TEXT,"
    "  PRIMARY KEY (hospital_id, code)) WITHOUT ROWID;"
    "CREATE TABLE import_file("
    "  id INTEGER PRIMARY KEY,"
    "  path TEXT NOT NULL, name TEXT NOT NULL, size INTEGER,"
    "  profile TEXT, encoding TEXT, format TEXT,"
    "  started_at TEXT NOT NULL, finished_at TEXT,"
    "  status TEXT NOT NULL DEFAULT 'running',"
    "  rows_read INTEGER, accepted INTEGER, rejected INTEGER,"
    "  inserted INTEGER, replaced INTEGER, unchanged INTEGER,"
    "  with_warnings INTEGER, message TEXT);"
    /* One row per discharge; data holds every non-empty canonical item. */
    "CREATE TABLE record("
    "  id INTEGER PRIMARY KEY,"
    "  hospital_id INTEGER NOT NULL REFERENCES hospital(id),"
    "  bah TEXT NOT NULL, zycs INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 1,"
    "  content_hash INTEGER NOT NULL,"
    "  file_id INTEGER, line INTEGER,"
    "  rysj INTEGER, cysj INTEGER, cy_day INTEGER,"
    "  rykb TEXT, cykb TEXT, zzys TEXT,"
    "  xb TEXT, nl INTEGER, age_days INTEGER,"
    "  rytj TEXT, lyfs TEXT, sjzyts INTEGER,"
    "  jbdm TEXT, rybq TEXT, zfy INTEGER, birth_weight INTEGER,"
    "  n_warnings INTEGER NOT NULL DEFAULT 0,"
    "  dx TEXT NOT NULL, px TEXT NOT NULL, data BLOB NOT NULL);"
    "CREATE UNIQUE INDEX record_key ON record(hospital_id, bah, zycs);"
    "CREATE INDEX record_discharge ON record(hospital_id, cy_day);"
    /*
     * Diagnoses and procedures live in the record row as JSON arrays (one
     * row write per discharge keeps imports fast); these views present them
     * as tables. dx: [slot, code, name, poa], slot 0 = principal (JBDM).
     * px: [slot, code, name, time, level, surgeon, assistant1, assistant2,
     * incision, healing, anaesthesia, anaesthetist], slot 1 = principal.
     */
    "CREATE VIEW record_dx AS SELECT r.id AS record_id,"
    "  json_extract(j.value, '$[0]') AS seq, json_extract(j.value, '$[1]') AS code,"
    "  json_extract(j.value, '$[2]') AS name, json_extract(j.value, '$[3]') AS poa"
    "  FROM record r, json_each(r.dx) j;"
    "CREATE VIEW record_px AS SELECT r.id AS record_id,"
    "  json_extract(j.value, '$[0]') AS seq, json_extract(j.value, '$[1]') AS code,"
    "  json_extract(j.value, '$[2]') AS name, json_extract(j.value, '$[3]') AS op_time,"
    "  json_extract(j.value, '$[4]') AS level, json_extract(j.value, '$[5]') AS surgeon,"
    "  json_extract(j.value, '$[6]') AS assistant1, json_extract(j.value, '$[7]') AS assistant2,"
    "  json_extract(j.value, '$[8]') AS incision, json_extract(j.value, '$[9]') AS healing,"
    "  json_extract(j.value, '$[10]') AS anaesthesia, json_extract(j.value, '$[11]') AS anaesthetist"
    "  FROM record r, json_each(r.px) j;"
    "CREATE TABLE record_warning("
    "  record_id INTEGER NOT NULL, rule TEXT NOT NULL,"
    "  field TEXT, value TEXT, detail TEXT);"
    "CREATE INDEX record_warning_record ON record_warning(record_id);"
    "CREATE TABLE record_history("
    "  id INTEGER PRIMARY KEY, record_id INTEGER NOT NULL,"
    "  hospital_id INTEGER NOT NULL, bah TEXT NOT NULL, zycs INTEGER NOT NULL,"
    "  version INTEGER NOT NULL, content_hash INTEGER NOT NULL,"
    "  file_id INTEGER, line INTEGER, dx TEXT, px TEXT, data BLOB NOT NULL,"
    "  replaced_by_file INTEGER);"
    "CREATE INDEX record_history_record ON record_history(record_id);"
    "CREATE TABLE reject("
    "  id INTEGER PRIMARY KEY,"
    "  file_id INTEGER NOT NULL REFERENCES import_file(id),"
    "  line INTEGER NOT NULL,"
    "  zzjgdm TEXT, bah TEXT, zycs TEXT,"
    "  raw TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'open'"
    "    CHECK (status IN ('open','resolved','superseded')));"
    "CREATE INDEX reject_key ON reject(zzjgdm, bah, zycs);"
    "CREATE INDEX reject_file ON reject(file_id);"
    "CREATE TABLE reject_issue("
    "  reject_id INTEGER NOT NULL REFERENCES reject(id),"
    "  rule TEXT NOT NULL, severity TEXT NOT NULL,"
    "  field TEXT, value TEXT, detail TEXT);"
    "CREATE INDEX reject_issue_reject ON reject_issue(reject_id);"
    "CREATE INDEX reject_issue_rule ON reject_issue(rule);",
    /* 1 -> 2: DRG grouping (store_drg.c) */
    /* One row per installed package version: digest = cb_drg_scheme_digest. */
    "CREATE TABLE drg_scheme("
    "  id INTEGER PRIMARY KEY,"
    "  scheme TEXT NOT NULL,"
    "  name TEXT,"
    "  digest TEXT NOT NULL,"
    "  path TEXT NOT NULL,"
    "  installed_at TEXT,"
    "  UNIQUE (scheme, digest));"
    /*
     * Where and when a scheme applies: region_id NULL = everywhere; the
     * bounds are discharge days (record.cy_day), inclusive, NULL = open.
     */
    "CREATE TABLE drg_scheme_use("
    "  id INTEGER PRIMARY KEY,"
    "  scheme_id INTEGER NOT NULL REFERENCES drg_scheme(id),"
    "  region_id INTEGER REFERENCES org_group(id) ON DELETE CASCADE,"
    "  valid_from INTEGER,"
    "  valid_to INTEGER,"
    "  CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to));"
    "CREATE INDEX drg_scheme_use_scheme ON drg_scheme_use(scheme_id);"
    /*
     * The DRG of each accepted record under the scheme chosen for it.
     * unmapped: 'dx:CODE' / 'px:CODE' for *_NOT_MAPPING; choice: why this
     * scheme ('default', 'national 2024-01-01..', 'region 北京 2022-01-01..').
     * scheme_id has no foreign key on purpose: with one, rewriting a result
     * (by the upsert that wrote results until v9) needs a statement
     * journal, which doubles the cost of the write; schemes are never
     * deleted.
     */
    "CREATE TABLE drg_result("
    "  record_id INTEGER PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,"
    "  scheme_id INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  mdc TEXT, adrg TEXT, drg TEXT,"
    "  mcc INTEGER, cc INTEGER,"
    "  unmapped TEXT,"
    "  choice TEXT,"
    "  grouped_at TEXT);"
    "CREATE INDEX drg_result_drg ON drg_result(drg);"
    "CREATE INDEX drg_result_scheme ON drg_result(scheme_id);",

    /*
     * v3: the indicator engine's facts (include/carebase/indicator.h): one
     * row per accepted record, written by the import beside the record and
     * kept in step by regroup. Dimension ids are dense per table so the
     * engine can index by them. gen: the write generation (meta
     * 'fact_gen'), so that a running engine loads only what changed.
     * The same aggregation is a GROUP BY over this table.
     */
    "CREATE TABLE dim_dept(id INTEGER PRIMARY KEY, hospital_id INTEGER NOT NULL,"
    "  code TEXT NOT NULL, UNIQUE (hospital_id, code));"
    "CREATE TABLE dim_doctor(id INTEGER PRIMARY KEY, hospital_id INTEGER NOT NULL,"
    "  name TEXT NOT NULL, UNIQUE (hospital_id, name));"
    "CREATE TABLE dim_drg(id INTEGER PRIMARY KEY, scheme TEXT NOT NULL,"
    "  drg TEXT NOT NULL, UNIQUE (scheme, drg));"
    "CREATE TABLE fact("
    "  record_id INTEGER PRIMARY KEY,"
    "  hospital_id INTEGER NOT NULL, dept_id INTEGER NOT NULL,"
    "  doctor_id INTEGER NOT NULL, cy_day INTEGER NOT NULL, los INTEGER NOT NULL,"
    "  zfy INTEGER NOT NULL, drug INTEGER NOT NULL, material INTEGER NOT NULL,"
    "  flags INTEGER NOT NULL, cohorts INTEGER NOT NULL, drg_id INTEGER NOT NULL,"
    "  gen INTEGER NOT NULL);"
    "CREATE INDEX fact_gen ON fact(gen);"
    /*
     * A DRG reference (spec c.4, c.5.8-11): the population (scheme, region,
     * discharge days), the settings, and per DRG the means, weight and risk
     * grade computed once, so that results do not move when data is added.
     */
    "CREATE TABLE reference("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, scheme TEXT NOT NULL,"
    "  region TEXT, day_from INTEGER, day_to INTEGER, settings TEXT,"
    "  weights_file TEXT, cases INTEGER, kept INTEGER, pooled_mean REAL,"
    "  risk_mu REAL, risk_sigma REAL, graded INTEGER, created_at TEXT);"
    "CREATE TABLE reference_drg("
    "  reference_id INTEGER NOT NULL REFERENCES reference(id) ON DELETE CASCADE,"
    "  drg TEXT NOT NULL, cases INTEGER, kept INTEGER, deaths INTEGER,"
    "  mean_cost REAL, mean_los REAL, kept_mean_cost REAL, weight REAL,"
    "  weight_source TEXT, mortality REAL, risk INTEGER, risk_z REAL,"
    "  PRIMARY KEY (reference_id, drg)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES ('fact_gen', '0');",

    /*
     * v4: the accounts of `carebase serve` (store_user.c). pw_hash is an
     * argon2id crypto_pwhash_str string; a session is kept by the SHA-256
     * of its token, with its CSRF token and expiry (unix seconds). audit:
     * one row per login, logout and read of case-level data (what carries
     * no patient data).
     */
    "CREATE TABLE user("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  pw_hash TEXT NOT NULL,"
    "  role TEXT NOT NULL"
    "    CHECK (role IN ('consortium_admin','hospital_admin','department_viewer')),"
    "  scope_kind TEXT NOT NULL CHECK (scope_kind IN ('group','hospital')),"
    "  scope_code TEXT NOT NULL,"
    "  department TEXT,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  created_at TEXT NOT NULL,"
    "  CHECK ((role = 'consortium_admin') = (scope_kind = 'group')),"
    "  CHECK ((role = 'department_viewer') = (department IS NOT NULL)));"
    "CREATE TABLE session("
    "  token_hash TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX session_user ON session(user_id);"
    "CREATE TABLE audit("
    "  id INTEGER PRIMARY KEY,"
    "  at TEXT NOT NULL,"
    "  user_id INTEGER,"
    "  action TEXT NOT NULL,"
    "  what TEXT);"
    "CREATE INDEX audit_user ON audit(user_id, at);",

    /*
     * v5: drg_result's indexes on drg and scheme_id go. Nothing reads by
     * them (the engine works from facts; scheme counts scan), and keeping
     * them cost about 5 % of the import, whose store thread is its bound.
     */
    "DROP INDEX IF EXISTS drg_result_drg;"
    "DROP INDEX IF EXISTS drg_result_scheme;",

    /*
     * v6: a user may be allowed to see patient identifiers (names, ID
     * numbers, addresses) in the case details of `carebase serve`; off
     * unless `carebase user add|set --show-identifiers` turns it on.
     */
    "ALTER TABLE user ADD COLUMN show_identifiers INTEGER NOT NULL DEFAULT 0"
    "  CHECK (show_identifiers IN (0, 1));",

    /*
     * v7: the HL7 message journal (store_hl7.c, include/carebase/journal.h).
     * One row per message that got a stored answer: seq is the journal
     * order (replayed at start), sender is MSH-3.1 "|" MSH-4.1, control_id
     * MSH-10; status 1 accepted (AA), 2 rejected (ack_code AE or AR, with
     * err_code from HL7 table 0357 and err_text). A resend of the same
     * (sender, control_id) is not stored again and gets the stored answer.
     */
    "CREATE TABLE hl7_message("
    "  seq INTEGER PRIMARY KEY,"
    "  sender TEXT NOT NULL,"
    "  control_id TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  status INTEGER NOT NULL CHECK (status IN (1, 2)),"
    "  ack_code TEXT NOT NULL,"
    "  event TEXT,"
    "  raw BLOB NOT NULL,"
    "  err_code INTEGER,"
    "  err_text TEXT,"
    "  UNIQUE (sender, control_id));",

    /*
     * v8: record's index on (hospital_id, cy_day) goes. No query of Carebase
     * reads by it (the engine answers by discharge day from the facts,
     * counts per hospital use record_key), and keeping it up to date cost
     * about 12 % of the import's store thread.
     */
    "DROP INDEX IF EXISTS record_discharge;",

    /*
     * v9: a record's DRG result moves into its fact row: the import wrote
     * a drg_result row beside each fact, 15 % of its store thread's work.
     * What a result says apart from its record and time (scheme, status,
     * codes, MCC/CC, unmapped code, choice) takes few distinct values: one
     * drg_outcome row each; the fact keeps its id (negative: the record
     * was not grouped) and when it was grouped (unix seconds). drg_result
     * is now a view with the columns and values of the table it was.
     * Results of records without a fact (imported before v3 and never
     * regrouped with --facts) come back with `carebase regroup --facts`.
     */
    "CREATE TABLE drg_outcome("
    "  id INTEGER PRIMARY KEY,"
    "  scheme_id INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  mdc TEXT, adrg TEXT, drg TEXT,"
    "  mcc INTEGER, cc INTEGER,"
    "  unmapped TEXT,"
    "  choice TEXT);"
    "CREATE INDEX drg_outcome_drg ON drg_outcome(scheme_id, drg);"
    "ALTER TABLE fact ADD COLUMN drg_outcome INTEGER;"
    "ALTER TABLE fact ADD COLUMN grouped_at INTEGER;"
    "INSERT INTO drg_outcome(scheme_id, status, mdc, adrg, drg, mcc, cc, unmapped, choice)"
    "  SELECT DISTINCT scheme_id, status, mdc, adrg, drg, mcc, cc, unmapped, choice"
    "  FROM drg_result;"
    "UPDATE fact SET (drg_outcome, grouped_at) = (SELECT o.id,"
    "    CAST(strftime('%s', r.grouped_at) AS INTEGER)"
    "  FROM drg_result r JOIN drg_outcome o ON o.scheme_id = r.scheme_id"
    "    AND o.drg IS r.drg AND o.status = r.status AND o.mdc IS r.mdc"
    "    AND o.adrg IS r.adrg AND o.mcc IS r.mcc AND o.cc IS r.cc"
    "    AND o.unmapped IS r.unmapped AND o.choice IS r.choice"
    "  WHERE r.record_id = fact.record_id);"
    "DROP TABLE drg_result;"
    "CREATE VIEW drg_result AS SELECT f.record_id AS record_id,"
    "  o.scheme_id AS scheme_id, o.status AS status, o.mdc AS mdc, o.adrg AS adrg,"
    "  o.drg AS drg, o.mcc AS mcc, o.cc AS cc, o.unmapped AS unmapped,"
    "  o.choice AS choice,"
    "  strftime('%Y-%m-%dT%H:%M:%SZ', f.grouped_at, 'unixepoch') AS grouped_at"
    "  FROM fact f JOIN drg_outcome o ON o.id = f.drg_outcome;",

    /*
     * v10: which facts a generation wrote, as runs of record ids
     * (store_fact.c), instead of an index on fact(gen): an import's new
     * records are one run per transaction, where the index took an entry
     * per record (6 % of the import's store thread). A running server
     * loads the facts of the runs of the generations it has not seen.
     * Existing facts: one run per generation from its lowest id to its
     * highest (loads check fact.gen, so a wide run costs reading, not
     * correctness).
     */
    "CREATE TABLE fact_change("
    "  gen INTEGER NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL);"
    "CREATE INDEX fact_change_gen ON fact_change(gen);"
    "INSERT INTO fact_change(gen, lo, hi)"
    "  SELECT gen, min(record_id), max(record_id) FROM fact GROUP BY gen;"
    "DROP INDEX IF EXISTS fact_gen;",

    /*
     * v11: records written from now on hold their items in layout V2
     * (store_items.h) with a content hash over it (CB_STORE_HASH_V2).
     * Existing rows keep their frames and hashes, which still read and
     * compare; the version tells older binaries that they cannot.
     */
    "SELECT 1;",
};

static const char *const stmt_sql[S__COUNT] = {
    [S_REC_INSERT] =
        /* ?25: the id, NULL for SQLite's choice */
        "INSERT INTO record(" CB__RECORD_COLUMNS ")"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,"
        "?18,?19,?20,?21,?22,?23,?24,?25,?26,?27)"
        " ON CONFLICT (hospital_id, bah, zycs) DO NOTHING",
    [S_REC_FIND] =
        "SELECT id, content_hash, file_id FROM record"
        " WHERE hospital_id = ?1 AND bah = ?2 AND zycs = ?3",
    [S_REC_TO_HISTORY] =
        "INSERT INTO record_history(record_id, hospital_id, bah, zycs, version,"
        " content_hash, file_id, line, dx, px, data, replaced_by_file)"
        " SELECT id, hospital_id, bah, zycs, version, content_hash, file_id,"
        " line, dx, px, data, ?2 FROM record WHERE id = ?1",
    [S_REC_UPDATE] =
        "UPDATE record SET content_hash = ?4, file_id = ?5, line = ?6,"
        " rysj = ?7, cysj = ?8, cy_day = ?9, rykb = ?10, cykb = ?11, zzys = ?12,"
        " xb = ?13, nl = ?14, age_days = ?15, rytj = ?16, lyfs = ?17,"
        " sjzyts = ?18, jbdm = ?19, rybq = ?20, zfy = ?21, birth_weight = ?22,"
        " n_warnings = ?23, data = ?24, dx = ?26, px = ?27, version = version + 1"
        " WHERE id = ?25",
    [S_REC_TOUCH] = "UPDATE record SET file_id = ?2, line = ?3 WHERE id = ?1",
    /* QC-ID-03: another stay of the same patient whose dates overlap. */
    [S_REC_OVERLAP] =
        "SELECT zycs FROM record WHERE hospital_id = ?1 AND bah = ?2"
        " AND zycs <> ?3 AND rysj < ?5 AND cysj > ?4 LIMIT 1",
    [S_REC_ANY_OF_HOSP] = "SELECT 1 FROM record WHERE hospital_id = ?1 LIMIT 1",
    [S_REC_MAX_ID] = "SELECT coalesce(max(id), 0) + 1 FROM record",
    [S_REC_ADD_WARNING] = "UPDATE record SET n_warnings = n_warnings + 1 WHERE id = ?1",
    [S_WARN_INSERT] =
        "INSERT INTO record_warning(record_id, rule, field, value, detail)"
        " VALUES (?1,?2,?3,?4,?5)",
    [S_WARN_DELETE] = "DELETE FROM record_warning WHERE record_id = ?1",
    [S_REJ_INSERT] =
        "INSERT INTO reject(file_id, line, zzjgdm, bah, zycs, raw)"
        " VALUES (?1,?2,?3,?4,?5,?6)",
    [S_REJ_SUPERSEDE] =
        "UPDATE reject SET status = 'superseded' WHERE zzjgdm IS ?1"
        " AND bah IS ?2 AND zycs IS ?3 AND status = 'open' AND file_id <> ?5",
    [S_REJ_ISSUE] =
        "INSERT INTO reject_issue(reject_id, rule, severity, field, value, detail)"
        " VALUES (?1,?2,?3,?4,?5,?6)",
    [S_HOSP_INSERT] =
        "INSERT INTO hospital(zzjgdm, name) VALUES (?1, ?2)"
        " ON CONFLICT (zzjgdm) DO UPDATE SET name = coalesce(hospital.name, excluded.name)",
    [S_HOSP_FIND] = "SELECT id FROM hospital WHERE zzjgdm = ?1",
    [S_DEPT_INSERT] =
        "INSERT INTO department(hospital_id, code, name) VALUES (?1,?2,?3)"
        " ON CONFLICT DO NOTHING",
    /* drg_outcome < 0: keep the result there is (the record was not grouped). */
    [S_FACT_SET_DRG] =
        "UPDATE fact SET drg_id = ?2, flags = (flags & ~?3) | ?4, gen = ?5,"
        " drg_outcome = ?6, grouped_at = ?7 WHERE record_id = ?1",
    [S_FACT_SET_OUTCOME] =
        "UPDATE fact SET drg_outcome = ?2, grouped_at = ?3 WHERE record_id = ?1",
    [S_FACT_CHANGE] = "INSERT INTO fact_change(gen, lo, hi) VALUES (?1, ?2, ?3)",
    [S_OUTCOME_FIND] =
        "SELECT id FROM drg_outcome WHERE scheme_id = ?1 AND drg IS ?5"
        " AND status = ?2 AND mdc IS ?3 AND adrg IS ?4 AND mcc IS ?6 AND cc IS ?7"
        " AND unmapped IS ?8 AND choice IS ?9",
    [S_OUTCOME_INSERT] =
        "INSERT INTO drg_outcome(scheme_id, status, mdc, adrg, drg, mcc, cc, unmapped,"
        " choice) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9) RETURNING id",
    [S_DIM_DEPT] =
        "INSERT INTO dim_dept(hospital_id, code) VALUES (?1, ?2)"
        " ON CONFLICT DO UPDATE SET code = code RETURNING id",
    [S_DIM_DOCTOR] =
        "INSERT INTO dim_doctor(hospital_id, name) VALUES (?1, ?2)"
        " ON CONFLICT DO UPDATE SET name = name RETURNING id",
    [S_DIM_DRG] =
        "INSERT INTO dim_drg(scheme, drg) VALUES (?1, ?2)"
        " ON CONFLICT DO UPDATE SET drg = drg RETURNING id",
};

enum cb_err
cb__store_fail(struct cb_store *st, const char *what, struct cb_buf *err)
{
    cb_errf(err, "%s: %s (database '%s')", what, sqlite3_errmsg(st->db), st->path);
    return CB_ERR_DB;
}

enum cb_err
cb__store_exec(struct cb_store *st, const char *sql, struct cb_buf *err)
{
    char *msg = NULL;

    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        cb_errf(err, "database error: %s (database '%s')",
                msg ? msg : sqlite3_errmsg(st->db), st->path);
        sqlite3_free(msg);
        return CB_ERR_DB;
    }
    return CB_OK;
}

sqlite3_stmt *
cb__store_stmt(struct cb_store *st, enum stmt_id id, struct cb_buf *err)
{
    if (!st->stmt[id] &&
        sqlite3_prepare_v3(st->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                           &st->stmt[id], NULL) != SQLITE_OK) {
        cb__store_fail(st, "cannot prepare statement", err);
        return NULL;
    }
    sqlite3_reset(st->stmt[id]);
    return st->stmt[id];
}

static int
read_version(struct cb_store *st)
{
    sqlite3_stmt *s;
    int v = -1;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

static enum cb_err
migrate(struct cb_store *st, struct cb_buf *err)
{
    int v = read_version(st);
    enum cb_err rc;
    char sql[64];

    if (v < 0)
        return cb__store_fail(st, "cannot read the schema version", err);
    if (v > CB_SCHEMA_VERSION) {
        cb_errf(err, "database '%s' has schema version %d, newer than this "
                "carebase understands (%d); use a newer carebase", st->path, v,
                CB_SCHEMA_VERSION);
        return CB_ERR_SCHEMA;
    }
    while (v < CB_SCHEMA_VERSION) {
        if ((rc = cb__store_exec(st, "BEGIN IMMEDIATE", err)))
            return rc;
        /* Re-read inside the lock: another process may have migrated. */
        v = read_version(st);
        if (v >= CB_SCHEMA_VERSION) {
            (void)cb__store_exec(st, "COMMIT", err);
            break;
        }
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        if ((rc = cb__store_exec(st, migrations[v], err)) ||
            (rc = cb__store_exec(st, sql, err)) ||
            (rc = cb__store_exec(st, "COMMIT", err))) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            cb_errf(err, "migration to schema version %d failed", v + 1);
            return rc;
        }
        v++;
    }
    st->version = read_version(st);
    return CB_OK;
}

/* Decoded items (cb__items_decode) as a JSON object into out. */
static enum cb_err
items_json(const struct cb_str *v, struct cb_buf *out)
{
    int f, first = 1;
    enum cb_err rc;

    cb_buf_reset(out);
    if ((rc = cb_buf_addc(out, '{')))
        return rc;
    for (f = 0; f < CB_F__SCALARS; f++) {
        if (!v[f].ptr)
            continue;
        if ((!first && (rc = cb_buf_addc(out, ','))) ||
            (rc = cb_json_strz(out, cb_fp_key_str(f))) ||
            (rc = cb_buf_addc(out, ':')) ||
            (rc = cb_json_str(out, v[f])))
            return rc;
        first = 0;
    }
    return cb_buf_addc(out, '}');
}

/*
 * SQL: fp_data(blob) -> the record's items as JSON text. Payloads that are
 * not items (the JSON of early versions) come back as they are.
 */
static void
sql_fp_data(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    struct cb_store *st = sqlite3_user_data(ctx);
    const unsigned char *p;
    int n;

    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
        sqlite3_result_null(ctx);
        return;
    }
    p = sqlite3_value_blob(argv[0]);
    n = sqlite3_value_bytes(argv[0]);
    if (cb__codec_decompress(st->codec, p, (size_t)n, &st->zbuf) != CB_OK) {
        sqlite3_result_error(ctx, "fp_data: damaged record payload", -1);
        return;
    }
    p = (const unsigned char *)st->zbuf.ptr;
    if (!st->zbuf.len || (p[0] != (unsigned char)CB_STORE_ITEMS_V1 &&
                          p[0] != (unsigned char)CB_STORE_ITEMS_V2)) {
        sqlite3_result_text(ctx, cb_buf_cstr(&st->zbuf), (int)st->zbuf.len,
                            SQLITE_TRANSIENT);
        return;
    }
    if (cb__items_decode(p, st->zbuf.len, &st->items_text, st->items) != CB_OK ||
        items_json(st->items, &st->fnbuf) != CB_OK) {
        sqlite3_result_error(ctx, "fp_data: damaged record payload", -1);
        return;
    }
    sqlite3_result_text(ctx, cb_buf_cstr(&st->fnbuf), (int)st->fnbuf.len,
                        SQLITE_TRANSIENT);
    sqlite3_result_subtype(ctx, 'J'); /* JSON, for the json functions */
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/*
 * Process-wide SQLite settings, before its first use: no memory statistics
 * (they take a global mutex on every allocation). If SQLite was started
 * already, the call fails and the defaults stay: slower, not wrong.
 */
static void
sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum cb_err
cb_store_open(struct cb_store **out, const char *path, struct cb_buf *err)
{
    struct cb_store *st;
    enum cb_err rc;

    *out = NULL;
    st = cb_calloc(1, sizeof(*st));
    if (!st)
        return CB_ERR_NOMEM;
    cb_strmap_init(&st->hosp_cache);
    cb_strmap_init(&st->dept_cache);
    cb_strmap_init(&st->rejected_keys);
    st->keys_file = -1;
    cb_buf_init(&st->fnbuf, 32u << 20);
    cb_buf_init(&st->zbuf, 32u << 20);
    cb_buf_init(&st->items_text, 512u << 20);
    cb_arena_init(&st->rec_text, 256u << 10);

    st->path = cb_strdup(path);
    if (!st->path) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    pthread_once(&sqlite_once, sqlite_setup);
    /*
     * NOMUTEX: a store is used by one thread at a time (store.h), so
     * SQLite's per-connection mutex would only cost: it was taken and
     * released around every bind and step (about 7 % of an import).
     */
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = st->db ? cb__store_fail(st, "cannot open database", err) : CB_ERR_NOMEM;
        goto fail;
    }
    sqlite3_busy_timeout(st->db, 10000);
    sqlite3_extended_result_codes(st->db, 1);
    /*
     * WAL: readers never block the importer. synchronous=NORMAL: a commit is
     * safe from process crashes (kill -9); the OS crash window is the last
     * commits only.
     */
    /* 16 KiB pages: a front-page row is about a kilobyte (set before WAL). */
    if ((rc = cb__store_exec(st, "PRAGMA page_size = 16384;", err)))
        goto fail;
    if ((rc = cb__store_exec(st, "PRAGMA journal_mode = WAL;"
                                 "PRAGMA synchronous = NORMAL;"
                                 "PRAGMA foreign_keys = ON;"
                                 "PRAGMA temp_store = MEMORY;"
                                 "PRAGMA cache_size = -131072;"
                                 "PRAGMA wal_autocheckpoint = 4096;", err)))
        goto fail;
    if ((rc = migrate(st, err)))
        goto fail;
    if ((rc = cb__codec_new(&st->codec)))
        goto fail;
    if (sqlite3_create_function_v2(st->db, "fp_data", 1,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC, st,
                                   sql_fp_data, NULL, NULL, NULL) != SQLITE_OK) {
        rc = cb__store_fail(st, "cannot register fp_data()", err);
        goto fail;
    }
    if (cb__rows_register(st->db) != SQLITE_OK) {
        rc = cb__store_fail(st, "cannot register cb_rows()", err);
        goto fail;
    }
    *out = st;
    return CB_OK;

fail:
    cb_store_close(st);
    return rc;
}

void
cb_store_close(struct cb_store *st)
{
    int i;

    if (!st)
        return;
    cb_store_bulk_end(st);
    cb__store_batch_drop(st, 1);
    for (i = 0; i < S__COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db) {
        if (st->in_tx)
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(st->db);
    }
    cb_strmap_release(&st->hosp_cache);
    cb_strmap_release(&st->dept_cache);
    cb__store_fact_release(st);
    cb_strmap_release(&st->rejected_keys);
    cb_free(st->ov_state);
    cb_free(st->ov_bloom);
    cb__codec_free(st->codec);
    cb_buf_release(&st->fnbuf);
    cb_buf_release(&st->items_text);
    cb_buf_release(&st->zbuf);
    cb_free(st->path);
    cb_free(st);
}

/*
 * The checkpointer: its own connection runs PASSIVE checkpoints, which
 * never block the writer, so the fsyncs of checkpointing overlap the import
 * instead of stalling it.
 *
 * Drop-behind: a pass that copied pages ends with a sync of the database
 * file, after which its pages in the OS page cache are clean and nobody
 * needs them (the writer keeps the pages it works on in its own cache, and
 * the log still holds what was written since). They are dropped, so that
 * an import does not grow the page cache by the size of the database:
 * growing it cost this project's 2-core VM about 2 s of kernel time per GB
 * (fresh guest pages), where reusing freed ones costs 0.3 s; and an import
 * of millions of records should not push everything else out of the cache.
 */
/*
 * Drops the database file's clean pages from the OS page cache, except
 * its last DROP_KEEP bytes: an import appends records in the order of the
 * file, which hospitals export by discharge date, so the earlier stays
 * that the overlap check (QC-ID-03) reads are mostly recent, and reading
 * them back from disk stalled the writer.
 */
#ifndef DROP_KEEP
#define DROP_KEEP ((off_t)128 << 20)
#endif

static void
drop_behind(int fd)
{
    struct stat sb;

    if (fstat(fd, &sb) == 0 && sb.st_size > DROP_KEEP)
        (void)posix_fadvise(fd, 0, sb.st_size - DROP_KEEP, POSIX_FADV_DONTNEED);
}

static void *
checkpoint_main(void *arg)
{
    struct cb_store *st = arg;
    sqlite3 *db = NULL;
    struct timespec until;

    prctl(PR_SET_NAME, "cb-checkpoint", 0, 0, 0);
    /*
     * Behind the writer, whose commits it follows, and ahead of an
     * import's reading thread and workers (nice 19, import.c): the writer
     * waits for it at the log's wrap point.
     */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 5);
    if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        sqlite3_close(db);
        pthread_mutex_lock(&st->ckpt_mu);
        st->ckpt_stop = 1;                 /* nobody waits for it then */
        pthread_cond_broadcast(&st->ckpt_done_cv);
        pthread_mutex_unlock(&st->ckpt_mu);
        return NULL;
    }
    sqlite3_busy_timeout(db, 100);
    /* At NORMAL and above a pass syncs the file; any descriptor drops pages. */
    sqlite3_exec(db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
    int drop_fd = open(st->path, O_RDONLY | O_CLOEXEC);
    /*
     * A new connection learns that the database is in WAL mode only when it
     * first reads it; until then a checkpoint does nothing.
     */
    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    pthread_mutex_lock(&st->ckpt_mu);
    while (!st->ckpt_stop) {
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!st->ckpt_kick && !st->ckpt_stop &&
               !pthread_cond_timedwait(&st->ckpt_cv, &st->ckpt_mu, &until))
            ;
        if (st->ckpt_stop)
            break;
        st->ckpt_kick = 0;
        uint64_t begun = ++st->ckpt_begun;
        pthread_mutex_unlock(&st->ckpt_mu);
        int nlog = -1, nckpt = -2;
        int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog,
                                           &nckpt);
        if (rc == SQLITE_OK && nckpt > 0 && drop_fd >= 0)
            drop_behind(drop_fd);
        pthread_mutex_lock(&st->ckpt_mu);
        st->ckpt_passes++;
        st->ckpt_done_begun = begun;
        st->ckpt_copied = rc == SQLITE_OK ? nckpt : -1;
        if (rc == SQLITE_OK && nlog == nckpt)
            st->ckpt_full_frames = nlog;
        pthread_cond_broadcast(&st->ckpt_done_cv);
    }
    pthread_mutex_unlock(&st->ckpt_mu);
    sqlite3_close(db);
    if (drop_fd >= 0)
        close(drop_fd);
    return NULL;
}

/* The writer's WAL hook in bulk mode: the log's size after each commit. */
static int
wal_size_hook(void *ctx, sqlite3 *db, const char *name, int frames)
{
    struct cb_store *st = ctx;

    (void)db;
    (void)name;
    st->wal_frames = frames;
    return SQLITE_OK;
}

/*
 * A log that a writer keeps appending to is never found fully copied when
 * its next transaction starts, so SQLite never starts it again from the
 * beginning: it would grow to the size of the whole import (and be dropped
 * from the page cache at close). Past WAL_WRAP_FRAMES, the writer waits
 * after a commit for the checkpointer to copy what is left, so that its
 * next transaction restarts the log.
 *
 * 8,192 pages (128 MiB): the log's size is paid at the end of an import,
 * when the last pass and the unlink of the log run on one thread (freeing
 * its disk blocks took 50-80 ms at 256 MiB); at 4,096 the waits at the
 * wrap point cost as much as that saves. 1M rows, 8 alternating runs:
 * 5.56 s median at 16,384, 5.47 s at 8,192.
 */
#ifndef WAL_WRAP_FRAMES /* -DWAL_WRAP_FRAMES=n to measure */
#define WAL_WRAP_FRAMES 8192
#endif
#define WAL_WRAP_WAIT_MS 2000

static void
wait_for_checkpoint(struct cb_store *st)
{
    int limit = st->wal_wrap_frames > 0 ? st->wal_wrap_frames : WAL_WRAP_FRAMES;
    struct timespec until;

    if (!st->bulk)
        return;
    if (st->wal_frames < limit)
        st->wal_next_wait = limit;          /* the log restarted */
    if (st->wal_frames < st->wal_next_wait) {
        /*
         * In the second half of the log, a pass after every commit, not at
         * the checkpointer's next tick: kept close behind the writer, it
         * has about one transaction left to copy when the writer waits
         * below, on the import's critical path (1M records: 1.0 s of
         * waiting became 0.2 s).
         */
        if (st->wal_frames >= st->wal_next_wait - limit / 2) {
            pthread_mutex_lock(&st->ckpt_mu);
            st->ckpt_kick = 1;
            pthread_cond_broadcast(&st->ckpt_cv);
            pthread_mutex_unlock(&st->ckpt_mu);
        }
        return;
    }
    /*
     * Another connection's long read (a server loading its facts) keeps the
     * log from being copied in full: then wait at most once more per
     * `limit` pages of growth.
     */
    st->wal_next_wait = st->wal_frames + limit;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAL_WRAP_WAIT_MS / 1000;
    pthread_mutex_lock(&st->ckpt_mu);
    st->ckpt_full_frames = 0;
    st->ckpt_kick = 1;
    pthread_cond_broadcast(&st->ckpt_cv);   /* a pass now, not at its next tick */
    /* Passes begun before this one may not have seen the last commit. */
    uint64_t first = st->ckpt_begun + 1;
    for (uint64_t seen = st->ckpt_passes; st->ckpt_full_frames < st->wal_frames &&
                                          !st->ckpt_stop;) {
        int copied = st->ckpt_copied;
        if (pthread_cond_timedwait(&st->ckpt_done_cv, &st->ckpt_mu, &until))
            break;
        /* A pass that saw it and copied nothing more: a reader holds the rest. */
        if (st->ckpt_passes != seen && st->ckpt_done_begun >= first &&
            st->ckpt_full_frames < st->wal_frames && st->ckpt_copied <= copied)
            break;
        seen = st->ckpt_passes;
    }
    pthread_mutex_unlock(&st->ckpt_mu);
}

void
cb_store_set_wal_limit(struct cb_store *st, int frames)
{
    st->wal_wrap_frames = frames > 0 ? frames : 0;
}

enum cb_err
cb_store_bulk_begin(struct cb_store *st, struct cb_buf *err)
{
    enum cb_err rc;

    if (st->bulk)
        return CB_OK;
    /*
     * No foreign-key enforcement while bulk writing: every key an import
     * writes (hospital, import run, record, reject) it has just read or
     * created itself, and it deletes no parent row. Checking them cost a
     * lookup and a statement journal per row. Outside a transaction only.
     */
    if (!st->in_tx && (rc = cb__store_exec(st, "PRAGMA foreign_keys = OFF", err)))
        return rc;
    st->fk_off = !st->in_tx;
    /*
     * secure_delete (on in Debian's SQLite) zeroes every new page once more
     * and overwrites what is freed; an import frees nothing that is gone
     * from the database (earlier versions move to record_history). Back
     * on at cb_store_bulk_end.
     */
    if ((rc = cb__store_exec(st, "PRAGMA wal_autocheckpoint = 0;"
                                 "PRAGMA secure_delete = OFF", err)))
        return rc;
    pthread_mutex_init(&st->ckpt_mu, NULL);
    pthread_cond_init(&st->ckpt_cv, NULL);
    pthread_cond_init(&st->ckpt_done_cv, NULL);
    st->ckpt_stop = 0;
    st->ckpt_kick = 0;
    st->wal_frames = 0;
    st->wal_next_wait = 0;
    st->ckpt_full_frames = 0;
    st->ckpt_copied = 0;
    st->ckpt_passes = 0;
    if (pthread_create(&st->ckpt_thread, NULL, checkpoint_main, st) != 0) {
        pthread_mutex_destroy(&st->ckpt_mu);
        pthread_cond_destroy(&st->ckpt_cv);
        pthread_cond_destroy(&st->ckpt_done_cv);
        (void)cb__store_exec(st, "PRAGMA wal_autocheckpoint = 4096", err);
        return CB_OK; /* fall back to checkpoints on the writer */
    }
    sqlite3_wal_hook(st->db, wal_size_hook, st);   /* autocheckpoint is off */
    st->bulk = 1;
    return CB_OK;
}

void
cb_store_bulk_end(struct cb_store *st)
{
    if (st->fk_off && !st->in_tx) {
        sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
        st->fk_off = 0;
    }
    sqlite3_exec(st->db, "PRAGMA secure_delete = ON", NULL, NULL, NULL);
    if (!st->bulk)
        return;
    pthread_mutex_lock(&st->ckpt_mu);
    st->ckpt_stop = 1;
    pthread_cond_broadcast(&st->ckpt_cv);
    pthread_mutex_unlock(&st->ckpt_mu);
    pthread_join(st->ckpt_thread, NULL);
    pthread_mutex_destroy(&st->ckpt_mu);
    pthread_cond_destroy(&st->ckpt_cv);
    pthread_cond_destroy(&st->ckpt_done_cv);
    st->bulk = 0;
    sqlite3_exec(st->db, "PRAGMA wal_autocheckpoint = 4096", NULL, NULL, NULL);
}

int
cb_store_schema_version(const struct cb_store *st)
{
    return st->version;
}

/*
 * Notes whether another connection has committed since this one last
 * looked (PRAGMA data_version): what this connection knows of the records
 * of each hospital (store_record.c) is then forgotten.
 */
static enum cb_err
note_data_version(struct cb_store *st, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int64_t v;
    int rc;

    if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read the data version", err);
    rc = sqlite3_step(s);
    v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return cb__store_fail(st, "cannot read the data version", err);
    if (st->dv_known && v != st->data_version && st->ov_cap)
        memset(st->ov_state, 0, st->ov_cap);
    st->data_version = v;
    st->dv_known = 1;
    return CB_OK;
}

enum cb_err
cb_store_begin(struct cb_store *st, struct cb_buf *err)
{
    enum cb_err rc = cb__store_exec(st, "BEGIN IMMEDIATE", err);

    st->next_id = 0;
    if (!rc)
        st->in_tx = 1;
    if (!rc && (rc = note_data_version(st, err)))
        cb_store_rollback(st);
    return rc;
}

enum cb_err
cb_store_commit(struct cb_store *st, struct cb_buf *err)
{
    enum cb_err rc = cb__store_flush(st, err);

    if (!rc)
        rc = cb__store_exec(st, "COMMIT", err);

    if (!rc) {
        st->in_tx = 0;
        st->next_id = 0;
        wait_for_checkpoint(st);
    }
    return rc;
}

void
cb_store_rollback(struct cb_store *st)
{
    if (st->in_tx)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_tx = 0;
    st->next_id = 0;
    cb__store_batch_drop(st, 0);
    /* Caches may hold ids created inside the rolled-back transaction. */
    cb_strmap_release(&st->hosp_cache);
    cb_strmap_release(&st->dept_cache);
    cb__store_fact_release(st);
}

enum cb_err
cb_store_query(struct cb_store *st, const char *sql, cb_store_row_fn fn,
               void *ctx, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int ncols, i, step;
    const char *names[64], *values[64];
    enum cb_err rc = CB_OK;

    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot prepare query", err);
    if (!sqlite3_stmt_readonly(s)) {
        sqlite3_finalize(s);
        cb_errf(err, "only read-only statements are allowed here");
        return CB_ERR_USAGE;
    }
    ncols = sqlite3_column_count(s);
    if (ncols > 64)
        ncols = 64;
    for (i = 0; i < ncols; i++)
        names[i] = sqlite3_column_name(s, i);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        for (i = 0; i < ncols; i++)
            values[i] = (const char *)sqlite3_column_text(s, i);
        if ((rc = fn(ctx, ncols, names, values)))
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(st, "query failed", err);
    sqlite3_finalize(s);
    return rc;
}
