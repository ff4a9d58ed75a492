/*
 * store_fact.c - the indicator engine's facts: one row per accepted record
 * (table fact, schema v3), its dimensions interned into dense ids
 * (dim_dept, dim_doctor per hospital; dim_drg per scheme), its DRG result
 * (drg_outcome, schema v9), and loading them into an engine, all or only
 * what changed since a generation.
 */
#include <inttypes.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/engine.h"
#include "store_int.h"

void
cb__store_fact_release(struct cb_store *st)
{
    for (int i = 0; i < 3; i++)
        cb_strmap_release(&st->dim_cache[i]);
    cb_strmap_release(&st->transfer_cache);
    cb_strmap_release(&st->outcome_cache);
    cb_strmap_release(&st->scheme_text);
    for (int i = 0; i < st->nscheme_names; i++)
        cb_free(st->scheme_names[i]);
    cb_free(st->scheme_names);
    st->scheme_names = NULL;
    st->nscheme_names = 0;
    st->scheme_last = NULL;
}

enum cb_err
cb_store_fact_begin(struct cb_store *st, struct cb_buf *err)
{
    sqlite3_stmt *s;
    /* Queued facts take the generation of their flush (store_batch.c). */
    enum cb_err frc = cb__store_flush(st, err);
    if (frc)
        return frc;
    if (sqlite3_prepare_v2(st->db,
                           "UPDATE meta SET value = CAST(value AS INTEGER) + 1"
                           " WHERE key = 'fact_gen' RETURNING CAST(value AS INTEGER)",
                           -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot start a fact generation", err);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        st->fact_gen = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return cb__store_fail(st, "cannot start a fact generation", err);
    return CB_OK;
}

enum cb_err
cb__store_fact_run_write(struct cb_store *st, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int rc;

    if (!st->run_hi)
        return CB_OK;
    if (!(s = cb__store_stmt(st, S_FACT_CHANGE, err)))
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, st->run_gen);
    sqlite3_bind_int64(s, 2, st->run_lo);
    sqlite3_bind_int64(s, 3, st->run_hi);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    st->run_hi = 0;
    return rc == SQLITE_DONE ? CB_OK : cb__store_fail(st, "cannot note changed facts", err);
}

enum cb_err
cb__store_fact_changed(struct cb_store *st, int64_t id, struct cb_buf *err)
{
    enum cb_err rc;

    if (st->run_hi && st->run_gen == st->fact_gen) {
        if (id == st->run_hi + 1) {
            st->run_hi = id;
            return CB_OK;
        }
        if (id >= st->run_lo && id <= st->run_hi)
            return CB_OK;
    }
    if ((rc = cb__store_fact_run_write(st, err)))
        return rc;
    st->run_gen = st->fact_gen;
    st->run_lo = st->run_hi = id;
    return CB_OK;
}

/* Interns (scope, code) in dimension table which; 0 for an empty code. */
static enum cb_err
dim_id(struct cb_store *st, int which, int64_t scope_id, const char *scope_text,
       struct cb_str code, uint32_t *out, struct cb_buf *err)
{
    static const enum stmt_id stmts[3] = { S_DIM_DEPT, S_DIM_DOCTOR, S_DIM_DRG };
    char key[160];
    size_t n;
    *out = 0;
    if (!code.len)
        return CB_OK;
    n = scope_text ? cb__key_text(key, sizeof key, cb_str_c(scope_text), code, 100)
                   : cb__key_id(key, sizeof key, scope_id, code, 100);
    if (!n)
        return CB_ERR_TOO_LARGE;
    if (cb_strmap_get(&st->dim_cache[which], cb_str_make(key, n), out))
        return CB_OK;
    sqlite3_stmt *s = cb__store_stmt(st, stmts[which], err);
    if (!s)
        return CB_ERR_DB;
    if (scope_text)
        sqlite3_bind_text(s, 1, scope_text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, scope_id);
    bind_str(s, 2, code);
    int rc = sqlite3_step(s);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW)
        return cb__store_fail(st, "cannot intern a dimension", err);
    if (id <= 0 || id > (which == CB_DIM_DOCTOR ? (int64_t)UINT32_MAX : (int64_t)UINT16_MAX)) {
        cb_errf(err, "too many distinct %s for the indicator engine",
                which == CB_DIM_DEPT ? "departments" : which == CB_DIM_DRG ? "DRGs"
                                                                           : "doctors");
        return CB_ERR_TOO_LARGE;
    }
    *out = (uint32_t)id;
    return cb_strmap_put(&st->dim_cache[which], cb_str_make(key, n), *out);
}

