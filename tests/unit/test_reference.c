/*
 * test_reference.c - the DRG reference (spec c.4, c.5.8-c.5.11): type-7
 * quantiles, trimming, relative weights, risk grades. Every expected number
 * is worked out by hand in the comment next to it.
 *
 * Notation: x0..x(n-1) are the sorted costs; a type-7 quantile is at
 * h = (n - 1) q and interpolates x[floor h] .. x[floor h + 1].
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/reference.h"
#include "testutil.h"

/* Doubles: exact (or both NAN), and within a tolerance; both print values. */
#define assert_dbl_exact(a, b) dbl_exact((a), (b), #a, __FILE__, __LINE__)
#define assert_dbl_near(a, b, tol) \
    dbl_near((a), (b), (tol), #a, __FILE__, __LINE__)

static void
dbl_exact(double a, double b, const char *expr, const char *file, int line)
{
    if ((isnan(a) && isnan(b)) || a == b)
        return;
    print_error("%s = %.17g, want exactly %.17g\n", expr, a, b);
    _fail(file, line);
}

static void
dbl_near(double a, double b, double tol, const char *expr, const char *file,
         int line)
{
    if (fabs(a - b) <= tol)
        return;
    print_error("%s = %.17g, want %.17g +- %g\n", expr, a, b, tol);
    _fail(file, line);
}

/* A small case list built in place. */
#define SET_MAX 1024

struct caseset {
    struct cb_ref_case c[SET_MAX];
    size_t n;
};

static void
add(struct caseset *s, int drg, int64_t cost, int32_t los, int death)
{
    struct cb_ref_case *c;

    assert_true(s->n < SET_MAX);
    c = &s->c[s->n++];
    memset(c, 0, sizeof(*c));
    c->drg = (uint16_t)drg;
    c->cost = cost;
    c->los = los;
    c->death = (uint8_t)death;
}

/* count cases of DRG drg with `deaths` of them deaths; cost 100, LOS 5. */
static void
add_mortality(struct caseset *s, int drg, int count, int deaths)
{
    int i;

    for (i = 0; i < count; i++)
        add(s, drg, 100, 5, i < deaths);
}

static void
compute_ok(const struct caseset *s, int ndrgs, const int *adrg,
           const double *fw, const struct cb_ref_settings *set,
           struct cb_ref_result *r)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc = cb_ref_compute(s->c, s->n, ndrgs, adrg, fw, set, r, &err);

    if (rc != CB_OK)
        fail_msg("cb_ref_compute: %s: %s", cb_strerror(rc), cb_buf_cstr(&err));
    assert_int_equal(err.len, 0);
    assert_int_equal(r->ndrgs, ndrgs);
    cb_buf_release(&err);
}

/* ---- quantiles ---------------------------------------------------------- */

static void
test_quantile7(void **state)
{
    static const double v4[] = { 1, 2, 3, 4 };
    static const double v1[] = { 7 };
    static const double v2[] = { 10, 20 };
    static const double v2b[] = { 1, 10 };
    static const double v5[] = { 100, 102, 104, 106, 1000 };

    (void)state;
    /* [1,2,3,4]: q .25: h = 3 * .25 = 0.75 -> 1 + .75 * (2 - 1) = 1.75 */
    assert_dbl_exact(cb_quantile7(v4, 4, 0.25), 1.75);
    /* q .75: h = 2.25 -> 3 + .25 * (4 - 3) = 3.25 */
    assert_dbl_exact(cb_quantile7(v4, 4, 0.75), 3.25);
    /* q .5: h = 1.5 -> 2 + .5 = 2.5 (numpy.median too) */
    assert_dbl_exact(cb_quantile7(v4, 4, 0.5), 2.5);
    /* q 0 and 1: the extremes; q outside [0, 1] is clamped */
    assert_dbl_exact(cb_quantile7(v4, 4, 0), 1);
    assert_dbl_exact(cb_quantile7(v4, 4, 1), 4);
    assert_dbl_exact(cb_quantile7(v4, 4, -0.5), 1);
    assert_dbl_exact(cb_quantile7(v4, 4, 1.5), 4);
    /* q = 1/3: h = 1 exactly -> x1 = 2 */
    assert_dbl_exact(cb_quantile7(v4, 4, 1.0 / 3.0), 2);
    /* n = 1: the value for every q */
    assert_dbl_exact(cb_quantile7(v1, 1, 0), 7);
    assert_dbl_exact(cb_quantile7(v1, 1, 0.25), 7);
    assert_dbl_exact(cb_quantile7(v1, 1, 1), 7);
    /* n = 2 [10,20]: h = q; q .25 -> 12.5, q .75 -> 17.5, q .5 -> 15 */
    assert_dbl_exact(cb_quantile7(v2, 2, 0.25), 12.5);
    assert_dbl_exact(cb_quantile7(v2, 2, 0.75), 17.5);
    assert_dbl_exact(cb_quantile7(v2, 2, 0.5), 15);
    /*
     * numpy interpolates from the upper end when t >= 0.5: [1, 10], q .6:
     * h = t = 0.6 -> 10 - 9 * (1 - 0.6) = 10 - 3.6 = 6.4 exactly in double,
     * where 1 + 9 * 0.6 would give 6.3999999999999995.
     */
    assert_dbl_exact(cb_quantile7(v2b, 2, 0.6), 6.4);
    /* n = 5: h = 4q; q .25 -> h = 1 -> 102; q .75 -> h = 3 -> 106 */
    assert_dbl_exact(cb_quantile7(v5, 5, 0.25), 102);
    assert_dbl_exact(cb_quantile7(v5, 5, 0.75), 106);
    /* q .9: h = 3.6 -> 106 + .6 * 894 = 642.4 */
    assert_dbl_near(cb_quantile7(v5, 5, 0.9), 642.4, 1e-12);
    /* n = 0 and q NAN: NAN */
    assert_true(isnan(cb_quantile7(v4, 0, 0.5)));
    assert_true(isnan(cb_quantile7(NULL, 0, 0.5)));
    assert_true(isnan(cb_quantile7(v4, 4, NAN)));
}

