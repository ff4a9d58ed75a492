/*
 * store_case.c - the details of stored cases for lineage (lineage.h): one
 * query per batch of record ids (integers from the engine, written into
 * the SQL) or one bound query per case key, each row's strings copied into
 * the caller's arena, and on request the record's items decoded for the
 * patient identifiers and grouped again for the trace.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/lineage.h"
#include "carebase/record.h"
#include "store_int.h"

const char *const cb_case_id_keys[CB_CASE_NIDS] = {
    "XM", "SFZH", "JKKH", "XZZ", "DH", "HKDZ", "GZDWJDZ", "DWDH", "LXRXM", "DZ", "DH1",
};

/* The columns of both queries, in enum cb_case_field order after r.id. */
#define CASE_SELECT \
    "SELECT r.id, h.zzjgdm, r.bah, r.zycs, date(r.cy_day * 86400, 'unixepoch')," \
    " r.cykb, dp.name, r.zzys, r.lyfs, dr.drg, dr.status, s.scheme," \
    " dr.scheme_id, r.data, r.dx, r.px" \
    " FROM record r JOIN hospital h ON h.id = r.hospital_id" \
    " LEFT JOIN department dp ON dp.hospital_id = r.hospital_id AND dp.code = r.cykb" \
    " LEFT JOIN fact f ON f.record_id = r.id" \
    " LEFT JOIN drg_outcome dr ON dr.id = f.drg_outcome" \
    " LEFT JOIN drg_scheme s ON s.id = dr.scheme_id"
enum { COL_SCHEME_ID = 1 + CB_CASE__N, COL_DATA, COL_DX, COL_PX };

/* What one fetch shares between its rows. */
struct fetch {
    struct cb_store       *st;
    struct cb_case_tracer *tr;
    unsigned               flags;
    struct cb_arena       *a;
    struct cb_fp          *fp;        /* CB_CASE_IDS: the decoded items */
    struct cb_arena        fpa;       /* ... their memory */
    struct cb_buf          text[3];   /* the traces: zh, en, json */
};

static const char *
dup_text(struct cb_arena *a, const char *s, size_t n, enum cb_err *rc)
{
    const char *p;

    if (!s || *rc)
        return NULL;
    if (!(p = cb_arena_dup(a, s, n).ptr))
        *rc = CB_ERR_NOMEM;
    return p;
}

static const char *
col_dup(struct fetch *f, sqlite3_stmt *q, int i, enum cb_err *rc)
{
    const char *s = (const char *)sqlite3_column_text(q, i);
    return dup_text(f->a, s, s ? (size_t)sqlite3_column_bytes(q, i) : 0, rc);
}

/* The identifiers of the row's record (decoded items). */
static enum cb_err
read_ids(struct fetch *f, const void *data, size_t n, struct cb_case *c)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc;

    cb_arena_reset(&f->fpa);
    rc = cb_store_record_decode(f->st, data, n, cb_str_c("[]"), cb_str_c("[]"), f->fp,
                                &f->fpa, &err);
    cb_buf_release(&err);
    if (rc == CB_ERR_PROTO)
        return CB_OK;           /* a damaged payload: no identifiers to show */
    for (int k = 0; !rc && k < CB_CASE_NIDS; k++) {
        for (int id = 0; id < CB_F__SCALARS; id++) {
            if (strcmp(cb_fp_key_str(id), cb_case_id_keys[k]))
                continue;
            if (f->fp->v[id].len)
                c->ids[k] = dup_text(f->a, f->fp->v[id].ptr, f->fp->v[id].len, &rc);
            break;
        }
    }
    return rc;
}

/* Fills c from the current row of q. */
static enum cb_err
case_row(struct fetch *f, sqlite3_stmt *q, struct cb_case *c)
{
    const void *data = sqlite3_column_blob(q, COL_DATA);
    size_t ndata = (size_t)sqlite3_column_bytes(q, COL_DATA);
    enum cb_err rc = CB_OK;

    c->record_id = sqlite3_column_int64(q, 0);
    c->found = true;
    for (int k = 0; k < CB_CASE__N; k++)
        c->v[k] = col_dup(f, q, 1 + k, &rc);
    if (f->flags & CB_CASE_CODES) {
        c->dx = col_dup(f, q, COL_DX, &rc);
        c->px = col_dup(f, q, COL_PX, &rc);
    }
    if (!rc && (f->flags & CB_CASE_IDS) && data)
        rc = read_ids(f, data, ndata, c);
    if (!rc && f->tr && (f->flags & (CB_CASE_TRACE | CB_CASE_TRACE_JSON))) {
        const char *dx = (const char *)sqlite3_column_text(q, COL_DX);
        const char *px = (const char *)sqlite3_column_text(q, COL_PX);
        struct cb__trace_record tr = {
            .scheme_id = sqlite3_column_type(q, COL_SCHEME_ID) == SQLITE_NULL
                             ? 0 : sqlite3_column_int64(q, COL_SCHEME_ID),
            .data = data, .n = ndata,
            .dx = cb_str_c(dx ? dx : ""), .px = cb_str_c(px ? px : ""),
            .drg = c->v[CB_CASE_DRG], .status = c->v[CB_CASE_DRG_STATUS],
        };
        rc = cb__case_trace(f->tr, f->st, &tr, &f->text[0], &f->text[1],
                            (f->flags & CB_CASE_TRACE_JSON) ? &f->text[2] : NULL);
        if (!rc && (f->flags & CB_CASE_TRACE)) {
            c->trace_zh = dup_text(f->a, cb_buf_cstr(&f->text[0]), f->text[0].len, &rc);
            c->trace_en = dup_text(f->a, cb_buf_cstr(&f->text[1]), f->text[1].len, &rc);
        }
        if (!rc && (f->flags & CB_CASE_TRACE_JSON) && f->text[2].len)
            c->trace_json = dup_text(f->a, cb_buf_cstr(&f->text[2]), f->text[2].len, &rc);
    }
    return rc;
}

