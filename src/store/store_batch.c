/*
 * store_batch.c - fact rows written many at a time.
 *
 * An import writes one fact per record (with its DRG result, schema v9).
 * Each written on its own costs a statement execution: its start, a cursor
 * opened and closed, its end. Queued and written CB__BATCH at a time as one
 * INSERT ... SELECT from the queue (cb_rows, store_rows.c), those costs
 * are paid once per batch, and no parameter is bound per column.
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

/* Column c of a waiting fact (cb_rows); the generation is bound apart. */
static void
fact_column(sqlite3_context *ctx, const void *row, int c)
{
    const struct cb__fact_row *r = row;
    const struct cb_fact *f = &r->f;
    int64_t v;

    switch (c) {
    case 0: v = r->id; break;
    case 1: v = r->hospital_id; break;
    case 2: v = f->dept; break;
    case 3: v = f->doctor; break;
    case 4: v = f->day; break;
    case 5: v = f->los; break;
    case 6: v = f->zfy; break;
    case 7: v = f->drug; break;
    case 8: v = f->material; break;
    case 9: v = f->flags; break;
    case 10: v = f->cohorts; break;
    case 11: v = f->drg; break;
    case 12:
        if (!r->outcome) {
            sqlite3_result_null(ctx);
            return;
        }
        v = r->outcome;
        break;
    case 13:
        if (r->outcome <= 0) {
            sqlite3_result_null(ctx);
            return;
        }
        v = r->grouped_at;
        break;
    default:
        sqlite3_result_null(ctx);
        return;
    }
    sqlite3_result_int64(ctx, v);
}

/*
 * "<verb> INTO fact(cols) SELECT c0, ..., c13, ?2 FROM cb_rows(?1) <set>":
 * the waiting facts as one statement, whatever their number.
 */
static sqlite3_stmt *
prepare_facts(struct cb_store *st, int upsert, struct cb_buf *err)
{
    struct cb_buf sql = CB_BUF_INIT;
    sqlite3_stmt *s = NULL;
    enum cb_err rc = cb_buf_addf(&sql, "%s INTO fact(%s) SELECT ",
                                 upsert ? "INSERT" : "INSERT OR IGNORE", fact_cols);

    for (int c = 0; !rc && c < FACT_NCOLS - 1; c++)
        rc = cb_buf_addf(&sql, "c%d, ", c);
    /* WHERE true: an upsert after a SELECT needs it (SQLite's grammar). */
    if (!rc)
        rc = cb_buf_addf(&sql, "?2 FROM cb_rows(?1) WHERE true%s", upsert ? fact_set : "");
    if (rc)
        cb_errf(err, "out of memory preparing a statement");
    else if (sqlite3_prepare_v3(st->db, cb_buf_cstr(&sql), (int)sql.len,
                                SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        cb__store_fail(st, "cannot prepare statement", err);
    cb_buf_release(&sql);
    return s;
}

/*
 * The rows are read in the step: the queue must not change before the
 * reset, which run() does right after it.
 */
static enum cb_err
run(struct cb_store *st, sqlite3_stmt *s, const char *what, struct cb_buf *err)
{
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    return rc == SQLITE_DONE ? CB_OK : cb__store_fail(st, what, err);
}

/*
 * Facts of new records only (the usual case: an import's) go in with
 * INSERT OR IGNORE: an upsert of many rows can fail half-way on a NOT NULL,
 * so SQLite keeps a statement journal for it, a copy of every page it
 * changes. Nothing is ignored unless a fact outlived its record (deleted
 * by hand); the upsert then writes them all.
 */
static enum cb_err
write_facts(struct cb_store *st, int n, int fresh, struct cb_buf *err)
{
    sqlite3_stmt **s = fresh ? &st->fact_insert_batch : &st->fact_batch;
    struct cb__rows rows = { st->fact_wait, sizeof(st->fact_wait[0]), n, fact_column };

    if (!*s && !(*s = prepare_facts(st, !fresh, err)))
        return CB_ERR_DB;
    cb__rows_bind(*s, 1, &rows);
    sqlite3_bind_int64(*s, 2, st->fact_gen);
    enum cb_err rc = run(st, *s, "cannot store facts", err);
    sqlite3_bind_null(*s, 1); /* no pointer to this frame left bound */
    if (!rc && fresh && sqlite3_changes(st->db) != n)
        return write_facts(st, n, 0, err);
    return rc;
}

static enum cb_err
flush_facts(struct cb_store *st, struct cb_buf *err)
{
    int n = st->nfact_wait, fresh = 1;

    st->nfact_wait = 0;
    for (int i = 0; i < n; i++)
        fresh &= st->fact_wait[i].fresh;
    return n ? write_facts(st, n, fresh, err) : CB_OK;
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