/* ---- trimming ----------------------------------------------------------- */

static void
test_iqr_trimming(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_result r;

    (void)state;
    /*
     * DRG 0: {100, 102, 104, 106, 1000}, n = 5, h = 4q:
     *   Q1: h = 1 -> 102; Q3: h = 3 -> 106; IQR = 4;
     *   fences [102 - 1.5 * 4, 106 + 1.5 * 4] = [96, 112]:
     *   1000 > 112 is dropped; kept {100..106}: 4 cases, mean 412 / 4 = 103.
     */
    add(&s, 0, 1000, 1, 0);
    add(&s, 0, 104, 1, 0);
    add(&s, 0, 100, 1, 0);
    add(&s, 0, 106, 1, 0);
    add(&s, 0, 102, 1, 0);
    /*
     * DRG 1: {96, 102, 104, 106, 112}: the same Q1, Q3 and fences [96, 112];
     * 96 and 112 lie exactly on the fences and are kept (inclusive): 5 kept,
     * mean 520 / 5 = 104.
     */
    add(&s, 1, 112, 1, 0);
    add(&s, 1, 96, 1, 0);
    add(&s, 1, 104, 1, 0);
    add(&s, 1, 102, 1, 0);
    add(&s, 1, 106, 1, 0);
    /* DRG 2: {95, 102, 104, 106, 113}: fences [96, 112] again; 95 and 113 are
     * one fen outside and dropped: 3 kept, mean 312 / 3 = 104. */
    add(&s, 2, 95, 1, 0);
    add(&s, 2, 113, 1, 0);
    add(&s, 2, 102, 1, 0);
    add(&s, 2, 104, 1, 0);
    add(&s, 2, 106, 1, 0);
    /* DRG 3: {500 x 5}: Q1 = Q3 = 500, IQR 0, fences [500, 500]: all kept. */
    add(&s, 3, 500, 1, 0);
    add(&s, 3, 500, 1, 0);
    add(&s, 3, 500, 1, 0);
    add(&s, 3, 500, 1, 0);
    add(&s, 3, 500, 1, 0);

    compute_ok(&s, 4, NULL, NULL, NULL, &r);
    assert_int_equal(r.drg[0].cases, 5);
    assert_int_equal(r.drg[0].kept, 4);
    assert_dbl_exact(r.drg[0].kept_mean_cost, 103);
    assert_int_equal(r.drg[1].kept, 5);
    assert_dbl_exact(r.drg[1].kept_mean_cost, 104);
    assert_int_equal(r.drg[2].kept, 3);
    assert_dbl_exact(r.drg[2].kept_mean_cost, 104);
    assert_int_equal(r.drg[3].kept, 5);
    assert_dbl_exact(r.drg[3].kept_mean_cost, 500);
    /* untrimmed: (412 + 1000) / 5 = 282.4 */
    assert_dbl_exact(r.drg[0].mean_cost, 1412.0 / 5.0);
    assert_int_equal(r.cases, 20);
    assert_int_equal(r.kept, 17);
    /* ē = (412 + 520 + 312 + 2500) / 17 = 3744 / 17 */
    assert_dbl_exact(r.pooled_mean, 3744.0 / 17.0);
    cb_ref_result_release(&r);
}

static void
test_other_trimming(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_settings set;
    struct cb_ref_result r;
    int i;

    (void)state;
    /* DRG 0: {10, 20, 30, 40, 50}; DRG 1: {100, 200}. */
    for (i = 5; i >= 1; i--)
        add(&s, 0, 10 * i, 1, 0);
    add(&s, 1, 200, 1, 0);
    add(&s, 1, 100, 1, 0);

    /* Percentile 25 % - 75 %: h = 4q -> P25 = x1 = 20, P75 = x3 = 40;
     * kept {20, 30, 40}: 3, mean 30. DRG 1: P25 = 125, P75 = 175: none. */
    cb_ref_settings_default(&set);
    set.trim = CB_TRIM_PERCENTILE;
    set.pct_low = 0.25;
    set.pct_high = 0.75;
    compute_ok(&s, 2, NULL, NULL, &set, &r);
    assert_int_equal(r.drg[0].kept, 3);
    assert_dbl_exact(r.drg[0].kept_mean_cost, 30);
    assert_int_equal(r.drg[1].kept, 0);
    assert_true(isnan(r.drg[1].kept_mean_cost));
    cb_ref_result_release(&r);

    /*
     * The default 2.5 % - 97.5 %: DRG 0: h = 0.1 -> 10 + 0.1 * 10 = 11;
     * h = 3.9 -> 40 + 0.9 * 10 = 49: kept {20, 30, 40} again.
     * DRG 1 (n = 2): h = 0.025 -> 102.5; h = 0.975 -> 197.5: kept none,
     * so the DRG (its own ADRG, adrg NULL) has no weight at all.
     */
    set.pct_low = 0.025;
    set.pct_high = 0.975;
    compute_ok(&s, 2, NULL, NULL, &set, &r);
    assert_int_equal(r.drg[0].kept, 3);
    assert_int_equal(r.drg[1].cases, 2);
    assert_int_equal(r.drg[1].kept, 0);
    assert_int_equal(r.drg[1].source, CB_RW_NONE);
    assert_true(isnan(r.drg[1].weight));
    /* DRG 0 also has < 5 kept: its own-ADRG weight is ē_0 / ē = 30 / 30. */
    assert_int_equal(r.drg[0].source, CB_RW_ADRG);
    assert_dbl_exact(r.drg[0].weight, 1);
    cb_ref_result_release(&r);

    /* None: everything kept. DRG 0: 150 / 5 = 30; DRG 1: 150. */
    set.trim = CB_TRIM_NONE;
    compute_ok(&s, 2, NULL, NULL, &set, &r);
    assert_int_equal(r.drg[0].kept, 5);
    assert_int_equal(r.drg[1].kept, 2);
    assert_dbl_exact(r.drg[1].kept_mean_cost, 150);
    assert_dbl_exact(r.pooled_mean, 450.0 / 7.0);
    cb_ref_result_release(&r);
}

