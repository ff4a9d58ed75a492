/*
 * reference.c - per-DRG statistics of a reference population: means,
 * relative weights with trimming, mortality risk grades (spec c.4 and
 * c.5.8-c.5.11).
 *
 * For n cases over G DRGs:
 *   1. one pass over the cases: per DRG the count, deaths and the exact sums
 *      of cost and LOS;
 *   2. a counting sort: every cost is copied into one int64 scratch array in
 *      which DRG g owns the slice [start_g, start_g + cases_g);
 *   3. per DRG: qsort the slice and find the kept costs. Every trimming
 *      method keeps an interval of values, so the kept costs are one run of
 *      the sorted slice, and their sum is the DRG's sum minus the dropped
 *      ends;
 *   4. the weights, then the risk grades.
 *
 * Sums of costs are exact (128-bit sums of int64 fen). A mean is that exact
 * sum rounded once to double and divided once, so it does not depend on the
 * order of the cases or on how the work is split.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/reference.h"

/* Exact sums: 2^64 cases of |cost| < 2^63 fit (GCC and Clang). */
__extension__ typedef __int128 i128;

#define MAX_DRGS 65536 /* the range of cb_ref_case.drg */

struct drg_acc {
    size_t  start;     /* first index of the DRG's slice of the scratch array */
    size_t  fill;      /* next free slot of the slice during the scatter */
    i128    cost_sum;  /* all cases */
    i128    kept_sum;  /* kept cases */
    i128    los_sum;   /* all cases */
};

/* An ADRG key for grouping the DRGs; a negative adrg is a group of its own. */
struct adrg_key {
    int adrg;
    int drg;
};

void
cb_ref_settings_default(struct cb_ref_settings *s)
{
    s->trim = CB_TRIM_IQR;
    s->iqr_k = 1.5;
    s->pct_low = 0.025;
    s->pct_high = 0.975;
    s->logsd_k = 3.0;
    s->min_kept = 5;
    s->min_risk_cases = 30;
    s->risk_ln = true;
    s->risk_sample_sd = true;
}

/*
 * numpy's _lerp: from the upper end when t >= 0.5, so that the result is
 * bit-for-bit numpy's and t near 1 lands on b. Needs -ffp-contract=off
 * (GCC's default in ISO C mode), or a fused multiply-add changes the last bit.
 */