static enum cb_err
fetch_init(struct fetch *f, struct cb_store *st, struct cb_case_tracer *tr, unsigned flags,
           struct cb_arena *a)
{
    memset(f, 0, sizeof *f);
    f->st = st;
    f->tr = tr;
    f->flags = flags;
    f->a = a;
    for (int k = 0; k < 3; k++)
        cb_buf_init(&f->text[k], CB_BUF_MAX_DEFAULT);
    cb_arena_init(&f->fpa, 1 << 14);
    if ((flags & CB_CASE_IDS) && !(f->fp = cb_calloc(1, sizeof *f->fp)))
        return CB_ERR_NOMEM;
    return CB_OK;
}

static void
fetch_release(struct fetch *f)
{
    for (int k = 0; k < 3; k++)
        cb_buf_release(&f->text[k]);
    cb_arena_release(&f->fpa);
    cb_free(f->fp);
}

/* Runs q to the end, each row into the case place() finds for its id. */
static enum cb_err
run_rows(struct fetch *f, sqlite3_stmt *q, const struct cb_lineage_hit *hits, size_t n,
         struct cb_case *out, struct cb_buf *err)
{
    enum cb_err rc = CB_OK;
    int step;

    while (!rc && (step = sqlite3_step(q)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(q, 0);
        size_t lo = 0, hi = n;
        struct cb_case *c = NULL;

        if (!hits) {
            c = &out[0];
        } else {
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (hits[mid].record_id == id) {
                    c = &out[mid];
                    break;
                }
                if (hits[mid].record_id < id)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        if (c)
            rc = case_row(f, q, c);
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(f->st, "cannot read the cases", err);
    return rc;
}

enum cb_err
cb_case_fetch(struct cb_store *st, struct cb_case_tracer *tracer,
              const struct cb_lineage_hit *hits, size_t n, unsigned flags,
              struct cb_case *out, struct cb_arena *a, struct cb_buf *err)
{
    struct cb_buf sql = CB_BUF_INIT;
    struct fetch f;
    sqlite3_stmt *q = NULL;
    enum cb_err rc;

    if (n > CB_CASE_FETCH_MAX) {
        cb_errf(err, "at most %d cases per fetch", CB_CASE_FETCH_MAX);
        return CB_ERR_USAGE;
    }
    memset(out, 0, n * sizeof *out);
    for (size_t i = 0; i < n; i++)
        out[i].record_id = hits[i].record_id;
    if (!n)
        return CB_OK;
    rc = fetch_init(&f, st, tracer, flags, a);
    if (!rc)
        rc = cb_buf_adds(&sql, CASE_SELECT " WHERE r.id IN (");
    for (size_t i = 0; !rc && i < n; i++)
        rc = cb_buf_addf(&sql, "%s%lld", i ? "," : "", (long long)hits[i].record_id);
    if (!rc)
        rc = cb_buf_adds(&sql, ")");
    if (!rc && sqlite3_prepare_v2(st->db, cb_buf_cstr(&sql), -1, &q, NULL) != SQLITE_OK)
        rc = cb__store_fail(st, "cannot read the cases", err);
    if (!rc)
        rc = run_rows(&f, q, hits, n, out, err);
    sqlite3_finalize(q);
    cb_buf_release(&sql);
    fetch_release(&f);
    return rc;
}

enum cb_err
cb_case_find(struct cb_store *st, struct cb_case_tracer *tracer, const char *zzjgdm,
             const char *bah, int64_t zycs, unsigned flags, struct cb_case *out,
             struct cb_arena *a, struct cb_buf *err)
{
    struct fetch f;
    sqlite3_stmt *q = NULL;
    enum cb_err rc;

    memset(out, 0, sizeof *out);
    rc = fetch_init(&f, st, tracer, flags, a);
    if (!rc && sqlite3_prepare_v2(st->db, CASE_SELECT
                                  " WHERE h.zzjgdm = ?1 AND r.bah = ?2 AND r.zycs = ?3",
                                  -1, &q, NULL) != SQLITE_OK)
        rc = cb__store_fail(st, "cannot read the case", err);
    if (!rc) {
        sqlite3_bind_text(q, 1, zzjgdm, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, bah, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, zycs);
        rc = run_rows(&f, q, NULL, 1, out, err);
    }
    if (!rc && !out->found)
        rc = CB_ERR_NOT_FOUND;
    sqlite3_finalize(q);
    fetch_release(&f);
    return rc;
}
