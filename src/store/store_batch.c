/*
 * store_batch.c - fact rows written many at a time.
 *
 * An import writes one fact per record (with its DRG result, schema v9).
 * Each written on its own costs a statement execution: its start, a cursor
 * opened and closed, its end. Queued and written CB__BATCH at a time as one
 * multi-row upsert, those costs are paid once per batch (about 40 % of the
 * store thread's time for this table). A part batch is written row by row
 * with the same statement text for one row (S_FACT_PUT).
 *
 * Parameters are numbered so that a batch binds as little as it can: the
 * last column (fact.gen) is the same for every row of a flush, so all rows
 * share one parameter for it (see prepare_batch).
 */
#include <string.h>

#include "carebase/alloc.h"
#include "store_int.h"

static const char fact_cols[] =
    "record_id, hospital_id, dept_id, doctor_id, cy_day, los, zfy, drug, material,"
    " flags, cohorts, drg_id, drg_outcome, grouped_at, gen";
/* drg_outcome < 0: keep the result there is (the record was not grouped). */
static const char fact_set[] =
    " ON CONFLICT (record_id) DO UPDATE SET hospital_id = excluded.hospital_id,"
    " dept_id = excluded.dept_id, doctor_id = excluded.doctor_id,"
    " cy_day = excluded.cy_day, los = excluded.los, zfy = excluded.zfy,"
    " drug = excluded.drug, material = excluded.material, flags = excluded.flags,"
    " cohorts = excluded.cohorts, drg_id = excluded.drg_id,"
    " drg_outcome = iif(excluded.drg_outcome < 0, drg_outcome, excluded.drg_outcome),"
    " grouped_at = iif(excluded.drg_outcome < 0, grouped_at, excluded.grouped_at),"
    " gen = excluded.gen";
enum { FACT_NCOLS = 15 };

/*
 * "<verb> INTO t(cols) VALUES (?2,...,?1),(...,?1),... <set>" for nrows rows:
 * the last column, the same for every row, is ?1; row r's others are
 * ?(2 + r * (ncols - 1)) on. The shared one comes first in the numbering
 * because SQLite looks up every ?N at or below the highest number seen so
 * far in a list of those seen: with the shared one numbered last, that is
 * every parameter, and preparing grew with the square of their count.
 */