static void
test_logsd_trimming(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_settings set;
    struct cb_ref_result r;
    int i;

    (void)state;
    /*
     * DRG 0: ten costs 2^10 = 1024, one 2^20 = 1048576, one 0, one -5.
     * 0 and -5 have no ln and are never kept. In units of L = ln 2 the
     * eleven ln costs are ten 10s and one 20:
     *   mean = 120 / 11 = 10.909; deviations: -10/11 (x10), 100/11;
     *   SS = 10 * 100/121 + 10000/121 = 11000/121 = 90.909;
     *   sample var = SS / 10 = 100/11; SD = 10/sqrt(11) = 3.0151;
     *   z(2^20) = (100/11) / (10/sqrt(11)) = 10/sqrt(11) = 3.0151 > 3: dropped;
     *   z(2^10) = -1/sqrt(11) = -0.3015: kept.
     * Kept 10, mean 1024. (L cancels out of every z.)
     * With k = 3.1 the 2^20 case is kept (3.0151 <= 3.1): 11 kept.
     */
    for (i = 0; i < 10; i++)
        add(&s, 0, 1024, 1, 0);
    add(&s, 0, 1048576, 1, 0);
    add(&s, 0, 0, 1, 0);
    add(&s, 0, -5, 1, 0);
    /* DRG 1: one positive cost and a zero: SD undefined, the 7 is kept. */
    add(&s, 1, 7, 1, 0);
    add(&s, 1, 0, 1, 0);

    cb_ref_settings_default(&set);
    set.trim = CB_TRIM_LOGSD;
    compute_ok(&s, 2, NULL, NULL, &set, &r);
    assert_int_equal(r.drg[0].cases, 13);
    assert_int_equal(r.drg[0].kept, 10);
    assert_dbl_exact(r.drg[0].kept_mean_cost, 1024);
    assert_int_equal(r.drg[1].kept, 1);
    assert_dbl_exact(r.drg[1].kept_mean_cost, 7);
    cb_ref_result_release(&r);

    set.logsd_k = 3.1;
    compute_ok(&s, 2, NULL, NULL, &set, &r);
    assert_int_equal(r.drg[0].kept, 11);
    assert_dbl_exact(r.drg[0].kept_mean_cost, (10240.0 + 1048576.0) / 11.0);
    cb_ref_result_release(&r);
}

/* ---- weights and per-DRG means ------------------------------------------ */

static void
test_weights(void **state)
{
    static const int64_t a_cost[] = { 1000, 104, 100, 108, 102, 106 };
    static const int64_t c_cost[] = { 90, 5, 50, 100, 70, 60, 80 };
    static const int adrg[] = { 0, 1, 2 };
    struct caseset s = { .n = 0 }, copy;
    struct cb_ref_result r;
    int i;

    (void)state;
    /*
     * DRG A = 0: {100, 102, 104, 106, 108, 1000}, n = 6, h = 5q:
     *   Q1: h = 1.25 -> 102 + .25 * 2 = 102.5; Q3: h = 3.75 -> 106 + .75 * 2
     *   = 107.5; IQR 5; fences [102.5 - 7.5, 107.5 + 7.5] = [95, 115]:
     *   1000 dropped; kept 5, sum 520, ē_A = 104.
     *   LOS 1..6 -> L̄ = 21 / 6 = 3.5; the 1000 case died: m = 1/6;
     *   Ē (untrimmed) = 1520 / 6 = 253.33.
     */
    for (i = 0; i < 6; i++)
        add(&s, 0, a_cost[i], i + 1, a_cost[i] == 1000);
    /*
     * DRG B = 1: {300, 310, 320, 330, 340}: Q1 = 310, Q3 = 330, fences
     *   [280, 360]: all kept, sum 1600, ē_B = Ē_B = 320; LOS 10; no deaths.
     */
    for (i = 0; i < 5; i++)
        add(&s, 1, 300 + 10 * i, 10, 0);
    /*
     * DRG C = 2: {5, 50, 60, 70, 80, 90, 100}, n = 7, h = 6q:
     *   Q1: h = 1.5 -> 50 + .5 * 10 = 55; Q3: h = 4.5 -> 80 + 5 = 85; IQR 30;
     *   fences [55 - 45, 85 + 45] = [10, 130]: 5 dropped; kept 6, sum 450,
     *   ē_C = 75; Ē_C = 455 / 7 = 65.
     *   LOS 2, except 9 for the 5-fen case: (12 + 9) / 7 = 3; 2 deaths: 2/7.
     */
    for (i = 0; i < 7; i++)
        add(&s, 2, c_cost[i], c_cost[i] == 5 ? 9 : 2, i < 2);
    /*
     * ē = (520 + 1600 + 450) / (5 + 5 + 6) = 2570 / 16 = 160.625
     * RW_A = 104 / 160.625 = 0.64747082
     * RW_B = 320 / 160.625 = 1.99221790
     * RW_C =  75 / 160.625 = 0.46692607
     */
    memcpy(&copy, &s, sizeof(s));
    compute_ok(&s, 3, adrg, NULL, NULL, &r);
    assert_memory_equal(copy.c, s.c, s.n * sizeof(s.c[0])); /* not reordered */

    assert_int_equal(r.cases, 18);
    assert_int_equal(r.kept, 16);
    assert_dbl_exact(r.pooled_mean, 160.625);

    assert_int_equal(r.drg[0].cases, 6);
    assert_int_equal(r.drg[0].kept, 5);
    assert_int_equal(r.drg[0].deaths, 1);
    assert_dbl_exact(r.drg[0].kept_mean_cost, 104);
    assert_dbl_exact(r.drg[0].mean_cost, 1520.0 / 6.0);
    assert_dbl_exact(r.drg[0].mean_los, 3.5);
    assert_dbl_exact(r.drg[0].mortality, 1.0 / 6.0);
    assert_int_equal(r.drg[0].source, CB_RW_COMPUTED);
    assert_dbl_exact(r.drg[0].weight, 104.0 / 160.625);
    assert_dbl_near(r.drg[0].weight, 0.64747082, 1e-8);

    assert_int_equal(r.drg[1].kept, 5);
    assert_dbl_exact(r.drg[1].kept_mean_cost, 320);
    assert_dbl_exact(r.drg[1].mean_cost, 320);
    assert_dbl_exact(r.drg[1].mean_los, 10);
    assert_dbl_exact(r.drg[1].mortality, 0);
    assert_int_equal(r.drg[1].source, CB_RW_COMPUTED);
    assert_dbl_near(r.drg[1].weight, 1.99221790, 1e-8);

    assert_int_equal(r.drg[2].kept, 6);
    assert_int_equal(r.drg[2].deaths, 2);
    assert_dbl_exact(r.drg[2].kept_mean_cost, 75);
    assert_dbl_exact(r.drg[2].mean_cost, 65);
    assert_dbl_exact(r.drg[2].mean_los, 3);
    assert_dbl_exact(r.drg[2].mortality, 2.0 / 7.0);
    assert_int_equal(r.drg[2].source, CB_RW_COMPUTED);
    assert_dbl_near(r.drg[2].weight, 0.46692607, 1e-8);

    /* fewer than 30 cases each: none graded */
    for (i = 0; i < 3; i++) {
        assert_int_equal(r.drg[i].risk, -1);
        assert_true(isnan(r.drg[i].risk_z));
    }
    assert_int_equal(r.graded, 0);
    cb_ref_result_release(&r);
    cb_ref_result_release(&r); /* release twice is harmless */
}

