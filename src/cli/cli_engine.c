/*
 * cli_engine.c - loading the engine and its names for the CLI (see
 * cli_engine.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "cli_engine.h"

static double
now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Grows a by-id array of strings to hold id. */
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

struct dim_ctx {
    struct cli_engine *ce;
    int which;
};

static enum cb_err
dim_row(void *ctx, int64_t id, const char *scope, const char *code)
{
    struct dim_ctx *d = ctx;
    struct cli_engine *ce = d->ce;
    int rc;
    if (d->which == CB_DIM_DEPT)
        rc = put_name(&ce->dept, &ce->ndept, id, code);
    else if (d->which == CB_DIM_DOCTOR)
        rc = put_name(&ce->doctor, &ce->ndoctor, id, code);
    else {
        int n = ce->ndrg;
        rc = put_name(&ce->drg_code, &ce->ndrg, id, code);
        if (!rc) {
            int m = n;
            rc = put_name(&ce->drg_scheme, &m, id, scope);
        }
    }
    return rc ? CB_ERR_NOMEM : CB_OK;
}

static enum cb_err
hosp_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct cli_engine *ce = ctx;
    (void)names;
    if (ncols < 4 || !v[0])
        return CB_OK;
    long id = strtol(v[0], NULL, 10);
    if (id < 0 || id > 65535)
        return CB_OK;
    if (id >= ce->nhosp) {
        struct cli_hosp *p = cb_reallocarray(ce->hosp, (size_t)id + 1, sizeof *p);
        if (!p)
            return CB_ERR_NOMEM;
        memset(p + ce->nhosp, 0, (size_t)(id + 1 - ce->nhosp) * sizeof *p);
        ce->hosp = p;
        ce->nhosp = (int)id + 1;
    }
    struct cli_hosp *h = &ce->hosp[id];
    snprintf(h->zzjgdm, sizeof h->zzjgdm, "%s", v[1] ? v[1] : "");
    snprintf(h->name, sizeof h->name, "%s", v[2] ? v[2] : "");
    snprintf(h->level, sizeof h->level, "%s", v[3] ? v[3] : "");
    return CB_OK;
}

int
cli_engine_load(struct cli_engine *ce, struct cb_store *st, const char *cmd)
{
    struct cb_buf err = CB_BUF_INIT;
    memset(ce, 0, sizeof *ce);
    double t0 = now_s();
    int64_t gen;
    enum cb_err rc = cb_engine_new(&ce->e);
    if (!rc)
        rc = cb_store_facts_load(st, ce->e, 0, &gen, &err);
    for (int w = 0; !rc && w < 3; w++) {
        struct dim_ctx d = { ce, w };
        rc = cb_store_dim_list(st, w, dim_row, &d, &err);
    }
    if (!rc)
        rc = cb_store_query(st, "SELECT id, zzjgdm, name, level FROM hospital",
                            hosp_row, ce, &err);
    ce->load_s = now_s() - t0;
    if (rc) {
        cli_error(cmd, "%s", err.len ? cb_buf_cstr(&err) : "out of memory");
        cb_buf_release(&err);
        cli_engine_release(ce);
        return -1;
    }
    cb_buf_release(&err);
    return 0;
}

static void
free_names(char **a, int n)
{
    for (int i = 0; i < n; i++)
        cb_free(a[i]);
    cb_free(a);
}

void
cli_engine_release(struct cli_engine *ce)
{
    cb_engine_free(ce->e);
    cb_free(ce->hosp);
    free_names(ce->dept, ce->ndept);
    free_names(ce->doctor, ce->ndoctor);
    free_names(ce->drg_code, ce->ndrg);
    free_names(ce->drg_scheme, ce->ndrg);
    memset(ce, 0, sizeof *ce);
}

/* SQL string literal (single quotes doubled) into buf. */
static void
sql_quote(char *buf, size_t n, const char *s)
{
    size_t k = 0;
    if (k + 1 < n)
        buf[k++] = '\'';
    for (; *s && k + 3 < n; s++) {
        if (*s == '\'')
            buf[k++] = '\'';
        buf[k++] = *s;
    }
    buf[k++] = '\'';
    buf[k] = '\0';
}

struct mask_ctx {
    uint8_t *mask;
    int      n;
    int      hits;
};

static enum cb_err
mask_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct mask_ctx *m = ctx;
    (void)names;
    if (ncols < 1 || !v[0])
        return CB_OK;
    long id = strtol(v[0], NULL, 10);
    if (id >= 0 && id < m->n) {
        m->mask[id] = 1;
        m->hits++;
    }
    return CB_OK;
}