static double
lerp(double a, double b, double t)
{
    double d = b - a;

    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* The type-7 position h = (n - 1) q split into index i and fraction t;
 * n >= 1 and 0 <= q <= 1. */
static void
q7_pos(size_t n, double q, size_t *i, double *t)
{
    double h = (double)(n - 1) * q;
    double f = floor(h);

    *i = (size_t)f;
    *t = h - f;
    if (*i >= n - 1) {
        *i = n - 1;
        *t = 0;
    }
}

double
cb_quantile7(const double *sorted, size_t n, double q)
{
    size_t i;
    double t;

    if (n == 0 || isnan(q))
        return NAN;
    if (q <= 0)
        return sorted[0];
    if (q >= 1)
        return sorted[n - 1];
    q7_pos(n, q, &i, &t);
    if (i == n - 1)
        return sorted[i];
    return lerp(sorted[i], sorted[i + 1], t);
}

/* cb_quantile7 over int64 values, converted exactly as (double)v[i]. */
static double
quantile7_i64(const int64_t *sorted, size_t n, double q)
{
    size_t i;
    double t;

    if (q <= 0)
        return (double)sorted[0];
    if (q >= 1)
        return (double)sorted[n - 1];
    q7_pos(n, q, &i, &t);
    if (i == n - 1)
        return (double)sorted[i];
    return lerp((double)sorted[i], (double)sorted[i + 1], t);
}

static int
cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int
cmp_adrg(const void *a, const void *b)
{
    const struct adrg_key *x = a;
    const struct adrg_key *y = b;

    if (x->adrg != y->adrg)
        return (x->adrg > y->adrg) - (x->adrg < y->adrg);
    return (x->drg > y->drg) - (x->drg < y->drg);
}

/*
 * ln(cost) mean +- k SD over the positive costs of sorted v[0..n-1]; costs
 * <= 0 have no logarithm and are never kept. Sample SD (n - 1). With fewer
 * than two positive costs or SD 0 every positive cost is kept.
 */
static void
logsd_range(const int64_t *v, size_t n, double k, size_t *lo, size_t *hi)
{
    long double sum = 0, ss = 0, mean;
    double sd, lo_x, hi_x;
    size_t a = 0, b = n, m, i;

    while (a < n && v[a] <= 0)
        a++;
    *lo = a;
    *hi = n;
    m = n - a;
    if (m < 2)
        return;
    for (i = a; i < n; i++)
        sum += log((double)v[i]);
    mean = sum / (long double)m;
    for (i = a; i < n; i++) {
        long double d = log((double)v[i]) - mean;
        ss += d * d;
    }
    sd = (double)sqrtl(ss / (long double)(m - 1));
    if (sd == 0)
        return;
    lo_x = (double)mean - k * sd;
    hi_x = (double)mean + k * sd;
    while (a < b && log((double)v[a]) < lo_x)
        a++;
    while (b > a && log((double)v[b - 1]) > hi_x)
        b--;
    *lo = a;
    *hi = b;
}

/* The kept costs of sorted v[0..n-1], n >= 1, are v[*lo .. *hi - 1]. */
static void
kept_range(const int64_t *v, size_t n, const struct cb_ref_settings *s,
           size_t *lo, size_t *hi)
{
    double lo_f = -INFINITY, hi_f = INFINITY;
    size_t a = 0, b = n;

    switch (s->trim) {
    case CB_TRIM_IQR: {
        double q1 = quantile7_i64(v, n, 0.25);
        double q3 = quantile7_i64(v, n, 0.75);

        lo_f = q1 - s->iqr_k * (q3 - q1);
        hi_f = q3 + s->iqr_k * (q3 - q1);
        break;
    }
    case CB_TRIM_PERCENTILE:
        lo_f = quantile7_i64(v, n, s->pct_low);
        hi_f = quantile7_i64(v, n, s->pct_high);
        break;
    case CB_TRIM_LOGSD:
        logsd_range(v, n, s->logsd_k, lo, hi);
        return;
    case CB_TRIM_NONE:
        break;
    }
    while (a < b && (double)v[a] < lo_f)
        a++;
    while (b > a && (double)v[b - 1] > hi_f)
        b--;
    *lo = a;
    *hi = b;
}

static void
result_init(struct cb_ref_result *r)
{
    r->ndrgs = 0;
    r->drg = NULL;
    r->pooled_mean = NAN;
    r->cases = 0;
    r->kept = 0;
    r->risk_mu = NAN;
    r->risk_sigma = NAN;
    r->graded = 0;
}

void
cb_ref_result_release(struct cb_ref_result *r)
{
    if (!r)
        return;
    cb_free(r->drg);
    result_init(r);
}

static bool
finite_nonneg(double x)
{
    return isfinite(x) && x >= 0;
}

static enum cb_err
check_args(const struct cb_ref_case *cases, size_t n, int ndrgs,
           const double *file_weight, const struct cb_ref_settings *s,
           struct cb_buf *err)
{
    int g;

    if (ndrgs < 0 || ndrgs > MAX_DRGS) {
        cb_errf(err, "reference: %d drgs is outside 0..%d", ndrgs, MAX_DRGS);
        return CB_ERR_USAGE;
    }
    if (n > 0 && !cases) {
        cb_errf(err, "reference: %zu cases but no case array", n);
        return CB_ERR_USAGE;
    }
    if ((unsigned)s->trim > (unsigned)CB_TRIM_NONE) {
        cb_errf(err, "reference: unknown trimming method %d", (int)s->trim);
        return CB_ERR_USAGE;
    }
    if (!finite_nonneg(s->iqr_k) || !finite_nonneg(s->logsd_k)) {
        cb_errf(err, "reference: trimming factors must be finite and >= 0");
        return CB_ERR_USAGE;
    }
    if (!(s->pct_low >= 0 && s->pct_low <= s->pct_high && s->pct_high <= 1)) {
        cb_errf(err, "reference: percentiles must satisfy "
                "0 <= low <= high <= 1");
        return CB_ERR_USAGE;
    }
    if (s->min_kept < 1 || s->min_risk_cases < 1) {
        cb_errf(err, "reference: minimum case counts must be >= 1");
        return CB_ERR_USAGE;
    }
    for (g = 0; file_weight && g < ndrgs; g++) {
        if (!isnan(file_weight[g]) && !finite_nonneg(file_weight[g])) {
            cb_errf(err, "reference: file weight of drg %d is not a finite "
                    "number >= 0", g);
            return CB_ERR_USAGE;
        }
    }
    return CB_OK;
}

/* Step 1: counts and exact sums per DRG; rejects a DRG index >= ndrgs. */
static enum cb_err
tally(const struct cb_ref_case *cases, size_t n, int ndrgs,
      struct drg_acc *acc, struct cb_ref_drg *d, struct cb_buf *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct cb_ref_case *c = &cases[i];

        if (c->drg >= ndrgs) {
            cb_errf(err, "reference case %zu: drg index %u is outside 0..%d",
                    i, (unsigned)c->drg, ndrgs - 1);
            return CB_ERR_USAGE;
        }
        d[c->drg].cases++;
        d[c->drg].deaths += c->death != 0;
        acc[c->drg].cost_sum += c->cost;
        acc[c->drg].los_sum += c->los;
    }
    return CB_OK;
}