static void
test_weights_adrg_file_none(void **state)
{
    static const int adrg[] = { 5, 5, 5, -1, 6, 6 };
    double fw[6];
    struct caseset s = { .n = 0 };
    struct cb_ref_result r;
    double ebar;
    int i;

    (void)state;
    /*
     * ADRG 5 holds DRGs 0, 1 and 2.
     * DRG 0: {100, 102, 104, 106, 1000}: fences [96, 112] (see
     *   test_iqr_trimming): kept 4 (< 5), sum 412.
     * DRG 1: {200, 210, 220, 230, 240, 250}, h = 5q: Q1 = 210 + .25 * 10 =
     *   212.5, Q3 = 230 + .75 * 10 = 237.5, IQR 25, fences [175, 275]:
     *   kept 6, sum 1350, ē_1 = 225.
     * DRG 2: no cases.
     * DRG 3 (no ADRG, -1): {1000, 3000}, h = q: Q1 = 1500, Q3 = 2500,
     *   IQR 1000, fences [0, 4000]: kept 2 (< 5), sum 4000, ē_3 = 2000.
     * DRG 4 (ADRG 6): {500 x 5}: kept 5, sum 2500; file weight 1.2345.
     * DRG 5 (ADRG 6): no cases; file weight 0.75.
     *
     * ē = (412 + 1350 + 4000 + 2500) / (4 + 6 + 2 + 5) = 8262 / 17 = 486
     *   (the file-weighted DRG 4 counts in ē).
     * DRG 0: ADRG 5 mean = (412 + 1350) / (4 + 6) = 176.2;
     *   RW = 176.2 / 486 = 0.36255144, source ADRG.
     * DRG 1: 6 kept: RW = 225 / 486 = 0.46296296, computed.
     * DRG 2: no cases: NONE, NAN (ADRG 5 has kept costs, but no cases here).
     * DRG 3: its own ADRG: 2000 / 486 = 4.11522634, source ADRG.
     * DRG 4: 1.2345 from the file; DRG 5: 0.75 from the file.
     */
    for (i = 0; i < 4; i++)
        add(&s, 0, 100 + 2 * i, 1, 0);
    add(&s, 0, 1000, 1, 0);
    for (i = 5; i >= 0; i--)
        add(&s, 1, 200 + 10 * i, 1, 0);
    add(&s, 3, 3000, 1, 0);
    add(&s, 3, 1000, 1, 0);
    for (i = 0; i < 5; i++)
        add(&s, 4, 500, 1, 0);
    for (i = 0; i < 6; i++)
        fw[i] = NAN;
    fw[4] = 1.2345;
    fw[5] = 0.75;

    compute_ok(&s, 6, adrg, fw, NULL, &r);
    ebar = 8262.0 / 17.0;
    assert_dbl_exact(ebar, 486);
    assert_dbl_exact(r.pooled_mean, ebar);

    assert_int_equal(r.drg[0].kept, 4);
    assert_int_equal(r.drg[0].source, CB_RW_ADRG);
    assert_dbl_exact(r.drg[0].weight, (1762.0 / 10.0) / 486.0);
    assert_dbl_near(r.drg[0].weight, 0.36255144, 1e-8);
    assert_dbl_exact(r.drg[0].kept_mean_cost, 103); /* its own ē_g is kept */

    assert_int_equal(r.drg[1].kept, 6);
    assert_int_equal(r.drg[1].source, CB_RW_COMPUTED);
    assert_dbl_exact(r.drg[1].weight, 225.0 / 486.0);
    assert_dbl_near(r.drg[1].weight, 0.46296296, 1e-8);

    assert_int_equal(r.drg[2].cases, 0);
    assert_int_equal(r.drg[2].source, CB_RW_NONE);
    assert_true(isnan(r.drg[2].weight));
    assert_true(isnan(r.drg[2].mean_cost));
    assert_true(isnan(r.drg[2].mean_los));
    assert_true(isnan(r.drg[2].kept_mean_cost));
    assert_true(isnan(r.drg[2].mortality));

    assert_int_equal(r.drg[3].source, CB_RW_ADRG);
    assert_dbl_exact(r.drg[3].weight, 2000.0 / 486.0);
    assert_dbl_near(r.drg[3].weight, 4.11522634, 1e-8);

    assert_int_equal(r.drg[4].source, CB_RW_FILE);
    assert_dbl_exact(r.drg[4].weight, 1.2345);
    assert_int_equal(r.drg[5].source, CB_RW_FILE);
    assert_dbl_exact(r.drg[5].weight, 0.75);
    cb_ref_result_release(&r);

    /* With min_kept 4, DRG 0 (4 kept) computes its own: 103 / 486. */
    {
        struct cb_ref_settings set;

        cb_ref_settings_default(&set);
        set.min_kept = 4;
        compute_ok(&s, 6, adrg, NULL, &set, &r);
        assert_int_equal(r.drg[0].source, CB_RW_COMPUTED);
        assert_dbl_exact(r.drg[0].weight, 103.0 / 486.0);
        /* and DRG 4 without the file weights: 500 / 486 */
        assert_int_equal(r.drg[4].source, CB_RW_COMPUTED);
        assert_dbl_exact(r.drg[4].weight, 500.0 / 486.0);
        assert_int_equal(r.drg[5].source, CB_RW_NONE);
        cb_ref_result_release(&r);
    }
}

