/*
 * store_ref.c - DRG references (tables reference, reference_drg): saved
 * once when computed, read by every indicator query that uses them.
 */
#include <math.h>

#include "carebase/alloc.h"
#include "carebase/engine.h"
#include "carebase/reference.h"
#include "store_int.h"

static void
bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

static double
col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static void
col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

static const char *const source_names[] = { "none", "computed", "adrg", "file" };

enum cb_err
cb_store_reference_save(struct cb_store *st, struct cb_store_ref_info *info,
                        const struct cb_ref_result *r, const char *const *drg_codes,
                        struct cb_buf *err)
{
    enum cb_err rc = cb__store_exec(st, "SAVEPOINT ref_save", err);
    if (rc)
        return rc;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM reference WHERE name = ?1", -1, &s,
                           NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(s, 1, info->name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO reference(name, scheme, region, day_from, day_to,"
                           " settings, weights_file, cases, kept, pooled_mean, risk_mu,"
                           " risk_sigma, graded, created_at) VALUES (?1,?2,?3,?4,?5,?6,"
                           "?7,?8,?9,?10,?11,?12,?13, strftime('%Y-%m-%d %H:%M:%S','now'))"
                           " RETURNING id, created_at", -1, &s, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(s, 1, info->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, info->scheme, -1, SQLITE_STATIC);
    if (info->region[0])
        sqlite3_bind_text(s, 3, info->region, -1, SQLITE_STATIC);
    if (info->day_from >= 0)
        sqlite3_bind_int(s, 4, info->day_from);
    if (info->day_to >= 0)
        sqlite3_bind_int(s, 5, info->day_to);
    sqlite3_bind_text(s, 6, info->settings, -1, SQLITE_STATIC);
    if (info->weights_file[0])
        sqlite3_bind_text(s, 7, info->weights_file, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, r->cases);
    sqlite3_bind_int64(s, 9, r->kept);
    bind_real(s, 10, r->pooled_mean);
    bind_real(s, 11, r->risk_mu);
    bind_real(s, 12, r->risk_sigma);
    sqlite3_bind_int(s, 13, r->graded);
    if (sqlite3_step(s) != SQLITE_ROW)
        goto fail;
    info->id = sqlite3_column_int64(s, 0);
    col_text(s, 1, info->created_at, sizeof info->created_at);
    sqlite3_finalize(s);
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO reference_drg(reference_id, drg, cases, kept,"
                           " deaths, mean_cost, mean_los, kept_mean_cost, weight,"
                           " weight_source, mortality, risk, risk_z)"
                           " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
                           -1, &s, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; i < r->ndrgs; i++) {
        const struct cb_ref_drg *d = &r->drg[i];
        if (!d->cases && d->source != CB_RW_FILE)
            continue;
        sqlite3_bind_int64(s, 1, info->id);
        sqlite3_bind_text(s, 2, drg_codes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, d->cases);
        sqlite3_bind_int64(s, 4, d->kept);
        sqlite3_bind_int64(s, 5, d->deaths);
        bind_real(s, 6, d->mean_cost);
        bind_real(s, 7, d->mean_los);
        bind_real(s, 8, d->kept_mean_cost);
        bind_real(s, 9, d->weight);
        sqlite3_bind_text(s, 10, source_names[d->source & 3], -1, SQLITE_STATIC);
        bind_real(s, 11, d->mortality);
        sqlite3_bind_int(s, 12, d->risk);
        bind_real(s, 13, d->risk_z);
        if (sqlite3_step(s) != SQLITE_DONE)
            goto fail;
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    return cb__store_exec(st, "RELEASE ref_save", err);
fail:
    rc = cb__store_fail(st, "cannot save the reference", err);
    sqlite3_finalize(s);
    sqlite3_exec(st->db, "ROLLBACK TO ref_save; RELEASE ref_save", NULL, NULL, NULL);
    return rc;
}

enum cb_err
cb_store_reference_load(struct cb_store *st, const char *name,
                        struct cb_store_ref_info *info, cb_store_ref_drg_fn fn,
                        void *ctx, struct cb_buf *err)
{
    sqlite3_stmt *s;
    memset(info, 0, sizeof *info);
    if (sqlite3_prepare_v2(st->db,
                           "SELECT id, name, scheme, region, day_from, day_to, settings,"
                           " weights_file, cases, kept, pooled_mean, risk_mu, risk_sigma,"
                           " graded, created_at FROM reference"
                           " WHERE ?1 IS NULL OR name = ?1 ORDER BY id DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return cb__store_fail(st, "cannot read references", err);
    if (name)
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_finalize(s);
        if (name)
            cb_errf(err, "no DRG reference named '%s' (see carebase reference list)", name);
        else
            cb_errf(err, "no DRG reference yet (create one with carebase reference create)");
        return CB_ERR_NOT_FOUND;
    }
    info->id = sqlite3_column_int64(s, 0);
    col_text(s, 1, info->name, sizeof info->name);
    col_text(s, 2, info->scheme, sizeof info->scheme);
    col_text(s, 3, info->region, sizeof info->region);
    info->day_from = sqlite3_column_type(s, 4) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 4);
    info->day_to = sqlite3_column_type(s, 5) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 5);
    col_text(s, 6, info->settings, sizeof info->settings);
    col_text(s, 7, info->weights_file, sizeof info->weights_file);
    info->cases = sqlite3_column_int64(s, 8);
    info->kept = sqlite3_column_int64(s, 9);
    info->pooled_mean = col_real(s, 10);
    info->risk_mu = col_real(s, 11);
    info->risk_sigma = col_real(s, 12);
    info->graded = sqlite3_column_int(s, 13);
    col_text(s, 14, info->created_at, sizeof info->created_at);
    sqlite3_finalize(s);
    if (!fn)
        return CB_OK;
    if (sqlite3_prepare_v2(st->db,
                           "SELECT drg, cases, kept, deaths, mean_cost, mean_los,"
                           " kept_mean_cost, weight, weight_source, mortality, risk, risk_z"
                           " FROM reference_drg WHERE reference_id = ?1", -1, &s, NULL)
        != SQLITE_OK)
        return cb__store_fail(st, "cannot read a reference", err);
    sqlite3_bind_int64(s, 1, info->id);
    enum cb_err rc = CB_OK;
    int r;
    while (!rc && (r = sqlite3_step(s)) == SQLITE_ROW) {
        struct cb_ref_drg d = {
            .cases = sqlite3_column_int64(s, 1),
            .kept = sqlite3_column_int64(s, 2),
            .deaths = sqlite3_column_int64(s, 3),
            .mean_cost = col_real(s, 4),
            .mean_los = col_real(s, 5),
            .kept_mean_cost = col_real(s, 6),
            .weight = col_real(s, 7),
            .mortality = col_real(s, 9),
            .risk = (int8_t)sqlite3_column_int(s, 10),
            .risk_z = col_real(s, 11),
        };
        const char *src = (const char *)sqlite3_column_text(s, 8);
        for (int k = 0; k < 4; k++)
            if (src && !strcmp(src, source_names[k]))
                d.source = (enum cb_rw_source)k;
        rc = fn(ctx, (const char *)sqlite3_column_text(s, 0), &d);
    }
    if (!rc && r != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot read a reference", err);
    sqlite3_finalize(s);
    return rc;
}

/* ---- a reference mapped onto the engine's DRG ids ----------------------- */

struct map_ctx {
    const struct cb_store_names *n;
    const char                  *scheme;
    struct cb_engine_ref        *ref;
};

static enum cb_err
map_row(void *ctx, const char *drg, const struct cb_ref_drg *d)
{
    struct map_ctx *c = ctx;
    for (int i = 0; i < c->n->ndrg && i < c->n->ndrg_scheme; i++)
        if (c->n->drg_code[i] && !strcmp(c->n->drg_code[i], drg) &&
            c->n->drg_scheme[i] && !strcmp(c->n->drg_scheme[i], c->scheme)) {
            c->ref->weight[i] = d->weight;
            c->ref->mean_cost[i] = d->cases ? d->mean_cost : NAN;
            c->ref->mean_los[i] = d->mean_los;
            c->ref->risk[i] = d->risk;
        }
    return CB_OK;
}

enum cb_err
cb_store_reference_map(struct cb_store *st, const char *name, const struct cb_store_names *n,
                       struct cb_store_ref_info *info, struct cb_engine_ref *ref,
                       struct cb_buf *err)
{
    int k = n->ndrg > 0 ? n->ndrg : 1;
    memset(ref, 0, sizeof *ref);
    ref->ndrg = k;
    ref->weight = cb_malloc((size_t)k * sizeof(double));
    ref->mean_cost = cb_malloc((size_t)k * sizeof(double));
    ref->mean_los = cb_malloc((size_t)k * sizeof(double));
    ref->risk = cb_malloc((size_t)k);
    if (!ref->weight || !ref->mean_cost || !ref->mean_los || !ref->risk) {
        cb_engine_ref_release(ref);
        cb_errf(err, "out of memory");
        return CB_ERR_NOMEM;
    }
    for (int i = 0; i < k; i++) {
        ref->weight[i] = ref->mean_cost[i] = ref->mean_los[i] = NAN;
        ref->risk[i] = -1;
    }
    /* info->scheme is filled before the rows are read (see the loader). */
    struct map_ctx c = { n, info->scheme, ref };
    enum cb_err rc = cb_store_reference_load(st, name, info, map_row, &c, err);
    if (rc)
        cb_engine_ref_release(ref);
    return rc;
}
