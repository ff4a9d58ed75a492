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
    if (!rc)
        rc = cb_store_names_load(st, &ce->names, &err);
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

void
cli_engine_release(struct cli_engine *ce)
{
    cb_engine_free(ce->e);
    cb_store_names_release(&ce->names);
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
    struct mask_ctx m = { cb_calloc((size_t)ce->names.nhosp + 1, 1), ce->names.nhosp, 0 };
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

int
cli_ref_load(struct cli_ref *r, struct cli_engine *ce, struct cb_store *st,
             const char *name, struct cb_buf *err)
{
    memset(r, 0, sizeof *r);
    enum cb_err rc = cb_store_reference_map(st, name, &ce->names, &r->info, &r->ref, err);
    if (rc)
        return rc == CB_ERR_NOT_FOUND ? 1 : -1;
    return 0;
}

void
cli_ref_release(struct cli_ref *r)
{
    cb_engine_ref_release(&r->ref);
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