/* ---- risk grades -------------------------------------------------------- */

static void
test_risk_grades(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_settings set;
    struct cb_ref_result r;
    double L = log(2.0);

    (void)state;
    /*
     * Mortality rates that are powers of 2, m = 2^-k, so x = ln m = -k L
     * (L = ln 2) and every z is free of L:
     *   DRG 0: 30 cases, 15 deaths, m = 1/2,   k = 1
     *   DRG 1: 40 cases,  5 deaths, m = 1/8,   k = 3
     *   DRG 2: 32 cases,  4 deaths, m = 1/8,   k = 3
     *   DRG 3: 64 cases,  1 death,  m = 1/64,  k = 6
     *   DRG 4: 128 cases, 1 death,  m = 1/128, k = 7
     *   DRG 5: 50 cases,  0 deaths  -> grade 0, not in mu / sigma
     *   DRG 6: 29 cases, 10 deaths  -> ungraded (-1), not in mu / sigma
     * Over DRGs 0-4, in units of L: mean k = (1 + 3 + 3 + 6 + 7) / 5 = 4, so
     *   mu = -4 L; deviations of k: -3, -1, -1, 2, 3; SS = 9+1+1+4+9 = 24;
     *   sample var = 24 / 4 = 6; sigma = sqrt(6) L = 2.4495 L.
     *   z = (x - mu) / sigma = (4 - k) / sqrt(6):
     *   DRG 0:  3 / 2.4495 =  1.2247 -> grade 4
     *   DRG 1:  1 / 2.4495 =  0.4082 -> grade 3 (DRG 2 the same)
     *   DRG 3: -2 / 2.4495 = -0.8165 -> grade 2
     *   DRG 4: -3 / 2.4495 = -1.2247 -> grade 1
     * If DRG 6 (m = 10/29) counted, mu would move; if DRG 5 counted, ln 0.
     */
    add_mortality(&s, 0, 30, 15);
    add_mortality(&s, 1, 40, 5);
    add_mortality(&s, 2, 32, 4);
    add_mortality(&s, 3, 64, 1);
    add_mortality(&s, 4, 128, 1);
    add_mortality(&s, 5, 50, 0);
    add_mortality(&s, 6, 29, 10);

    compute_ok(&s, 7, NULL, NULL, NULL, &r);
    assert_dbl_near(r.risk_mu, -4 * L, 1e-12);
    assert_dbl_near(r.risk_sigma, sqrt(6.0) * L, 1e-12);
    assert_int_equal(r.drg[0].risk, 4);
    assert_dbl_near(r.drg[0].risk_z, 3 / sqrt(6.0), 1e-12);
    assert_int_equal(r.drg[1].risk, 3);
    assert_dbl_near(r.drg[1].risk_z, 1 / sqrt(6.0), 1e-12);
    assert_int_equal(r.drg[2].risk, 3);
    assert_int_equal(r.drg[3].risk, 2);
    assert_dbl_near(r.drg[3].risk_z, -2 / sqrt(6.0), 1e-12);
    assert_int_equal(r.drg[4].risk, 1);
    assert_dbl_near(r.drg[4].risk_z, -3 / sqrt(6.0), 1e-12);
    assert_int_equal(r.drg[5].risk, 0);
    assert_true(isnan(r.drg[5].risk_z));
    assert_dbl_exact(r.drg[5].mortality, 0);
    assert_int_equal(r.drg[6].risk, -1);
    assert_true(isnan(r.drg[6].risk_z));
    assert_dbl_exact(r.drg[6].mortality, 10.0 / 29.0);
    assert_int_equal(r.drg[6].deaths, 10);
    assert_int_equal(r.graded, 6);
    cb_ref_result_release(&r);

    /*
     * Population SD: var = 24 / 5 = 4.8, sigma = 2.1909 L; z(DRG 0) =
     * 3 / 2.1909 = 1.3693 (4), z(DRG 3) = -0.9129 (2), z(DRG 4) = -1.3693 (1).
     */
    cb_ref_settings_default(&set);
    set.risk_sample_sd = false;
    compute_ok(&s, 7, NULL, NULL, &set, &r);
    assert_dbl_near(r.risk_sigma, sqrt(4.8) * L, 1e-12);
    assert_dbl_near(r.drg[0].risk_z, 3 / sqrt(4.8), 1e-12);
    assert_int_equal(r.drg[3].risk, 2);
    assert_dbl_near(r.drg[3].risk_z, -2 / sqrt(4.8), 1e-12);
    cb_ref_result_release(&r);

    /* min_risk_cases 29 brings DRG 6 in: 6 DRGs with deaths now. */
    cb_ref_settings_default(&set);
    set.min_risk_cases = 29;
    compute_ok(&s, 7, NULL, NULL, &set, &r);
    assert_int_not_equal(r.drg[6].risk, -1);
    assert_int_equal(r.graded, 7);
    cb_ref_result_release(&r);
}

