/*
 * reference.h - a DRG reference population and what is computed from it
 * (spec c.4, c.5.8-c.5.11): per DRG the case count, deaths, mean cost
 * Ē_g and mean length of stay L̄_g, the relative weight RW_g (computed with
 * trimming, or supplied by a weights file), and the mortality risk grade.
 *
 * Pure computation over arrays of reference cases; the store persists the
 * result so that hospital results do not move when one hospital adds data.
 * No global state: calls on different results may run concurrently.
 */
#ifndef CAREBASE_REFERENCE_H
#define CAREBASE_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

/* One grouped reference case (status SUCCESS). */
struct cb_ref_case {  /* 16 bytes; fill by member name */
    int64_t  cost;     /* ZFY in fen */
    int32_t  los;      /* SJZYTS, days */
    uint16_t drg;      /* index into the DRG code table given to cb_ref_compute */
    uint8_t  death;    /* LYFS = 5 */
};

/*
 * Outlier trimming within each DRG (spec c.4 step 2). Every method keeps the
 * costs inside an interval, bounds included:
 *   IQR         [Q1 - k*IQR, Q3 + k*IQR], Q1, Q3 by cb_quantile7;
 *   PERCENTILE  [P(pct_low), P(pct_high)], both by cb_quantile7, as with
 *               numpy.percentile: a DRG with distinct costs always loses its
 *               minimum and maximum, and one with 2 distinct costs keeps
 *               none (it then takes its ADRG's weight);
 *   LOGSD       ln(cost) within mean +- k SD of the ln of the DRG's positive
 *               costs, sample SD (n - 1). Costs <= 0 are never kept. With
 *               fewer than 2 positive costs, or SD 0, all positive costs
 *               are kept;
 *   NONE        everything.
 */
enum cb_ref_trim { CB_TRIM_IQR = 0, CB_TRIM_PERCENTILE, CB_TRIM_LOGSD, CB_TRIM_NONE };

struct cb_ref_settings {
    enum cb_ref_trim trim;      /* default IQR */
    double   iqr_k;             /* 1.5: fences [Q1 - k*IQR, Q3 + k*IQR], inclusive */
    double   pct_low, pct_high; /* percentile trimming, e.g. 0.025 / 0.975 */
    double   logsd_k;           /* ln(cost) mean +- k SD, k = 3 */
    int      min_kept;          /* 5 (>= 1): fewer kept -> the ADRG's weight */
    int      min_risk_cases;    /* 30 (>= 1): fewer cases -> ungraded */
    bool     risk_ln;           /* true: grade on ln(m_g); false: on m_g */
    bool     risk_sample_sd;    /* true: SD with n - 1; false: with n */
};

/* The defaults of spec c.5.9-c.5.10. */
void cb_ref_settings_default(struct cb_ref_settings *s);

enum cb_rw_source {
    CB_RW_NONE = 0,      /* no weight (NAN), the DRG is skipped: no reference
                          * cases, or no kept cases in the DRG and its ADRG */
    CB_RW_COMPUTED,      /* ē_g / ē */
    CB_RW_ADRG,          /* fewer than min_kept kept cases: the ADRG's weight */
    CB_RW_FILE           /* supplied by a weights file */
};

struct cb_ref_drg {
    int64_t  cases;          /* reference cases in the DRG */
    int64_t  kept;           /* after trimming */
    int64_t  deaths;
    double   mean_cost;      /* Ē_g over all cases (fen), for CEI; NAN if none */
    double   mean_los;       /* L̄_g over all cases, for TEI; NAN if none */
    double   kept_mean_cost; /* ē_g over kept cases (fen); NAN if none */
    double   weight;         /* RW_g; NAN when source = CB_RW_NONE */
    enum cb_rw_source source;
    double   mortality;      /* deaths / cases; NAN if no cases */
    int8_t   risk;           /* 0..4; -1 = ungraded (fewer than min_risk_cases,
                              * or sigma undefined or 0, see cb_ref_compute) */
    double   risk_z;         /* (x_g - risk_mu) / risk_sigma for grades 1..4;
                              * NAN otherwise */
};