static sqlite3_stmt *
prepare_batch(struct cb_store *st, const char *verb, const char *table, const char *cols,
              int ncols, const char *set, int nrows, struct cb_buf *err)
{
    struct cb_buf sql = CB_BUF_INIT;
    sqlite3_stmt *s = NULL;
    enum cb_err rc = cb_buf_addf(&sql, "%s INTO %s(%s) VALUES ", verb, table, cols);

    for (int r = 0; !rc && r < nrows; r++) {
        rc = cb_buf_adds(&sql, r ? ",(" : "(");
        for (int c = 0; !rc && c < ncols - 1; c++)
            rc = cb_buf_addf(&sql, "%s?%d", c ? "," : "", r * (ncols - 1) + c + 2);
        if (!rc)
            rc = cb_buf_adds(&sql, ",?1)");
    }
    if (!rc)
        rc = cb_buf_adds(&sql, set);
    if (rc)
        cb_errf(err, "out of memory preparing a statement");
    else if (sqlite3_prepare_v3(st->db, cb_buf_cstr(&sql), (int)sql.len,
                                SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        cb__store_fail(st, "cannot prepare statement", err);
    cb_buf_release(&sql);
    return s;
}

/* Binds one fact as parameters k+1 .. k+FACT_NCOLS-1 (not gen). */
static void
bind_fact(sqlite3_stmt *s, int k, const struct cb__fact_row *r)
{
    const struct cb_fact *f = &r->f;

    sqlite3_bind_int64(s, k + 1, r->id);
    sqlite3_bind_int64(s, k + 2, r->hospital_id);
    sqlite3_bind_int64(s, k + 3, f->dept);
    sqlite3_bind_int64(s, k + 4, f->doctor);
    sqlite3_bind_int64(s, k + 5, f->day);
    sqlite3_bind_int64(s, k + 6, f->los);
    sqlite3_bind_int64(s, k + 7, f->zfy);
    sqlite3_bind_int64(s, k + 8, f->drug);
    sqlite3_bind_int64(s, k + 9, f->material);
    sqlite3_bind_int64(s, k + 10, f->flags);
    sqlite3_bind_int64(s, k + 11, f->cohorts);
    sqlite3_bind_int64(s, k + 12, f->drg);
    if (r->outcome)
        sqlite3_bind_int64(s, k + 13, r->outcome);
    else
        sqlite3_bind_null(s, k + 13);
    if (r->outcome > 0)
        sqlite3_bind_int64(s, k + 14, r->grouped_at);
    else
        sqlite3_bind_null(s, k + 14);
}

/*
 * The bindings stay after the step: they point into the queue, which the
 * next rows overwrite, but SQLite reads them only in a step, and every
 * parameter (NULLs included) is bound again before the next one.
 */
static enum cb_err
run(struct cb_store *st, sqlite3_stmt *s, const char *what, struct cb_buf *err)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    return rc == SQLITE_DONE ? CB_OK : cb__store_fail(st, what, err);
}

/*
 * A full batch of facts of new records (the usual case: an import's) goes
 * in with INSERT OR IGNORE: an upsert of many rows can fail half-way on a
 * NOT NULL, so SQLite keeps a statement journal for it, a copy of every
 * page it changes. Nothing is ignored unless a fact outlived its record
 * (deleted by hand); the upsert then writes them all.
 */
static enum cb_err
flush_full(struct cb_store *st, int fresh, struct cb_buf *err)
{
    sqlite3_stmt **s = fresh ? &st->fact_insert_batch : &st->fact_batch;

    if (!*s && !(*s = prepare_batch(st, fresh ? "INSERT OR IGNORE" : "INSERT", "fact",
                                    fact_cols, FACT_NCOLS, fresh ? "" : fact_set,
                                    CB__BATCH, err)))
        return CB_ERR_DB;
    for (int i = 0; i < CB__BATCH; i++)
        bind_fact(*s, 1 + i * (FACT_NCOLS - 1), &st->fact_wait[i]);
    sqlite3_bind_int64(*s, 1, st->fact_gen);
    enum cb_err rc = run(st, *s, "cannot store facts", err);
    if (!rc && fresh && sqlite3_changes(st->db) != CB__BATCH)
        return flush_full(st, 0, err);
    return rc;
}

static enum cb_err
flush_facts(struct cb_store *st, struct cb_buf *err)
{
    int n = st->nfact_wait, fresh = 1;
    sqlite3_stmt *s;
    enum cb_err rc = CB_OK;

    st->nfact_wait = 0;
    if (n == CB__BATCH) {
        for (int i = 0; i < n; i++)
            fresh &= st->fact_wait[i].fresh;
        return flush_full(st, fresh, err);
    }
    for (int i = 0; !rc && i < n; i++) {
        if (!(s = cb__store_stmt(st, S_FACT_PUT, err)))
            return CB_ERR_DB;
        bind_fact(s, 0, &st->fact_wait[i]);
        sqlite3_bind_int64(s, FACT_NCOLS, st->fact_gen);
        rc = run(st, s, "cannot store a fact", err);
    }
    return rc;
}

enum cb_err
cb__store_queue_fact(struct cb_store *st, const struct cb__fact_row *f,
                     struct cb_buf *err)
{
    enum cb_err rc = cb__store_fact_changed(st, f->id, err);

    if (rc)
        return rc;
    st->fact_wait[st->nfact_wait++] = *f;
    return st->nfact_wait == CB__BATCH ? flush_facts(st, err) : CB_OK;
}

enum cb_err
cb__store_flush(struct cb_store *st, struct cb_buf *err)
{
    enum cb_err rc = cb__store_flush_records(st, err);

    if (!rc && st->nfact_wait)
        rc = flush_facts(st, err);
    if (!rc && st->run_hi)
        rc = cb__store_fact_run_write(st, err);
    return rc;
}

void
cb__store_batch_drop(struct cb_store *st, int fin)
{
    st->nfact_wait = 0;
    st->run_hi = 0;
    cb__store_records_drop(st, fin);
    if (fin) {
        sqlite3_finalize(st->fact_batch);
        sqlite3_finalize(st->fact_insert_batch);
        st->fact_batch = st->fact_insert_batch = NULL;
    }
}