/* The scheme text ("chs-drg-1.1") of drg_scheme.id, cached. */
static const char *
scheme_of(struct cb_store *st, int64_t scheme_id, struct cb_buf *err)
{
    char key[32];
    int n;
    uint32_t v;
    if (st->scheme_last && st->scheme_last_id == scheme_id)
        return st->scheme_last;  /* a run of records of one scheme */
    n = snprintf(key, sizeof key, "%" PRId64, scheme_id);
    if (cb_strmap_get(&st->scheme_text, cb_str_make(key, (size_t)n), &v)) {
        st->scheme_last_id = scheme_id;
        return st->scheme_last = st->scheme_names[v - 1];
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT scheme FROM drg_scheme WHERE id = ?1", -1,
                           &s, NULL) != SQLITE_OK) {
        cb__store_fail(st, "cannot read a scheme", err);
        return NULL;
    }
    sqlite3_bind_int64(s, 1, scheme_id);
    char *name = NULL;
    if (sqlite3_step(s) == SQLITE_ROW)
        name = cb_strdup((const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (!name) {
        cb_errf(err, "DRG scheme %" PRId64 " is not installed", scheme_id);
        return NULL;
    }
    char **p = cb_reallocarray(st->scheme_names, (size_t)st->nscheme_names + 1, sizeof *p);
    if (!p) {
        cb_free(name);
        return NULL;
    }
    st->scheme_names = p;
    p[st->nscheme_names++] = name;
    if (cb_strmap_put(&st->scheme_text, cb_str_make(key, (size_t)n),
                      (uint32_t)st->nscheme_names))
        return NULL;
    return name;
}

static enum cb_err
drg_dim(struct cb_store *st, const struct cb_store_drg *d, uint32_t *id, bool *grouped,
        struct cb_buf *err)
{
    *id = 0;
    *grouped = d->scheme_id > 0 && d->status == CB_DRG_SUCCESS;
    if (!*grouped)
        return CB_OK;
    const char *scheme = scheme_of(st, d->scheme_id, err);
    if (!scheme)
        return CB_ERR_DB;
    return dim_id(st, CB_DIM_DRG, 0, scheme, cb_str_c(d->drg), id, err);
}

/* Appends z, NUL included, to key (room: n); n when it does not fit. */
static size_t
key_add(char *key, size_t k, size_t n, const char *z, size_t max)
{
    size_t len = z ? strnlen(z, max) : 0;

    if (k + len + 1 > n)
        return n;
    if (len)
        memcpy(key + k, z, len);
    key[k + len] = '\0';
    return k + len + 1;
}

static void
bind_flag(sqlite3_stmt *s, int i, int v)
{
    if (v < 0)
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_int(s, i, v);
}

/*
 * The drg_outcome row of a result (d->scheme_id > 0): found or added, and
 * cached for the connection (a rollback forgets the cache).
 */
static enum cb_err
outcome_id(struct cb_store *st, const struct cb_store_drg *d, int64_t *out,
           struct cb_buf *err)
{
    static const enum stmt_id steps[2] = { S_OUTCOME_FIND, S_OUTCOME_INSERT };
    const char *status = cb_drg_status_name((enum cb_drg_status)d->status);
    /* The key: the parts in binary, each code up to its NUL (one per record). */
    char key[256];
    size_t k = sizeof d->scheme_id + 3;
    uint32_t v;

    memcpy(key, &d->scheme_id, sizeof d->scheme_id);
    key[8] = (char)d->status;
    key[9] = (char)d->mcc;
    key[10] = (char)d->cc;
    k = key_add(key, k, sizeof key, d->drg, sizeof d->drg);
    k = key_add(key, k, sizeof key, d->mdc, sizeof d->mdc);
    k = key_add(key, k, sizeof key, d->adrg, sizeof d->adrg);
    k = key_add(key, k, sizeof key, d->unmapped, sizeof d->unmapped);
    k = key_add(key, k, sizeof key, d->choice, 160);
    if (k >= sizeof key)
        return CB_ERR_TOO_LARGE;
    if (cb_strmap_get(&st->outcome_cache, cb_str_make(key, k), &v)) {
        *out = v;
        return CB_OK;
    }
    *out = 0;
    for (int i = 0; i < 2 && !*out; i++) {
        sqlite3_stmt *s = cb__store_stmt(st, steps[i], err);
        if (!s)
            return CB_ERR_DB;
        sqlite3_bind_int64(s, 1, d->scheme_id);
        bind_textz(s, 2, status);
        bind_textz(s, 3, d->mdc);
        bind_textz(s, 4, d->adrg);
        bind_textz(s, 5, d->drg);
        bind_flag(s, 6, d->mcc);
        bind_flag(s, 7, d->cc);
        bind_textz(s, 8, d->unmapped);
        bind_textz(s, 9, d->choice);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            return cb__store_fail(st, "cannot record a DRG result", err);
    }
    if (*out <= 0 || *out > (int64_t)UINT32_MAX) {
        cb_errf(err, "too many distinct DRG results");
        return CB_ERR_TOO_LARGE;
    }
    return cb_strmap_put(&st->outcome_cache, cb_str_make(key, k), (uint32_t)*out);
}

/* drg_outcome of a fact for d: 0 none (scheme_id < 0), -1 keep (0). */
static enum cb_err
outcome_of(struct cb_store *st, const struct cb_store_drg *d, int64_t *out,
           struct cb_buf *err)
{
    *out = d->scheme_id < 0 ? 0 : -1;
    return d->scheme_id > 0 ? outcome_id(st, d, out, err) : CB_OK;
}

/*
 * Spec c.5.6: a transfer (LYFS = 2) counts as a down-referral when the
 * receiving institution (YZZY_YLJG, a name) is a hospital of a consortium
 * of the discharging hospital, of a lower level. Answers are cached per
 * (hospital, name); the directory is read from the database, so facts
 * written before the consortium was defined are corrected by
 * `carebase regroup --facts`.
 */
static enum cb_err
down_transfer(struct cb_store *st, int64_t hospital_id, struct cb_str to, bool *out,
              struct cb_buf *err)
{
    char key[200];
    size_t n = cb__key_id(key, sizeof key, hospital_id, to, 150);
    uint32_t v;
    *out = false;
    if (!n)
        return CB_OK;
    if (cb_strmap_get(&st->transfer_cache, cb_str_make(key, n), &v)) {
        *out = v != 0;
        return CB_OK;
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT 1 FROM hospital f JOIN hospital t ON t.name = ?2"
                           " JOIN org_member a ON a.hospital_id = f.id"
                           " JOIN org_member b ON b.hospital_id = t.id AND b.group_id = a.group_id"
                           " JOIN org_group g ON g.id = a.group_id AND g.kind = 'consortium'"
                           " WHERE f.id = ?1 AND t.id <> f.id"
                           " AND (CASE t.level WHEN '三级' THEN 3 WHEN '二级' THEN 2"
                           "      WHEN '基层' THEN 1 ELSE 9 END)"
                           "   < (CASE f.level WHEN '三级' THEN 3 WHEN '二级' THEN 2"
                           "      WHEN '基层' THEN 1 ELSE 0 END) LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot look up a receiving institution", err);
    sqlite3_bind_int64(s, 1, hospital_id);
    bind_str(s, 2, cb_str_trim(to));
    int r = sqlite3_step(s);
    sqlite3_finalize(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return cb__store_fail(st, "cannot look up a receiving institution", err);
    *out = r == SQLITE_ROW;
    return cb_strmap_put(&st->transfer_cache, cb_str_make(key, n), *out ? 1 : 0);
}

enum cb_err
cb__store_put_fact(struct cb_store *st, int64_t id, int64_t hospital_id,
                   const struct cb_store_row *row, int fresh, struct cb_buf *err)
{
    if (!row->has_fact)
        return CB_OK;
    struct cb_fact f = row->fact;
    uint32_t dept, doctor, drg;
    bool grouped;
    enum cb_err rc;
    if ((rc = dim_id(st, CB_DIM_DEPT, hospital_id, NULL, row->sval[CB_SC_CYKB], &dept, err)) ||
        (rc = dim_id(st, CB_DIM_DOCTOR, hospital_id, NULL, row->sval[CB_SC_ZZYS], &doctor, err)))
        return rc;
    if (row->drg.scheme_id) {
        if ((rc = drg_dim(st, &row->drg, &drg, &grouped, err)))
            return rc;
        f.drg = (uint16_t)drg;
        f.flags = grouped ? f.flags | CB_FACT_GROUPED : f.flags & ~(uint32_t)CB_FACT_GROUPED;
    } else {
        f.drg = 0;
        f.flags &= ~(uint32_t)CB_FACT_GROUPED;
    }
    f.flags &= ~(uint32_t)CB_FACT_DOWN_TRANSFER;
    if ((f.flags & CB_FACT_TRANSFER) && row->transfer_to.len) {
        bool down;
        if ((rc = down_transfer(st, hospital_id, row->transfer_to, &down, err)))
            return rc;
        if (down)
            f.flags |= CB_FACT_DOWN_TRANSFER;
    }
    struct cb__fact_row q;
    if ((rc = outcome_of(st, &row->drg, &q.outcome, err)))
        return rc;
    q.grouped_at = (int64_t)time(NULL);
    q.fresh = fresh;
    q.id = id;
    q.hospital_id = hospital_id;
    q.f = f;
    q.f.dept = (uint16_t)dept;
    q.f.doctor = doctor;
    return cb__store_queue_fact(st, &q, err);
}

enum cb_err
cb__store_fact_set_drg(struct cb_store *st, int64_t id, const struct cb_store_drg *d,
                       struct cb_buf *err)
{
    uint32_t drg = 0;
    bool grouped = false;
    int64_t outcome = 0;
    enum cb_err rc;
    if (d->scheme_id > 0 && ((rc = drg_dim(st, d, &drg, &grouped, err)) ||
                             (rc = outcome_id(st, d, &outcome, err))))
        return rc;
    if ((st->nfact_wait && (rc = cb__store_flush(st, err))) ||  /* the fact may wait */
        (rc = cb__store_fact_changed(st, id, err)))
        return rc;
    sqlite3_stmt *s = cb__store_stmt(st, S_FACT_SET_DRG, err);
    if (!s)
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, drg);
    sqlite3_bind_int64(s, 3, CB_FACT_GROUPED);
    sqlite3_bind_int64(s, 4, grouped ? CB_FACT_GROUPED : 0);
    sqlite3_bind_int64(s, 5, st->fact_gen);
    if (outcome) {
        sqlite3_bind_int64(s, 6, outcome);
        sqlite3_bind_int64(s, 7, (int64_t)time(NULL));
    } else {
        sqlite3_bind_null(s, 6);
        sqlite3_bind_null(s, 7);
    }
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return cb__store_fail(st, "cannot update a fact", err);
    return CB_OK;
}

enum cb_err
cb__store_put_drg(struct cb_store *st, int64_t id, const struct cb_store_row *row,
                  struct cb_buf *err)
{
    int64_t outcome;
    enum cb_err rc;
    if (row->has_fact || !row->drg.scheme_id)
        return CB_OK;
    if ((rc = outcome_of(st, &row->drg, &outcome, err)))
        return rc;
    if (st->nfact_wait && (rc = cb__store_flush(st, err)))  /* the fact may wait */
        return rc;
    sqlite3_stmt *s = cb__store_stmt(st, S_FACT_SET_OUTCOME, err);
    if (!s)
        return CB_ERR_DB;
    sqlite3_bind_int64(s, 1, id);
    if (outcome > 0) {
        sqlite3_bind_int64(s, 2, outcome);
        sqlite3_bind_int64(s, 3, (int64_t)time(NULL));
    } else {
        sqlite3_bind_null(s, 2);
        sqlite3_bind_null(s, 3);
    }
    int r = sqlite3_step(s);
    sqlite3_reset(s);
    if (r != SQLITE_DONE)
        return cb__store_fail(st, "cannot store a DRG result", err);
    return CB_OK;
}

/* What one load shares between its statements. */
struct load {
    struct cb_engine *e;
    struct cb_fact   *batch;
    size_t            n;
    int64_t           gen;     /* the highest generation seen */
};
enum { LOAD_BATCH = 4096 };

/* Puts the rows of s (the columns of FACT_SELECT) into the engine. */
static enum cb_err
load_rows(struct cb_store *st, sqlite3_stmt *s, struct load *l, struct cb_buf *err)
{
    enum cb_err rc = CB_OK;
    int r;
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        struct cb_fact *f = &l->batch[l->n++];
        f->record_id = sqlite3_column_int64(s, 0);
        f->hospital = (uint16_t)sqlite3_column_int64(s, 1);
        f->dept = (uint16_t)sqlite3_column_int64(s, 2);
        f->doctor = (uint32_t)sqlite3_column_int64(s, 3);
        f->day = (uint16_t)sqlite3_column_int64(s, 4);
        f->los = (uint16_t)sqlite3_column_int64(s, 5);
        f->zfy = (uint32_t)sqlite3_column_int64(s, 6);
        f->drug = (uint32_t)sqlite3_column_int64(s, 7);
        f->material = (uint32_t)sqlite3_column_int64(s, 8);
        f->flags = (uint32_t)sqlite3_column_int64(s, 9);
        f->cohorts = (uint16_t)sqlite3_column_int64(s, 10);
        f->drg = (uint16_t)sqlite3_column_int64(s, 11);
        int64_t g = sqlite3_column_int64(s, 12);
        if (g > l->gen)
            l->gen = g;
        if (l->n == LOAD_BATCH) {
            rc = cb_engine_put(l->e, l->batch, l->n);
            l->n = 0;
        }
    }
    sqlite3_reset(s);
    if (!rc && r != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot read facts", err);
    return rc;
}

#define FACT_SELECT                                                             \
    "SELECT record_id, hospital_id, dept_id, doctor_id, cy_day, los, zfy, drug," \
    " material, flags, cohorts, drg_id, gen FROM fact"

/* Record id runs of fact_change, sorted and merged. */
struct runs {
    int64_t (*r)[2];
    size_t   n, cap;
};

static enum cb_err
changed_runs(struct cb_store *st, int64_t since, struct runs *out, struct cb_buf *err)
{
    sqlite3_stmt *s;
    int r;
    if (sqlite3_prepare_v2(st->db, "SELECT lo, hi FROM fact_change WHERE gen > ?1"
                                   " ORDER BY lo, hi", -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read changed facts", err);
    sqlite3_bind_int64(s, 1, since);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t lo = sqlite3_column_int64(s, 0), hi = sqlite3_column_int64(s, 1);
        if (out->n && lo <= out->r[out->n - 1][1] + 1) {  /* touches the last */
            if (hi > out->r[out->n - 1][1])
                out->r[out->n - 1][1] = hi;
            continue;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            int64_t (*p)[2] = cb_reallocarray(out->r, cap, sizeof *p);
            if (!p) {
                sqlite3_finalize(s);
                return CB_ERR_NOMEM;
            }
            out->r = p;
            out->cap = cap;
        }
        out->r[out->n][0] = lo;
        out->r[out->n++][1] = hi;
    }
    sqlite3_finalize(s);
    return r == SQLITE_DONE ? CB_OK : cb__store_fail(st, "cannot read changed facts", err);
}

/* The facts in the runs of record ids changed by generations after since. */
static enum cb_err
load_changed(struct cb_store *st, int64_t since, struct load *l, struct cb_buf *err)
{
    struct runs runs = { NULL, 0, 0 };
    sqlite3_stmt *s = NULL;
    enum cb_err rc = changed_runs(st, since, &runs, err);
    if (!rc && sqlite3_prepare_v2(st->db, FACT_SELECT " WHERE record_id BETWEEN ?2 AND ?3"
                                          " AND gen > ?1", -1, &s, NULL) != SQLITE_OK)
        rc = cb__store_fail(st, "cannot read facts", err);
    if (!rc)
        sqlite3_bind_int64(s, 1, since);
    for (size_t i = 0; !rc && i < runs.n; i++) {
        sqlite3_bind_int64(s, 2, runs.r[i][0]);
        sqlite3_bind_int64(s, 3, runs.r[i][1]);
        rc = load_rows(st, s, l, err);
    }
    sqlite3_finalize(s);
    cb_free(runs.r);
    return rc;
}

static enum cb_err
load_all(struct cb_store *st, struct load *l, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc;
    if (sqlite3_prepare_v2(st->db, FACT_SELECT, -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read facts", err);
    rc = load_rows(st, s, l, err);
    sqlite3_finalize(s);
    return rc;
}

/* Raises *gen to the newest generation that wrote facts. */
static enum cb_err
newest_gen(struct cb_store *st, int64_t *gen, struct cb_buf *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(max(gen), 0) FROM fact_change", -1, &s,
                           NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read changed facts", err);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW && sqlite3_column_int64(s, 0) > *gen)
        *gen = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return r == SQLITE_ROW ? CB_OK : cb__store_fail(st, "cannot read changed facts", err);
}

/*
 * A full load scans the table; a later one reads the runs of record ids
 * that the newer generations wrote (fact_change) and, in each, the facts
 * whose gen is newer. Both in one snapshot with the newest generation,
 * which is what *gen_out says was loaded (a generation may have noted a
 * change without a fact to show for it: a record without one).
 */
enum cb_err
cb_store_facts_load(struct cb_store *st, struct cb_engine *e, int64_t since,
                    int64_t *gen_out, struct cb_buf *err)
{
    sqlite3_stmt *s;
    enum cb_err rc = cb__store_flush(st, err);  /* facts of this connection wait */
    if (rc)
        return rc;
    if (!since) {  /* a full load: reserve once instead of growing */
        if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM fact", -1, &s, NULL) != SQLITE_OK)
            return cb__store_fail(st, "cannot count facts", err);
        int64_t total = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        sqlite3_finalize(s);
        if (total > 0 && cb_engine_reserve(e, (size_t)total)) {
            cb_errf(err, "out of memory for %lld facts", (long long)total);
            return CB_ERR_NOMEM;
        }
    }
    struct load l = { e, cb_malloc(LOAD_BATCH * sizeof(struct cb_fact)), 0, since };
    if (!l.batch)
        return CB_ERR_NOMEM;
    if (!(rc = cb__store_exec(st, "SAVEPOINT facts_load", err))) {
        rc = newest_gen(st, &l.gen, err);
        if (!rc)
            rc = since ? load_changed(st, since, &l, err) : load_all(st, &l, err);
        if (!rc && l.n)
            rc = cb_engine_put(e, l.batch, l.n);
        enum cb_err rrc = cb__store_exec(st, "RELEASE facts_load", err);
        if (!rc)
            rc = rrc;
    }
    if (!rc && !since)
        cb_engine_shrink(e);  /* a full load: no room kept for growth */
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory loading facts");
    cb_free(l.batch);
    if (!rc && gen_out)
        *gen_out = l.gen;
    return rc;
}

enum cb_err
cb_store_dim_list(struct cb_store *st, int which, cb_store_dim_fn fn, void *ctx,
                  struct cb_buf *err)
{
    static const char *const sql[3] = {
        "SELECT d.id, h.zzjgdm, d.code FROM dim_dept d JOIN hospital h ON h.id = d.hospital_id",
        "SELECT d.id, h.zzjgdm, d.name FROM dim_doctor d JOIN hospital h ON h.id = d.hospital_id",
        "SELECT id, scheme, drg FROM dim_drg",
    };
    if (which < 0 || which > 2)
        return CB_ERR_USAGE;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, sql[which], -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read a dimension", err);
    enum cb_err rc = CB_OK;
    int r;
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW)
        rc = fn(ctx, sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
                (const char *)sqlite3_column_text(s, 2));
    if (!rc && r != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot read a dimension", err);
    sqlite3_finalize(s);
    return rc;
}

/* ---- names for reports -------------------------------------------------- */

static void
free_names(char **a, int n)
{
    for (int i = 0; i < n; i++)
        cb_free(a[i]);
    cb_free(a);
}

void
cb_store_names_release(struct cb_store_names *n)
{
    cb_free(n->hosp);
    free_names(n->dept, n->ndept);
    free_names(n->doctor, n->ndoctor);
    free_names(n->drg_code, n->ndrg);
    free_names(n->drg_scheme, n->ndrg_scheme);
    memset(n, 0, sizeof *n);
}

/* Grows a by-id array of strings to hold id, then sets it. */
static int
put_name(char ***arr, int *n, int64_t id, const char *v)
{
    if (id < 0 || id > 50000000)
        return -1;
    if (id >= *n) {
        int cap = (int)id + 1;
        char **p = cb_reallocarray(*arr, (size_t)cap, sizeof *p);
        if (!p)
            return -1;
        memset(p + *n, 0, (size_t)(cap - *n) * sizeof *p);
        *arr = p;
        *n = cap;
    }
    cb_free((*arr)[id]);
    (*arr)[id] = cb_strdup(v ? v : "");
    return (*arr)[id] ? 0 : -1;
}

struct names_ctx {
    struct cb_store_names *n;
    int                    which;
};

static enum cb_err
names_dim_row(void *ctx, int64_t id, const char *scope, const char *code)
{
    struct names_ctx *d = ctx;
    struct cb_store_names *n = d->n;
    int rc;
    if (d->which == CB_DIM_DEPT) {
        rc = put_name(&n->dept, &n->ndept, id, code);
    } else if (d->which == CB_DIM_DOCTOR) {
        rc = put_name(&n->doctor, &n->ndoctor, id, code);
    } else {
        rc = put_name(&n->drg_code, &n->ndrg, id, code);
        if (!rc)
            rc = put_name(&n->drg_scheme, &n->ndrg_scheme, id, scope);
    }
    return rc ? CB_ERR_NOMEM : CB_OK;
}

enum cb_err
cb_store_names_load(struct cb_store *st, struct cb_store_names *n, struct cb_buf *err)
{
    enum cb_err rc = CB_OK;
    memset(n, 0, sizeof *n);
    for (int w = 0; !rc && w < 3; w++) {
        struct names_ctx d = { n, w };
        rc = cb_store_dim_list(st, w, names_dim_row, &d, err);
    }
    sqlite3_stmt *s = NULL;
    if (!rc && sqlite3_prepare_v2(st->db, "SELECT id, zzjgdm, name, level FROM hospital",
                                  -1, &s, NULL) != SQLITE_OK)
        rc = cb__store_fail(st, "cannot read hospitals", err);
    while (!rc && sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        if (id < 0 || id > 65535)
            continue;
        if (id >= n->nhosp) {
            struct cb_store_hosp *p = cb_reallocarray(n->hosp, (size_t)id + 1, sizeof *p);
            if (!p) {
                rc = CB_ERR_NOMEM;
                break;
            }
            memset(p + n->nhosp, 0, (size_t)(id + 1 - n->nhosp) * sizeof *p);
            n->hosp = p;
            n->nhosp = (int)id + 1;
        }
        const unsigned char *t[3] = { sqlite3_column_text(s, 1), sqlite3_column_text(s, 2),
                                      sqlite3_column_text(s, 3) };
        struct cb_store_hosp *h = &n->hosp[id];
        snprintf(h->zzjgdm, sizeof h->zzjgdm, "%s", t[0] ? (const char *)t[0] : "");
        snprintf(h->name, sizeof h->name, "%s", t[1] ? (const char *)t[1] : "");
        snprintf(h->level, sizeof h->level, "%s", t[2] ? (const char *)t[2] : "");
    }
    sqlite3_finalize(s);
    if (rc == CB_ERR_NOMEM && !err->len)
        cb_errf(err, "out of memory reading names");
    if (rc)
        cb_store_names_release(n);
    return rc;
}