static void
test_risk_boundaries(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_settings set;
    struct cb_ref_result r;
    double L = log(2.0);

    (void)state;
    /*
     * Three DRGs with symmetric ln values: m = 1/4, 1/2, 1 ->
     * x = -2L, -L, 0; mu = -L; deviations -L, 0, L; sample var = 2L^2 / 2
     * = L^2; sigma = L; z = -1, 0, 1 exactly -> grades 2, 3, 4 (the lower
     * band limits are inclusive). Exact in binary: ln(1/4) is 2 ln(1/2) to
     * the bit (checked first), and every step above is then exact.
     */
    assert_dbl_exact(log(0.25), 2 * log(0.5));
    add_mortality(&s, 0, 40, 10);
    add_mortality(&s, 1, 30, 15);
    add_mortality(&s, 2, 30, 30);
    compute_ok(&s, 3, NULL, NULL, NULL, &r);
    assert_dbl_exact(r.risk_mu, -L);
    assert_dbl_exact(r.risk_sigma, L);
    assert_dbl_exact(r.drg[0].risk_z, -1);
    assert_int_equal(r.drg[0].risk, 2);
    assert_dbl_exact(r.drg[1].risk_z, 0);
    assert_int_equal(r.drg[1].risk, 3);
    assert_dbl_exact(r.drg[2].risk_z, 1);
    assert_int_equal(r.drg[2].risk, 4);
    cb_ref_result_release(&r);

    /*
     * Without the ln (risk_ln false), m = 1/4, 1/2, 3/4: mu = 1/2, sample
     * var = (1/16 + 0 + 1/16) / 2 = 1/16, sigma = 1/4; z = -1, 0, 1 again.
     */
    s.n = 0;
    add_mortality(&s, 0, 40, 10);
    add_mortality(&s, 1, 30, 15);
    add_mortality(&s, 2, 40, 30);
    cb_ref_settings_default(&set);
    set.risk_ln = false;
    compute_ok(&s, 3, NULL, NULL, &set, &r);
    assert_dbl_exact(r.risk_mu, 0.5);
    assert_dbl_exact(r.risk_sigma, 0.25);
    assert_int_equal(r.drg[0].risk, 2);
    assert_int_equal(r.drg[1].risk, 3);
    assert_int_equal(r.drg[2].risk, 4);
    cb_ref_result_release(&r);
}

static void
test_risk_sigma_undefined(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_result r;

    (void)state;
    /* One DRG with deaths: sigma undefined -> it stays ungraded; the DRG
     * without deaths still gets grade 0; mu and sigma NAN. */
    add_mortality(&s, 0, 30, 3);
    add_mortality(&s, 1, 30, 0);
    add_mortality(&s, 2, 10, 3); /* too small anyway */
    compute_ok(&s, 3, NULL, NULL, NULL, &r);
    assert_int_equal(r.drg[0].risk, -1);
    assert_true(isnan(r.drg[0].risk_z));
    assert_int_equal(r.drg[1].risk, 0);
    assert_int_equal(r.drg[2].risk, -1);
    assert_true(isnan(r.risk_mu));
    assert_true(isnan(r.risk_sigma));
    assert_int_equal(r.graded, 1);
    cb_ref_result_release(&r);

    /* Two DRGs with the same rate (3/30 = 6/60 = 0.1): sigma = 0, z
     * undefined -> both ungraded; mu = ln 0.1 is reported, sigma 0. */
    s.n = 0;
    add_mortality(&s, 0, 30, 3);
    add_mortality(&s, 1, 60, 6);
    add_mortality(&s, 2, 30, 0);
    compute_ok(&s, 3, NULL, NULL, NULL, &r);
    assert_int_equal(r.drg[0].risk, -1);
    assert_int_equal(r.drg[1].risk, -1);
    assert_int_equal(r.drg[2].risk, 0);
    assert_dbl_exact(r.risk_sigma, 0);
    assert_dbl_exact(r.risk_mu, log(0.1));
    assert_int_equal(r.graded, 1);
    cb_ref_result_release(&r);
}

/* ---- edges and errors --------------------------------------------------- */

