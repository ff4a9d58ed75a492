/*
 * report.c - an indicator report's rows with their comparisons (report.h).
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/report.h"

/* The row of the same unit in period key, or NULL (rows are sorted). */
static const struct cb_engine_row *
find_row(const struct cb_engine_result *r, const struct cb_engine_row *like, int32_t key)
{
    size_t lo = 0, hi = r->nrows;
    struct cb_engine_row k = *like;

    k.period = key;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct cb_engine_row *m = &r->rows[mid];
        int c = m->hospital != k.hospital ? (m->hospital < k.hospital ? -1 : 1)
              : m->dept != k.dept ? (m->dept < k.dept ? -1 : 1)
              : m->doctor != k.doctor ? (m->doctor < k.doctor ? -1 : 1)
              : m->period != k.period ? (m->period < k.period ? -1 : 1) : 0;
        if (!c)
            return m;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int
cmp_double_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static const char *
level_of(const struct cb_store_names *nm, uint32_t hospital)
{
    return hospital < (uint32_t)nm->nhosp ? nm->hosp[hospital].level : "";
}

/* Ranks each computable value among the hospitals of the same level. */
static enum cb_err
rank_rows(struct cb_report_row *rows, size_t nout, const struct cb_store_names *nm)
{
    double *vals = cb_malloc((nout + 1) * sizeof *vals);

    if (!vals)
        return CB_ERR_NOMEM;
    for (size_t i = 0; i < nout; i++) {
        struct cb_report_row *o = &rows[i];
        const char *lvl;
        size_t nv = 0, rank = 0;
        double mine;

        if (!o->v.computable || o->ind->dir == CB_DIR_MONITOR)
            continue;
        lvl = level_of(nm, o->row->hospital);
        for (size_t j = 0; j < nout; j++) {
            const struct cb_report_row *p = &rows[j];
            if (p->ind != o->ind || p->row->period != o->row->period || !p->v.computable ||
                strcmp(lvl, level_of(nm, p->row->hospital)))
                continue;
            vals[nv++] = o->ind->dir == CB_DIR_UP ? p->v.value : -p->v.value;
        }
        qsort(vals, nv, sizeof *vals, cmp_double_desc);
        mine = o->ind->dir == CB_DIR_UP ? o->v.value : -o->v.value;
        while (rank < nv && vals[rank] > mine)
            rank++;
        o->rank = (int)rank + 1;
        o->peers = (int)nv;
    }
    cb_free(vals);
    return CB_OK;
}

enum cb_err
cb_report_rows(const struct cb_engine_result *res, const struct cb_report_query *q,
               struct cb_report_row **rows_out, size_t *n_out)
{
    struct cb_report_row *rows;
    size_t nout = 0;
    enum cb_err rc;

    *rows_out = NULL;
    *n_out = 0;
    if (!(rows = cb_calloc(res->nrows * (size_t)q->nind + 1, sizeof *rows)))
        return CB_ERR_NOMEM;
    for (size_t i = 0; i < res->nrows; i++) {
        const struct cb_engine_row *row = &res->rows[i], *pr, *yr;

        if (q->period != CB_PERIOD_ALL) {
            uint16_t pf, pl;
            cb_period_bounds(q->period, row->period, &pf, &pl);
            if (pl < q->from || pf > q->to)
                continue;
        }
        if (q->depts && !(row->dept < q->ndepts && q->depts[row->dept]))
            continue;
        pr = q->period != CB_PERIOD_ALL
            ? find_row(res, row, cb_period_prev(q->period, row->period)) : NULL;
        yr = q->period != CB_PERIOD_ALL && q->period != CB_PERIOD_YEAR
            ? find_row(res, row, cb_period_last_year(q->period, row->period)) : NULL;
        for (int k = 0; k < q->nind; k++) {
            struct cb_report_row *o = &rows[nout++];
            o->row = row;
            o->ind = q->ind[k];
            cb_indicator_eval(q->ind[k], &row->agg, res->ndrg_words, q->have, &o->v);
            if (pr) {
                o->has_prev = true;
                cb_indicator_eval(q->ind[k], &pr->agg, res->ndrg_words, q->have, &o->prev);
            }
            if (yr) {
                o->has_yoy = true;
                cb_indicator_eval(q->ind[k], &yr->agg, res->ndrg_words, q->have, &o->yoy);
            }
        }
    }
    if (q->rank_by_level && (rc = rank_rows(rows, nout, q->rank_by_level))) {
        cb_free(rows);
        return rc;
    }
    *rows_out = rows;
    *n_out = nout;
    return CB_OK;
}
