/*
 * report.h - the rows of an indicator report: an engine result's rows in a
 * period range, each evaluated for a list of indicators with its previous
 * period, the same period last year and, for hospitals, its rank among the
 * hospitals of the same level (三级/二级/基层). `carebase indicators` and
 * the server's /api/indicators format these rows; neither evaluates them.
 */
#ifndef CAREBASE_REPORT_H
#define CAREBASE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/engine.h"
#include "carebase/err.h"
#include "carebase/indicator.h"
#include "carebase/store.h"

struct cb_report_row {
    const struct cb_engine_row *row;     /* the unit and period (in the result) */
    const struct cb_indicator  *ind;
    struct cb_ind_value         v;       /* this period */
    struct cb_ind_value         prev;    /* the previous period, when has_prev */
    struct cb_ind_value         yoy;     /* the same period a year before, when has_yoy */
    bool                        has_prev, has_yoy;
    int                         rank, peers; /* 1 = best of peers; 0: not ranked */
};

struct cb_report_query {
    enum cb_period                     period;   /* of the result's rows */
    uint16_t                           from, to; /* fact days: rows of periods that meet them */
    const struct cb_indicator *const  *ind;      /* the indicators, in column order */
    int                                nind;
    uint32_t                           have;     /* catalogues/reference loaded (CB_NEED_*) */
    const uint8_t                     *depts;    /* keep rows of these dept ids; NULL: all */
    size_t                             ndepts;
    /* Rank each computable value (not CB_DIR_MONITOR) among the rows of the
       same indicator and period whose hospitals have the same level in
       names; NULL: no ranking (rows that are not by hospital). */
    const struct cb_store_names       *rank_by_level;
};

/*
 * The rows of res that q keeps, times q->nind indicators, in the result's
 * order, into *rows (the caller's: cb_free) and *n. Previous period and
 * last year come from res itself (its rows are sorted, as the engine
 * returns them). CB_ERR_NOMEM.
 */
CB_MUST_CHECK enum cb_err cb_report_rows(const struct cb_engine_result *res,
                                         const struct cb_report_query *q,
                                         struct cb_report_row **rows, size_t *n);

#endif