static void
test_empty(void **state)
{
    double fw[3] = { NAN, 2.5, NAN };
    struct cb_ref_result r;
    struct cb_buf err = CB_BUF_INIT;
    int i;

    (void)state;
    assert_int_equal(cb_ref_compute(NULL, 0, 3, NULL, fw, NULL, &r, &err),
                     CB_OK);
    assert_int_equal(r.ndrgs, 3);
    assert_true(isnan(r.pooled_mean));
    assert_int_equal(r.cases, 0);
    assert_int_equal(r.graded, 0);
    for (i = 0; i < 3; i++) {
        assert_int_equal(r.drg[i].risk, -1);
        assert_int_equal(r.drg[i].cases, 0);
    }
    assert_int_equal(r.drg[0].source, CB_RW_NONE);
    assert_int_equal(r.drg[1].source, CB_RW_FILE);
    assert_dbl_exact(r.drg[1].weight, 2.5);
    cb_ref_result_release(&r);

    assert_int_equal(cb_ref_compute(NULL, 0, 0, NULL, NULL, NULL, &r, &err),
                     CB_OK);
    assert_int_equal(r.ndrgs, 0);
    cb_ref_result_release(&r);
    cb_buf_release(&err);
}

static void
expect_usage(const struct caseset *s, int ndrgs, const double *fw,
             const struct cb_ref_settings *set, const char *needle)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_ref_result r;

    assert_int_equal(cb_ref_compute(s->c, s->n, ndrgs, NULL, fw, set, &r, &err),
                     CB_ERR_USAGE);
    assert_null(r.drg);
    assert_int_equal(r.ndrgs, 0);
    if (!strstr(cb_buf_cstr(&err), needle))
        fail_msg("message lacks \"%s\": %s", needle, cb_buf_cstr(&err));
    cb_buf_release(&err);
}

static void
test_bad_input(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_settings set;
    double fw[3] = { NAN, NAN, NAN };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_ref_result r;

    (void)state;
    add(&s, 0, 100, 1, 0);
    add(&s, 2, 100, 1, 0);
    expect_usage(&s, 2, NULL, NULL, "reference case 1: drg index 2");
    expect_usage(&s, -1, NULL, NULL, "-1 drgs");
    expect_usage(&s, 65537, NULL, NULL, "65537 drgs");

    cb_ref_settings_default(&set);
    set.iqr_k = -1;
    expect_usage(&s, 3, NULL, &set, "trimming factors");
    cb_ref_settings_default(&set);
    set.logsd_k = INFINITY;
    expect_usage(&s, 3, NULL, &set, "trimming factors");
    cb_ref_settings_default(&set);
    set.pct_low = 0.9;
    set.pct_high = 0.1;
    expect_usage(&s, 3, NULL, &set, "percentiles");
    cb_ref_settings_default(&set);
    set.pct_high = NAN;
    expect_usage(&s, 3, NULL, &set, "percentiles");
    cb_ref_settings_default(&set);
    set.trim = (enum cb_ref_trim)7;
    expect_usage(&s, 3, NULL, &set, "trimming method 7");
    cb_ref_settings_default(&set);
    set.min_kept = 0;
    expect_usage(&s, 3, NULL, &set, "minimum");
    cb_ref_settings_default(&set);
    set.min_risk_cases = 0;
    expect_usage(&s, 3, NULL, &set, "minimum");

    fw[1] = INFINITY;
    expect_usage(&s, 3, fw, NULL, "file weight of drg 1");
    fw[1] = -0.5;
    expect_usage(&s, 3, fw, NULL, "file weight of drg 1");

    /* cases NULL with n > 0 */
    assert_int_equal(cb_ref_compute(NULL, 1, 3, NULL, NULL, NULL, &r, &err),
                     CB_ERR_USAGE);
    assert_null(r.drg);
    /* the same call is fine with ndrgs 3; err may be NULL */
    assert_int_equal(cb_ref_compute(s.c, s.n, 3, NULL, NULL, NULL, &r, NULL),
                     CB_OK);
    cb_ref_result_release(&r);
    cb_buf_release(&err);
}

static void
test_nomem(void **state)
{
    struct caseset s = { .n = 0 };
    struct cb_ref_result r;
    enum cb_err rc;
    long i;

    (void)state;
    add_mortality(&s, 0, 40, 3);
    add_mortality(&s, 1, 40, 1);
    /* Fail each allocation in turn until the call gets through. */
    for (i = 0;; i++) {
        cb_alloc_fail_after(i);
        rc = cb_ref_compute(s.c, s.n, 2, NULL, NULL, NULL, &r, NULL);
        cb_alloc_fail_after(-1);
        if (rc == CB_OK)
            break;
        assert_int_equal(rc, CB_ERR_NOMEM);
        assert_null(r.drg);
        assert_int_equal(r.ndrgs, 0);
        assert_true(i < 100);
    }
    assert_true(i >= 5); /* result + four scratch arrays */
    assert_int_equal(r.drg[0].cases, 40);
    cb_ref_result_release(&r);
}

/* ---- a large random reference, checked against a plain recomputation ---- */

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15u);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

static double
unif(uint64_t *x)
{
    return (double)(splitmix64(x) >> 11) * 0x1.0p-53;
}

static int
cmp_case(const void *a, const void *b)
{
    const struct cb_ref_case *x = a;
    const struct cb_ref_case *y = b;

    if (x->drg != y->drg)
        return (x->drg > y->drg) - (x->drg < y->drg);
    return (x->cost > y->cost) - (x->cost < y->cost);
}

enum { BIG_N = 1000000, BIG_DRGS = 600 };