/* Steps 2 and 3: scatter the costs by DRG, sort each slice, trim. */
static void
trim_all(const struct cb_ref_case *cases, size_t n, int ndrgs,
         const struct cb_ref_settings *s, int64_t *cost,
         struct drg_acc *acc, struct cb_ref_result *out)
{
    size_t i, start = 0;
    i128 pooled = 0;
    int g;

    for (g = 0; g < ndrgs; g++) {
        acc[g].start = acc[g].fill = start;
        start += (size_t)out->drg[g].cases;
    }
    for (i = 0; i < n; i++)
        cost[acc[cases[i].drg].fill++] = cases[i].cost;

    for (g = 0; g < ndrgs; g++) {
        struct cb_ref_drg *d = &out->drg[g];
        int64_t *v = cost + acc[g].start;
        size_t m = (size_t)d->cases, lo, hi;
        i128 kept_sum;

        if (m == 0)
            continue;
        qsort(v, m, sizeof(*v), cmp_i64);
        kept_range(v, m, s, &lo, &hi);
        kept_sum = acc[g].cost_sum;
        for (i = 0; i < lo; i++)
            kept_sum -= v[i];
        for (i = hi; i < m; i++)
            kept_sum -= v[i];
        acc[g].kept_sum = kept_sum;
        d->kept = (int64_t)(hi - lo);
        d->mean_cost = (double)acc[g].cost_sum / (double)d->cases;
        d->mean_los = (double)acc[g].los_sum / (double)d->cases;
        d->mortality = (double)d->deaths / (double)d->cases;
        if (d->kept > 0)
            d->kept_mean_cost = (double)kept_sum / (double)d->kept;
        out->cases += d->cases;
        out->kept += d->kept;
        pooled += kept_sum;
    }
    if (out->kept > 0)
        out->pooled_mean = (double)pooled / (double)out->kept;
}

/*
 * Step 4a: the weights. adrg_mean[g] receives the mean kept cost of g's
 * ADRG (NAN when the ADRG kept nothing); keys is scratch of ndrgs entries.
 */
static void
weigh(int ndrgs, const int *drg_adrg, const double *file_weight,
      const struct cb_ref_settings *s, const struct drg_acc *acc,
      struct adrg_key *keys, double *adrg_mean, struct cb_ref_result *out)
{
    double ebar = out->pooled_mean;
    int g, i, j, k;

    for (g = 0; g < ndrgs; g++) {
        keys[g].adrg = drg_adrg ? drg_adrg[g] : -1;
        keys[g].drg = g;
    }
    qsort(keys, (size_t)ndrgs, sizeof(*keys), cmp_adrg);
    for (i = 0; i < ndrgs; i = j) {
        i128 sum = 0;
        int64_t kept = 0;

        j = i + 1;
        if (keys[i].adrg >= 0)
            while (j < ndrgs && keys[j].adrg == keys[i].adrg)
                j++;
        for (k = i; k < j; k++) {
            sum += acc[keys[k].drg].kept_sum;
            kept += out->drg[keys[k].drg].kept;
        }
        for (k = i; k < j; k++)
            adrg_mean[keys[k].drg] = kept > 0 ? (double)sum / (double)kept
                                              : NAN;
    }

    for (g = 0; g < ndrgs; g++) {
        struct cb_ref_drg *d = &out->drg[g];

        d->weight = NAN;
        d->source = CB_RW_NONE;
        if (file_weight && !isnan(file_weight[g])) {
            d->weight = file_weight[g];
            d->source = CB_RW_FILE;
        } else if (d->cases == 0) {
            /* no reference cases: no weight */
        } else if (d->kept >= s->min_kept) {
            d->weight = d->kept_mean_cost / ebar;
            d->source = CB_RW_COMPUTED;
        } else if (!isnan(adrg_mean[g])) {
            d->weight = adrg_mean[g] / ebar;
            d->source = CB_RW_ADRG;
        }
    }
}