struct cb_ref_result {
    int      ndrgs;
    struct cb_ref_drg *drg;  /* ndrgs entries, owned */
    double   pooled_mean;    /* ē: mean of all kept costs (fen); NAN if none */
    int64_t  cases, kept;    /* over all DRGs */
    double   risk_mu, risk_sigma;  /* mean and SD of x_g = ln(m_g) (m_g without
                              * risk_ln) over the DRGs with >= min_risk_cases
                              * cases and m_g > 0; both NAN when fewer than
                              * two such DRGs */
    int      graded;         /* DRGs with a grade 0..4 */
};

/*
 * Computes the reference from n cases over ndrgs DRGs (0..65536, the range
 * of cb_ref_case.drg). set NULL means cb_ref_settings_default().
 *
 * Weights, in order of precedence, per DRG g:
 *   CB_RW_FILE      file_weight[g] when the array is given and the value is
 *                   not NAN (even for a DRG without reference cases);
 *   CB_RW_NONE      no reference cases;
 *   CB_RW_COMPUTED  at least min_kept kept cases: ē_g / ē;
 *   CB_RW_ADRG      fewer kept cases (spec c.5.9): the mean of the kept costs
 *                   of all DRGs of g's ADRG (g included, each trimmed within
 *                   its own DRG), divided by ē; CB_RW_NONE if they kept none.
 * drg_adrg[g] is the ADRG index of DRG g (DRGs of one ADRG share the index).
 * drg_adrg may be NULL, and a negative index means "no ADRG": such a DRG is
 * an ADRG of its own, so its ADRG weight is ē_g / ē, still flagged CB_RW_ADRG.
 * ē pools the kept costs of every DRG, file-weighted ones included. Nothing
 * is rescaled or rounded.
 *
 * Risk grades: a DRG with fewer than min_risk_cases cases is ungraded (-1);
 * one with no deaths is grade 0. For the others, z_g = (x_g - mu) / sigma
 * and grade 1: z < -1, 2: -1 <= z < 0, 3: 0 <= z < 1, 4: z >= 1. When fewer
 * than two DRGs have deaths (sigma undefined) or sigma = 0 (all rates
 * equal), z is undefined and those DRGs stay ungraded (-1); grade 0 still
 * applies.
 *
 * Means are exact 128-bit integer sums rounded once to double and divided
 * once: the results do not depend on the order of the cases.
 *
 * Borrows every input and never reorders cases. On CB_OK *out owns its
 * drg array (cb_ref_result_release). Errors, with out left released:
 *   CB_ERR_USAGE   ndrgs out of range, a case's drg >= ndrgs, a setting out
 *                  of range, a file weight that is not NAN, finite and >= 0;
 *   CB_ERR_NOMEM   the scratch space (8 bytes per case) or the result.
 * A reason is appended to err (which may be NULL).
 */
CB_MUST_CHECK enum cb_err cb_ref_compute(const struct cb_ref_case *cases, size_t n,
                                         int ndrgs, const int *drg_adrg,
                                         const double *file_weight,
                                         const struct cb_ref_settings *set,
                                         struct cb_ref_result *out,
                                         struct cb_buf *err);
void cb_ref_result_release(struct cb_ref_result *r);

/*
 * Quantile by linear interpolation between order statistics (Hyndman-Fan
 * type 7, numpy's default, Excel QUARTILE.INC) of sorted v[0..n-1], with
 * h = (n - 1) q and numpy's interpolation formula, so the result is numpy's
 * to the last bit. n = 0 or q NAN: NAN. n = 1: v[0]. q is clamped to
 * [0, 1]. The values must not be NAN.
 */
double cb_quantile7(const double *sorted, size_t n, double q);

#endif