int
cli_hospital_mask(struct cli_engine *ce, struct cb_store *st, const char *zzjgdm,
                  const char *group, uint8_t **mask, const char *cmd)
{
    *mask = NULL;
    if (!zzjgdm && !group)
        return 0;
    struct mask_ctx m = { cb_calloc((size_t)ce->nhosp + 1, 1), ce->nhosp, 0 };
    if (!m.mask)
        return -1;
    char q[512], sql[1280];
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc = CB_OK;
    if (zzjgdm) {
        sql_quote(q, sizeof q, zzjgdm);
        snprintf(sql, sizeof sql, "SELECT id FROM hospital WHERE zzjgdm = %s", q);
        rc = cb_store_query(st, sql, mask_row, &m, &err);
    }
    if (!rc && group) {
        sql_quote(q, sizeof q, group);
        snprintf(sql, sizeof sql,
                 "SELECT m.hospital_id FROM org_member m JOIN org_group g"
                 " ON g.id = m.group_id WHERE g.code = %s OR g.name = %s", q, q);
        rc = cb_store_query(st, sql, mask_row, &m, &err);
    }
    if (rc || !m.hits) {
        if (rc)
            cli_error(cmd, "%s", cb_buf_cstr(&err));
        else
            cli_error(cmd, "no hospital matches %s%s%s", zzjgdm ? zzjgdm : "",
                      zzjgdm && group ? " / " : "", group ? group : "");
        cb_free(m.mask);
        cb_buf_release(&err);
        return -1;
    }
    cb_buf_release(&err);
    *mask = m.mask;
    return 0;
}

struct ref_ctx {
    struct cli_engine *ce;
    struct cli_ref    *r;
};

static enum cb_err
ref_row(void *ctx, const char *drg, const struct cb_ref_drg *d)
{
    struct ref_ctx *c = ctx;
    for (int i = 0; i < c->ce->ndrg; i++)
        if (c->ce->drg_code[i] && !strcmp(c->ce->drg_code[i], drg) &&
            !strcmp(c->ce->drg_scheme[i], c->r->info.scheme)) {
            c->r->ref.weight[i] = d->weight;
            c->r->ref.mean_cost[i] = d->cases ? d->mean_cost : NAN;
            c->r->ref.mean_los[i] = d->mean_los;
            c->r->ref.risk[i] = d->risk;
        }
    return CB_OK;
}

int
cli_ref_load(struct cli_ref *r, struct cli_engine *ce, struct cb_store *st,
             const char *name, struct cb_buf *err)
{
    memset(r, 0, sizeof *r);
    int n = ce->ndrg > 0 ? ce->ndrg : 1;
    r->ref.ndrg = n;
    r->ref.weight = cb_malloc((size_t)n * sizeof(double));
    r->ref.mean_cost = cb_malloc((size_t)n * sizeof(double));
    r->ref.mean_los = cb_malloc((size_t)n * sizeof(double));
    r->ref.risk = cb_malloc((size_t)n);
    if (!r->ref.weight || !r->ref.mean_cost || !r->ref.mean_los || !r->ref.risk) {
        cli_ref_release(r);
        cb_errf(err, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        r->ref.weight[i] = r->ref.mean_cost[i] = r->ref.mean_los[i] = NAN;
        r->ref.risk[i] = -1;
    }
    struct ref_ctx c = { ce, r };
    enum cb_err rc = cb_store_reference_load(st, name, &r->info, ref_row, &c, err);
    if (rc) {
        cli_ref_release(r);
        return rc == CB_ERR_NOT_FOUND ? 1 : -1;
    }
    return 0;
}

void
cli_ref_release(struct cli_ref *r)
{
    cb_free(r->ref.weight);
    cb_free(r->ref.mean_cost);
    cb_free(r->ref.mean_los);
    cb_free(r->ref.risk);
    memset(r, 0, sizeof *r);
}

static uint16_t
fact_day(int y, int m, int d)
{
    int64_t x = cb_days_from_civil(y, m, d) - CB_FACT_EPOCH_DAY;
    return x < 0 ? 0 : x > UINT16_MAX ? UINT16_MAX : (uint16_t)x;
}

int
cli_parse_day(const char *s, uint16_t *day)
{
    int y, m, d;
    char tail;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 2000 || y > 2170 ||
        m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    *day = fact_day(y, m, d);
    return 0;
}

int
cli_parse_period(const char *s, enum cb_period *kind, uint16_t *from, uint16_t *to)
{
    int y, q, m;
    char tail;
    if (sscanf(s, "%4dQ%1d%c", &y, &q, &tail) == 2 && q >= 1 && q <= 4 && y >= 2000) {
        *kind = CB_PERIOD_QUARTER;
        cb_period_bounds(*kind, y * 10 + q, from, to);
        return 0;
    }
    if (sscanf(s, "%4d-%2d%c", &y, &m, &tail) == 2 && m >= 1 && m <= 12 && y >= 2000) {
        *kind = CB_PERIOD_MONTH;
        cb_period_bounds(*kind, y * 100 + m, from, to);
        return 0;
    }
    if (sscanf(s, "%4d%c", &y, &tail) == 1 && y >= 2000 && y <= 2170) {
        *kind = CB_PERIOD_YEAR;
        cb_period_bounds(*kind, y, from, to);
        return 0;
    }
    return -1;
}

void
cli_period_text(enum cb_period p, int32_t key, char *buf, size_t n)
{
    switch (p) {
    case CB_PERIOD_MONTH:   snprintf(buf, n, "%d-%02d", key / 100, key % 100); break;
    case CB_PERIOD_QUARTER: snprintf(buf, n, "%dQ%d", key / 10, key % 10); break;
    case CB_PERIOD_YEAR:    snprintf(buf, n, "%d", key); break;
    default:                snprintf(buf, n, "all"); break;
    }
}