/* Random cases: DRG 598 gets 3 cases (ADRG weight), DRG 599 none. */
static struct cb_ref_case *
big_cases(uint64_t seed)
{
    struct cb_ref_case *c = calloc(BIG_N, sizeof(*c));
    size_t i;

    assert_non_null(c);
    for (i = 0; i < BIG_N; i++) {
        double u = unif(&seed);
        int g = i < 3 ? 598 : (int)(598 * u * u);
        double base = 50000 + (double)((g * 7919) % 400000);
        double cost = base * (0.6 + 0.8 * unif(&seed));

        if (unif(&seed) < 0.02)
            cost *= 3 + 7 * unif(&seed); /* outliers */
        c[i].drg = (uint16_t)g;
        c[i].cost = (int64_t)cost;
        c[i].los = 1 + (int32_t)(splitmix64(&seed) % 30);
        c[i].death = g % 7 != 0 && unif(&seed) < 0.001 * (1 + g % 50);
    }
    return c;
}

static void
test_large_random(void **state)
{
    int adrg[BIG_DRGS];
    struct cb_ref_case *c = big_cases(42), *sorted;
    double *v = malloc(BIG_N * sizeof(*v));
    struct cb_ref_result r;
    struct cb_buf err = CB_BUF_INIT;
    int64_t pooled_sum = 0, pooled_kept = 0, k597 = 0, s597 = 0;
    size_t i, j;
    int g;

    (void)state;
    assert_non_null(v);
    for (g = 0; g < BIG_DRGS; g++)
        adrg[g] = g / 3;
    assert_int_equal(cb_ref_compute(c, BIG_N, BIG_DRGS, adrg, NULL, NULL, &r,
                                    &err), CB_OK);

    /* The plain way: one sort of all cases by (drg, cost), then per DRG a
     * filter against the fences. */
    sorted = malloc(BIG_N * sizeof(*sorted));
    assert_non_null(sorted);
    memcpy(sorted, c, BIG_N * sizeof(*sorted));
    qsort(sorted, BIG_N, sizeof(*sorted), cmp_case);
    for (i = 0; i < BIG_N; i = j) {
        int64_t sum = 0, kept_sum = 0, los = 0, kept = 0, deaths = 0;
        double q1, q3, lo, hi;
        const struct cb_ref_drg *d;
        size_t m;

        g = sorted[i].drg;
        for (j = i; j < BIG_N && sorted[j].drg == g; j++)
            v[j - i] = (double)sorted[j].cost;
        m = j - i;
        q1 = cb_quantile7(v, m, 0.25);
        q3 = cb_quantile7(v, m, 0.75);
        lo = q1 - 1.5 * (q3 - q1);
        hi = q3 + 1.5 * (q3 - q1);
        for (j = i; j < i + m; j++) {
            sum += sorted[j].cost;
            los += sorted[j].los;
            deaths += sorted[j].death;
            if ((double)sorted[j].cost >= lo && (double)sorted[j].cost <= hi) {
                kept++;
                kept_sum += sorted[j].cost;
            }
        }
        d = &r.drg[g];
        assert_int_equal(d->cases, m);
        assert_int_equal(d->kept, kept);
        assert_int_equal(d->deaths, deaths);
        assert_dbl_exact(d->kept_mean_cost, (double)kept_sum / (double)kept);
        assert_dbl_exact(d->mean_cost, (double)sum / (double)m);
        assert_dbl_exact(d->mean_los, (double)los / (double)m);
        pooled_sum += kept_sum;
        pooled_kept += kept;
        if (g == 597 || g == 598) {
            k597 += kept;
            s597 += kept_sum;
        }
    }
    assert_int_equal(r.cases, BIG_N);
    assert_int_equal(r.kept, pooled_kept);
    assert_true(r.kept < BIG_N); /* the outliers went */
    assert_dbl_exact(r.pooled_mean, (double)pooled_sum / (double)pooled_kept);

    for (g = 0; g < 598; g++) {
        assert_int_equal(r.drg[g].source, CB_RW_COMPUTED);
        assert_dbl_exact(r.drg[g].weight,
                         r.drg[g].kept_mean_cost / r.pooled_mean);
    }
    assert_int_equal(r.drg[598].cases, 3);
    assert_int_equal(r.drg[598].source, CB_RW_ADRG);
    assert_dbl_exact(r.drg[598].weight,
                     ((double)s597 / (double)k597) / r.pooled_mean);
    assert_int_equal(r.drg[599].source, CB_RW_NONE);

    /* Every grade agrees with its z, and the grades cover 0..4. */
    {
        int seen[5] = { 0 };

        for (g = 0; g < BIG_DRGS; g++) {
            const struct cb_ref_drg *d = &r.drg[g];

            if (d->cases < 30) {
                assert_int_equal(d->risk, -1);
                continue;
            }
            assert_true(d->risk >= 0 && d->risk <= 4);
            seen[(int)d->risk]++;
            if (d->risk == 0) {
                assert_int_equal(d->deaths, 0);
                continue;
            }
            assert_true(d->risk != 1 || d->risk_z < -1);
            assert_true(d->risk != 2 || (d->risk_z >= -1 && d->risk_z < 0));
            assert_true(d->risk != 3 || (d->risk_z >= 0 && d->risk_z < 1));
            assert_true(d->risk != 4 || d->risk_z >= 1);
        }
        for (g = 0; g < 5; g++)
            assert_true(seen[g] > 0);
    }
    cb_ref_result_release(&r);
    cb_buf_release(&err);
    free(sorted);
    free(v);
    free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantile7),
        cmocka_unit_test(test_iqr_trimming),
        cmocka_unit_test(test_other_trimming),
        cmocka_unit_test(test_logsd_trimming),
        cmocka_unit_test(test_weights),
        cmocka_unit_test(test_weights_adrg_file_none),
        cmocka_unit_test(test_risk_grades),
        cmocka_unit_test(test_risk_boundaries),
        cmocka_unit_test(test_risk_sigma_undefined),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_nomem),
        cmocka_unit_test(test_large_random),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