/* x_g of a DRG with deaths > 0. */
static double
risk_x(const struct cb_ref_drg *d, const struct cb_ref_settings *s)
{
    return s->risk_ln ? log(d->mortality) : d->mortality;
}

/* Step 4b: the mortality risk grades. */
static void
grade(int ndrgs, const struct cb_ref_settings *s, struct cb_ref_result *out)
{
    long double sum = 0, ss = 0, mu;
    double mu_d, sigma;
    int64_t k = 0;
    int g;

    for (g = 0; g < ndrgs; g++) {
        struct cb_ref_drg *d = &out->drg[g];

        d->risk = -1;
        d->risk_z = NAN;
        if (d->cases < s->min_risk_cases)
            continue;
        if (d->deaths == 0) {
            d->risk = 0;
            out->graded++;
            continue;
        }
        sum += risk_x(d, s);
        k++;
    }
    if (k < 2)
        return;        /* sigma undefined: DRGs with deaths stay ungraded */
    mu = sum / (long double)k;
    for (g = 0; g < ndrgs; g++) {
        const struct cb_ref_drg *d = &out->drg[g];
        long double dev;

        if (d->cases < s->min_risk_cases || d->deaths == 0)
            continue;
        dev = risk_x(d, s) - mu;
        ss += dev * dev;
    }
    /* Grades use the stored, rounded mu and sigma, so that they can be
     * reproduced from the stored reference. */
    mu_d = (double)mu;
    sigma = (double)sqrtl(ss / (long double)(s->risk_sample_sd ? k - 1 : k));
    out->risk_mu = mu_d;
    out->risk_sigma = sigma;
    if (sigma == 0)
        return;        /* all equal: z undefined, ungraded */
    for (g = 0; g < ndrgs; g++) {
        struct cb_ref_drg *d = &out->drg[g];
        double z;

        if (d->cases < s->min_risk_cases || d->deaths == 0)
            continue;
        z = (risk_x(d, s) - mu_d) / sigma;
        d->risk_z = z;
        d->risk = z < -1 ? 1 : z < 0 ? 2 : z < 1 ? 3 : 4;
        out->graded++;
    }
}

CB_MUST_CHECK enum cb_err
cb_ref_compute(const struct cb_ref_case *cases, size_t n, int ndrgs,
               const int *drg_adrg, const double *file_weight,
               const struct cb_ref_settings *set, struct cb_ref_result *out,
               struct cb_buf *err)
{
    struct cb_ref_settings defaults;
    struct drg_acc *acc = NULL;
    struct adrg_key *keys = NULL;
    double *adrg_mean = NULL;
    int64_t *cost = NULL;
    enum cb_err rc;
    int g;

    assert(out);
    result_init(out);
    if (!set) {
        cb_ref_settings_default(&defaults);
        set = &defaults;
    }
    rc = check_args(cases, n, ndrgs, file_weight, set, err);
    if (rc != CB_OK)
        goto out;

    rc = CB_ERR_NOMEM;
    out->drg = cb_calloc((size_t)ndrgs, sizeof(*out->drg));
    acc = cb_calloc((size_t)ndrgs, sizeof(*acc));
    keys = cb_reallocarray(NULL, (size_t)ndrgs, sizeof(*keys));
    adrg_mean = cb_reallocarray(NULL, (size_t)ndrgs, sizeof(*adrg_mean));
    cost = cb_reallocarray(NULL, n, sizeof(*cost));
    if (!out->drg || !acc || !keys || !adrg_mean || !cost) {
        cb_errf(err, "reference: out of memory for %zu cases", n);
        goto out;
    }
    out->ndrgs = ndrgs;
    for (g = 0; g < ndrgs; g++) {
        struct cb_ref_drg *d = &out->drg[g];

        d->mean_cost = d->mean_los = d->kept_mean_cost = NAN;
        d->mortality = NAN;
    }

    rc = tally(cases, n, ndrgs, acc, out->drg, err);
    if (rc != CB_OK)
        goto out;
    trim_all(cases, n, ndrgs, set, cost, acc, out);
    weigh(ndrgs, drg_adrg, file_weight, set, acc, keys, adrg_mean, out);
    grade(ndrgs, set, out);
    rc = CB_OK;

out:
    cb_free(cost);
    cb_free(adrg_mean);
    cb_free(keys);
    cb_free(acc);
    if (rc != CB_OK)
        cb_ref_result_release(out);
    return rc;
}
