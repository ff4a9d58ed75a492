/*
 * test_indicators.c - the indicator engine (issue 4; spec c.0, c.1, c.4,
 * c.5, d): catalogues, facts derived from front pages, aggregation per
 * (unit, period), and indicator values from the catalogue
 * data/indicators/catalogue-2019.tsv.
 *
 * All records are synthetic (no person, no real hospital). Each front-page
 * test builds 5-15 records that hit one pitfall the spec names, derives the
 * facts, aggregates them in an engine and checks numerator, denominator and
 * value of the indicators; the expected numbers are worked out by hand in
 * the comments next to the records.
 *
 * Procedure codes are real codes of the national clinical edition 2.0
 * (shared data/nhc-2019/procedures.tsv) with these categories:
 *   手术        51.2300 47.0100 47.0900 53.0000 53.0001 53.0002 53.0100
 *               38.5901 81.5100 81.5200 81.5201 81.5400 74.0x00 74.1x01
 *   介入治疗    36.0601 00.6600
 *   治疗性操作  45.4200 (its prefix 45.42 is in the day-surgery catalogue)
 *   诊断性操作  45.2300 88.7201
 *
 * Tests named *_spec_* check a rule where the library disagrees with the
 * spec at the time of writing; their comments quote the spec.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "carebase/alloc.h"
#include "carebase/engine.h"
#include "carebase/indicator.h"
#include "carebase/record.h"
#include "carebase/refdata.h"

#define F(k) CB_F_##k
#define DX(n, f) (CB_FP_DX_BASE + ((n) - 1) * CB_DX__FIELDS + CB_DX_##f)
#define PX(n, f) (CB_FP_PX_BASE + ((n) - 1) * CB_PX__FIELDS + CB_PX_##f)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---------------------------------------------------------- */

static struct cb_refdata    *g_rd;
static struct cb_catalogues  g_cat;       /* no MIS / level-4 / level-3 list */
static struct cb_catalogues  g_cat_full;  /* with the test MIS and level-4 lists */
static struct cb_indicator_set g_set;
static struct cb_fp          g_fp;
static char g_mis_path[512], g_l4_path[512];

/* A field change: v "" empties the field; v NULL ends a list. */
struct kv {
    int         f;
    const char *v;
};
#define END { -1, NULL }

/* Adult, elective (RYTJ 2), medical stay of 5 days, no procedure. */
static const struct kv base_kv[] = {
    { F(ZZJGDM), "TEST-HOSP-1" }, { F(BAH), "T000001" }, { F(ZYCS), "1" },
    { F(XB), "1" }, { F(NL), "45" }, { F(RYTJ), "2" },
    { F(RYSJ), "2025-01-10 08:00:00" }, { F(CYSJ), "2025-01-15 08:00:00" },
    { F(SJZYTS), "5" }, { F(LYFS), "1" },
    { F(JBDM), "K80.100" }, { F(RYBQ), "1" },
    { F(ZFY), "10000.00" },
    END
};

static void
build(const struct kv *ch)
{
    const struct kv *k;

    cb_fp_clear(&g_fp);
    for (k = base_kv; k->v; k++)
        g_fp.v[k->f] = cb_str_c(k->v);
    for (k = ch; k && k->v; k++)
        g_fp.v[k->f] = cb_str_c(k->v);
    cb_fp_parse(&g_fp);
}

/* Derives one fact per record; record ids first_id.., the given hospital,
 * department hospital*10+1 and doctor hospital*100+1. */
static void
derive(const struct kv *const *recs, size_t n, const struct cb_catalogues *cat,
       int64_t first_id, uint16_t hospital, struct cb_fact *out)
{
    for (size_t i = 0; i < n; i++) {
        build(recs[i]);
        cb_fact_derive(&g_fp, g_rd, cat, false, &out[i]);
        out[i].record_id = first_id + (int64_t)i;
        out[i].hospital = hospital;
        out[i].dept = (uint16_t)(hospital * 10 + 1);
        out[i].doctor = (uint32_t)hospital * 100 + 1;
    }
}

static uint32_t
have_of(const struct cb_catalogues *cat, bool ref)
{
    uint32_t h = CB_NEED_COHORTS;

    if (cat->cat[CB_CAT_DAY_SURGERY].loaded)
        h |= CB_NEED_DAY_SURGERY;
    if (cat->cat[CB_CAT_COMPLICATION].loaded)
        h |= CB_NEED_COMPLICATION;
    if (cat->cat[CB_CAT_MIS].loaded)
        h |= CB_NEED_MIS;
    if (cat->cat[CB_CAT_LEVEL4].loaded)
        h |= CB_NEED_LEVEL4;
    if (cat->cat[CB_CAT_LEVEL3].loaded)
        h |= CB_NEED_LEVEL3;
    if (ref)
        h |= CB_NEED_REFERENCE;
    return h;
}

static struct cb_engine *
engine_with(const struct cb_fact *f, size_t n)
{
    struct cb_engine *e = NULL;

    assert_int_equal(cb_engine_new(&e), CB_OK);
    if (n)
        assert_int_equal(cb_engine_put(e, f, n), CB_OK);
    assert_int_equal(cb_engine_count(e), n);
    return e;
}

static void
query(const struct cb_engine *e, enum cb_unit unit, enum cb_period period,
      const struct cb_engine_ref *ref, struct cb_engine_result *res)
{
    struct cb_engine_query q;

    memset(&q, 0, sizeof q);
    q.unit = unit;
    q.period = period;
    q.ref = ref;
    assert_int_equal(cb_engine_query(e, &q, res), CB_OK);
}

/* The row of a hospital in a (hospital, period) result; fails if absent. */
static const struct cb_engine_row *
row_of(const struct cb_engine_result *res, uint16_t hospital, int32_t period)
{
    for (size_t i = 0; i < res->nrows; i++)
        if (res->rows[i].hospital == hospital && res->rows[i].period == period)
            return &res->rows[i];
    print_error("no row for hospital %u period %d (%zu rows)\n", hospital,
                (int)period, res->nrows);
    fail();
    return NULL;
}

/* ---- expectations --------------------------------------------------------- */

struct want {
    const char *id;
    bool        ok;        /* computable */
    double      num, den;
    double      value;
    const char *reason;    /* substring of the reason when !ok */
};
#define OK(id, n, d, v) { id, true, n, d, v, NULL }
#define NC(id, why)     { id, false, 0, 0, 0, why }

static bool
close_to(double a, double b)
{
    return fabs(a - b) <= 1e-12 * fmax(1.0, fabs(b));
}

/* Evaluates each indicator and compares; prints every mismatch and returns
 * their number. */
static int
check(const struct want *w, size_t n, const struct cb_agg *a, int words,
      uint32_t have, const char *file, int line)
{
    int bad = 0;

    for (size_t i = 0; i < n; i++) {
        const struct cb_indicator *ind = cb_indicator_find(&g_set, cb_str_c(w[i].id));
        struct cb_ind_value v;

        if (!ind) {
            print_error("%s:%d: indicator %s is not in the catalogue\n", file, line,
                        w[i].id);
            bad++;
            continue;
        }
        cb_indicator_eval(ind, a, words, have, &v);
        if (w[i].ok) {
            if (!v.computable || !close_to(v.num, w[i].num) || !close_to(v.den, w[i].den) ||
                !close_to(v.value, w[i].value)) {
                print_error("%s:%d: %s: got %s num %.17g den %.17g value %.17g (%s); "
                            "want num %.17g den %.17g value %.17g\n", file, line, w[i].id,
                            v.computable ? "computable" : "NOT computable", v.num, v.den,
                            v.value, v.reason ? v.reason : "-", w[i].num, w[i].den,
                            w[i].value);
                bad++;
            }
        } else if (v.computable || !v.reason || !strstr(v.reason, w[i].reason) ||
                   !isnan(v.value)) {
            print_error("%s:%d: %s: got %s value %.17g reason \"%s\"; want not "
                        "computable, reason containing \"%s\"\n", file, line, w[i].id,
                        v.computable ? "computable" : "not computable", v.value,
                        v.reason ? v.reason : "(none)", w[i].reason);
            bad++;
        }
    }
    return bad;
}
#define CHECK(w, a, words, have) \
    do { \
        if (check(w, NELEM(w), a, words, have, __FILE__, __LINE__)) \
            _fail(__FILE__, __LINE__); \
    } while (0)

/* Aggregates facts of one hospital (period all) and checks indicators. */
static void
check_facts(const struct cb_fact *f, size_t n, uint16_t hospital,
            const struct cb_engine_ref *ref, const struct want *w, size_t nw,
            uint32_t have, const char *file, int line)
{
    struct cb_engine *e = engine_with(f, n);
    struct cb_engine_result res;

    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_ALL, ref, &res);
    const struct cb_engine_row *r = row_of(&res, hospital, 0);
    int bad = check(w, nw, &r->agg, res.ndrg_words, have, file, line);
    cb_engine_result_release(&res);
    cb_engine_free(e);
    if (bad)
        _fail(file, line);
}
#define CHECK_FACTS(f, n, h, ref, w, have) \
    check_facts(f, n, h, ref, w, NELEM(w), have, __FILE__, __LINE__)

/* ---- catalogues ----------------------------------------------------------- */

static void
test_catalogues(void **state)
{
    (void)state;
    const struct cb_prefix_list *day = g_cat.cat[CB_CAT_DAY_SURGERY].codes;
    const struct cb_prefix_list *comp = g_cat.cat[CB_CAT_COMPLICATION].codes;

    assert_true(g_cat.cat[CB_CAT_DAY_SURGERY].loaded);
    assert_true(g_cat.cat[CB_CAT_COMPLICATION].loaded);
    assert_string_equal(g_cat.cat[CB_CAT_COMPLICATION].version, "carebase-starter-2026.1");
    /* spec d: the MIS and level-4 lists are not public: not loaded by default */
    assert_false(g_cat.cat[CB_CAT_MIS].loaded);
    assert_false(g_cat.cat[CB_CAT_LEVEL4].loaded);
    assert_null(g_cat.cat[CB_CAT_MIS].codes);
    assert_true(g_cat_full.cat[CB_CAT_MIS].loaded);
    assert_true(g_cat_full.cat[CB_CAT_LEVEL4].loaded);
    assert_string_equal(g_cat_full.cat[CB_CAT_MIS].version, "test-mis-1");
    assert_string_equal(g_cat_full.cat[CB_CAT_MIS].source, "test_indicators.c");

    /* day-surgery catalogue (icd9cm3 column, c.5.4): 53.00 covers 53.0000..53.0002,
       not 53.0100; 38.59 covers 38.5900x003; 45.42 covers 45.4200 */
    assert_true(cb_prefix_match(day, cb_str_c("53.0002")));
    assert_true(cb_prefix_match(day, cb_str_c("53.0000")));
    assert_false(cb_prefix_match(day, cb_str_c("53.0100")));
    assert_true(cb_prefix_match(day, cb_str_c("38.5900x003")));
    assert_true(cb_prefix_match(day, cb_str_c("45.4200")));
    assert_false(cb_prefix_match(day, cb_str_c("51.2300")));
    assert_false(cb_prefix_match(day, cb_str_c("icd9cm3")));  /* header is not a code */
    assert_false(cb_prefix_match(day, cb_str_c("")));

    /* complication starter list: T81 covers T81.4; I80.2 does not cover I80.3 */
    assert_true(cb_prefix_match(comp, cb_str_c("T81.400")));
    assert_true(cb_prefix_match(comp, cb_str_c("T81.000x001")));
    assert_true(cb_prefix_match(comp, cb_str_c("A41.900")));
    assert_true(cb_prefix_match(comp, cb_str_c("J96.000")));
    assert_false(cb_prefix_match(comp, cb_str_c("I80.300")));
    assert_false(cb_prefix_match(comp, cb_str_c("prefix")));  /* header */
    assert_false(cb_prefix_match(comp, cb_str_c("K80.100")));

    /* cohorts (c.1 table, c.5.4): literal prefixes */
    const struct cb_cohort *hip = &g_cat.cohort[5], *stroke = &g_cat.cohort[4];
    assert_true(hip->by_procedure);
    assert_true(cb_prefix_match(hip->include, cb_str_c("81.5100")));
    assert_false(cb_prefix_match(hip->include, cb_str_c("81.5101")));
    assert_false(cb_prefix_match(hip->include, cb_str_c("81.5201")));
    assert_false(stroke->by_procedure);
    assert_true(cb_prefix_match(stroke->exclude, cb_str_c("I63.301")));
    assert_false(cb_prefix_match(stroke->exclude, cb_str_c("I63.300")));
    assert_int_equal(g_cat.cohort[2].age_min, 18);   /* pneumonia adult: NL >= 18 */
    assert_int_equal(g_cat.cohort[3].age_max, 17);   /* child: NL < 18 */
}

/* ---- #2 down-referrals -------------------------------------------------- */

static void
test_fp02_down_referral(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        (const struct kv[]){ { F(LYFS), "3" }, END },   /* r1 counts */
        (const struct kv[]){ { F(LYFS), "3" }, END },   /* r2 counts */
        (const struct kv[]){ { F(LYFS), "2" }, END },   /* r3 LYFS 2: not yet (c.5.6) */
        (const struct kv[]){ { F(LYFS), "1" }, END },   /* r4 no */
        (const struct kv[]){ { F(LYFS), "5" }, END },   /* r5 no */
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /* #2 inpatient part = |{LYFS = 3}| = 2 (a count: den 1) */
    static const struct want w[] = { OK("fp.02", 2, 1, 2), OK("fp.n", 5, 1, 5) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/* ---- #3 day surgery ------------------------------------------------------- */

static void
test_fp03_day_surgery(void **state)
{
    (void)state;
    /* Admission 2025-01-10 08:00:00 (base) unless said otherwise. */
    const struct kv *recs[] = {
        /* d1: elective, 53.0002 (catalogue 53.00), exactly 24 h -> day24, day48 */
        (const struct kv[]){ { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-11 08:00:00" }, { F(SJZYTS), "1" }, END },
        /* d2: 25 h -> not day24, day48 */
        (const struct kv[]){ { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-11 09:00:00" }, { F(SJZYTS), "1" }, END },
        /* d3: 49 h -> neither, still in the denominator */
        (const struct kv[]){ { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-12 09:00:00" }, { F(SJZYTS), "2" }, END },
        /* d4: emergency (RYTJ 1), 10 h: not elective, in neither */
        (const struct kv[]){ { F(RYTJ), "1" }, { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
        /* d5: 53.0100 is an operation outside the catalogue (53.00 does not cover
           53.01): denominator only */
        (const struct kv[]){ { PX(1, CODE), "53.0100" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
        /* d6: source flag SFRJSS = 1 on a non-catalogue operation, 72 h: the flag
           decides -> day24, day48 */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, SFRJSS), "1" },
                             { F(CYSJ), "2025-01-13 08:00:00" }, { F(SJZYTS), "3" }, END },
        /* d7: operation 47.0100 (not in the catalogue) + therapeutic 45.4200 (in the
           catalogue): "the catalogue slot itself need not be an operation" (c.5.5),
           12 h -> day24, day48 */
        (const struct kv[]){ { PX(1, CODE), "47.0100" }, { PX(2, CODE), "45.4200" },
                             { F(CYSJ), "2025-01-10 20:00:00" }, { F(SJZYTS), "1" }, END },
        /* d8: therapeutic 45.4200 only, 5 h: not surgical, in neither */
        (const struct kv[]){ { PX(1, CODE), "45.4200" },
                             { F(CYSJ), "2025-01-10 13:00:00" }, { F(SJZYTS), "1" }, END },
        /* d9: three catalogue operations, 8 h: one person -> day24 once */
        (const struct kv[]){ { PX(1, CODE), "53.0002" }, { PX(2, CODE), "53.0001" },
                             { PX(3, CODE), "53.0000" },
                             { F(CYSJ), "2025-01-10 16:00:00" }, { F(SJZYTS), "1" }, END },
        /* d10: exactly 48 h -> day48 only */
        (const struct kv[]){ { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-12 08:00:00" }, { F(SJZYTS), "2" }, END },
        /* d11: medical stay, 4 h: in neither */
        (const struct kv[]){ { F(CYSJ), "2025-01-10 12:00:00" }, { F(SJZYTS), "1" }, END },
        /* d12: day-surgery flag on a colonoscopy (诊断性操作), 5 h: not surgical,
           in neither */
        (const struct kv[]){ { PX(1, CODE), "45.2300" }, { PX(1, SFRJSS), "1" },
                             { F(CYSJ), "2025-01-10 13:00:00" }, { F(SJZYTS), "1" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /*
     * den (surgical ∧ elective) = d1 d2 d3 d5 d6 d7 d9 d10 = 8
     * day24 = d1 d6 d7 d9 = 4          -> 50 %
     * day48 = d1 d2 d6 d7 d9 d10 = 6   -> 75 %
     */
    static const struct want w[] = {
        OK("fp.03", 4, 8, 50.0),
        OK("fp.03.48h", 6, 8, 75.0),
        OK("fp.n", 12, 1, 12),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
    assert_true(f[0].flags & CB_FACT_DAY_SURGERY);
    assert_false(f[1].flags & CB_FACT_DAY_SURGERY);
    assert_true(f[1].flags & CB_FACT_DAY_SURGERY_48);
    assert_true(f[5].flags & CB_FACT_DAY_FLAG);

    /* Without the day-surgery catalogue: not computable, never 0 */
    static const struct want w2[] = {
        NC("fp.03", "catalogue missing"), NC("fp.03.48h", "catalogue missing"),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w2, have_of(&g_cat, false) & ~CB_NEED_DAY_SURGERY);
}

/*
 * Spec c.1 #3: "Use the source's day-surgery flag if present (HQMS B38 /
 * SFRJSS); otherwise CYSJ − RYSJ ≤ 24 h ... ∧ ∃n: SSJCZBMn ∈ day-surgery
 * catalogue ∧ elective(r)". A flag that is present and says "no" (否 / 0 / 2,
 * RC016 是否: 1 是, 2 否) decides: the stay is not a day surgery, even when the
 * fallback rule would say yes.
 */
static void
test_fp03_spec_flag_no_decides(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* each: elective, catalogue operation 53.0002, 10 h, flag present = no */
        (const struct kv[]){ { PX(1, CODE), "53.0002" }, { PX(1, SFRJSS), "否" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
        (const struct kv[]){ { PX(1, CODE), "53.0002" }, { PX(1, SFRJSS), "0" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
        (const struct kv[]){ { PX(1, CODE), "53.0002" }, { PX(1, SFRJSS), "2" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
        /* control: no flag at all -> the rule applies -> day surgery */
        (const struct kv[]){ { PX(1, CODE), "53.0002" },
                             { F(CYSJ), "2025-01-10 18:00:00" }, { F(SJZYTS), "1" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /* den = 4 elective surgical; num = the control only = 1 -> 25 % */
    static const struct want w[] = { OK("fp.03", 1, 4, 25.0), OK("fp.03.48h", 1, 4, 25.0) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/*
 * Spec c.1 #3: numerator surgical ∧ day_surgery, denominator surgical ∧
 * elective; "day_surgery(r) [official definition ...]: planned admission and
 * discharge within 24 h"; c.0: elective(r) "reused for #3". An emergency
 * admission (RYTJ = 1) is not a planned admission, flag or not; counting it
 * puts a case in the numerator that is not in the denominator (a share of
 * elective surgery above 100 % becomes possible).
 */
static void
test_fp03_spec_flagged_emergency(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* e1: emergency, flagged day surgery: in neither */
        (const struct kv[]){ { F(RYTJ), "1" }, { PX(1, CODE), "51.2300" },
                             { PX(1, SFRJSS), "1" },
                             { F(CYSJ), "2025-01-10 20:00:00" }, { F(SJZYTS), "1" }, END },
        /* e2: elective, flagged: num and den */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, SFRJSS), "1" },
                             { F(CYSJ), "2025-01-10 20:00:00" }, { F(SJZYTS), "1" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    static const struct want w[] = { OK("fp.03", 1, 1, 100.0) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/* ---- #4 surgery share ------------------------------------------------------ */

static void
test_fp04_surgery(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* s1: three operations in one stay: one person */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(2, CODE), "47.0100" },
                             { PX(3, CODE), "53.0002" }, { PX(1, LEVEL), "3" }, END },
        /* s2: intervention (介入治疗) counts */
        (const struct kv[]){ { PX(1, CODE), "36.0601" }, END },
        /* s3: therapeutic procedure only, even with SSJB 4: no */
        (const struct kv[]){ { PX(1, CODE), "45.4200" }, { PX(1, LEVEL), "4" }, END },
        /* s4: diagnostic procedure only, SSJB 3: no (category, not SSJB) */
        (const struct kv[]){ { PX(1, CODE), "45.2300" }, { PX(1, LEVEL), "3" }, END },
        /* s5: no procedure */
        (const struct kv[]){ END },
        /* s6: code not in the catalogue (QC-PX-01 rejects it): not surgical */
        (const struct kv[]){ { PX(1, CODE), "99.9999" }, { PX(1, LEVEL), "4" }, END },
        /* s7: diagnostic in slot 1, operation in slot 2: yes */
        (const struct kv[]){ { PX(1, CODE), "88.7201" }, { PX(2, CODE), "47.0900" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /* surgical = s1 s2 s7 = 3 of n = 7 -> 300/7 % */
    static const struct want w[] = { OK("fp.04", 3, 7, 300.0 / 7), OK("fp.n", 7, 1, 7) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/* ---- #5 MIS, #6 level 4 -------------------------------------------------- */

static const struct kv *const mis_l4_recs[] = {
    /* m1: 51.2300 (MIS 51.23) */
    (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, LEVEL), "3" }, END },
    /* m2: 47.0900 operation, no list */
    (const struct kv[]){ { PX(1, CODE), "47.0900" }, { PX(1, LEVEL), "2" }, END },
    /* m3: 45.4200 is in the MIS test list but only therapeutic: not surgical, so
       not in #5 ("surgical(r) ∧ ∃n: SSJCZBMn ∈ MIS catalogue") */
    (const struct kv[]){ { PX(1, CODE), "45.4200" }, END },
    /* m4: 81.5100 (level-4 81.51), SSJB 3 */
    (const struct kv[]){ { PX(1, CODE), "81.5100" }, { PX(1, LEVEL), "3" }, END },
    /* m5: interventions 00.6600 (SSJB 3) and, in slot 2, 36.0601 (level-4 36.06,
       SSJB 4) */
    (const struct kv[]){ { PX(1, CODE), "00.6600" }, { PX(1, LEVEL), "3" },
                         { PX(2, CODE), "36.0601" }, { PX(2, LEVEL), "4" }, END },
    /* m6: 47.0900 SSJB 2 (no list) and, in slot 2, 51.2300 SSJB 4 (MIS); two
       operations: one person */
    (const struct kv[]){ { PX(1, CODE), "47.0900" }, { PX(1, LEVEL), "2" },
                         { PX(2, CODE), "51.2300" }, { PX(2, LEVEL), "4" }, END },
    /* m7: medical */
    (const struct kv[]){ END },
    /* m8: 81.5201 (81.51 does not cover 81.52), SSJB 3 */
    (const struct kv[]){ { PX(1, CODE), "81.5201" }, { PX(1, LEVEL), "3" }, END },
};

static void
test_fp05_fp06_catalogues(void **state)
{
    (void)state;
    struct cb_fact f[NELEM(mis_l4_recs)];

    /*
     * surgical = m1 m2 m4 m5 m6 m8 = 6
     * mis      = m1 m6 = 2            (m3 is not surgical)
     * level4   = m4 m5 = 2            (catalogue, not SSJB: m4 has SSJB 3)
     * proxy    = m5 m6 = 2            (SSJB = 4)
     */
    derive(mis_l4_recs, NELEM(mis_l4_recs), &g_cat_full, 1, 1, f);
    static const struct want w[] = {
        OK("fp.05", 2, 6, 100.0 / 3),
        OK("fp.06", 2, 6, 100.0 / 3),
        OK("fp.06.proxy", 2, 6, 100.0 / 3),
        OK("fp.04", 6, 8, 75.0),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat_full, false));

    /* No MIS / level-4 catalogue loaded: "not computable: catalogue missing",
       never 0; the proxy is computed under its own id */
    derive(mis_l4_recs, NELEM(mis_l4_recs), &g_cat, 1, 1, f);
    for (size_t i = 0; i < NELEM(f); i++)
        assert_false(f[i].flags & (CB_FACT_MIS | CB_FACT_LEVEL4));
    static const struct want w2[] = {
        NC("fp.05", "catalogue missing"),
        NC("fp.06", "catalogue missing"),
        OK("fp.06.proxy", 2, 6, 100.0 / 3),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w2, have_of(&g_cat, false));

    /* The proxy never feeds the catalogue indicator, nor the reverse */
    const struct cb_indicator *l4 = cb_indicator_find(&g_set, cb_str_c("fp.06"));
    const struct cb_indicator *px = cb_indicator_find(&g_set, cb_str_c("fp.06.proxy"));
    assert_non_null(l4);
    assert_non_null(px);
    assert_int_equal(l4->num, CB_C_level4);
    assert_int_equal(px->num, CB_C_level4_proxy);
    assert_true(l4->needs & CB_NEED_LEVEL4);
    assert_false(px->needs & CB_NEED_LEVEL4);
}

/*
 * Spec c.1 #6: denominator |{r : surgical(r)}|; the local proxy uses SSJBn = 4
 * ("Implementations also count interventions managed as level 4"); spec a.8:
 * SSJB is an item of category 手术 or 介入治疗 and "national indicators #6 use
 * the national catalogue, not this field". A level of 4 written on a
 * diagnostic procedure is not a level-4 operation: the proxy's numerator must
 * stay within its denominator. (The level-3 proxy already requires an
 * operation; the level-4 one does not.)
 */
static void
test_fp06_spec_proxy_operations_only(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* p1: medical stay with a colonoscopy marked SSJB 4: not surgical */
        (const struct kv[]){ { PX(1, CODE), "45.2300" }, { PX(1, LEVEL), "4" }, END },
        /* p2: operation of level 3, echocardiography marked SSJB 4 */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, LEVEL), "3" },
                             { PX(2, CODE), "88.7201" }, { PX(2, LEVEL), "4" }, END },
        /* p3: level-4 operation */
        (const struct kv[]){ { PX(1, CODE), "81.5100" }, { PX(1, LEVEL), "4" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /* surgical = p2 p3; level-4 operations: p3 -> 1 / 2 */
    static const struct want w[] = { OK("fp.06.proxy", 1, 2, 50.0) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/* ---- #8 post-operative complications ---------------------------------- */

static void
test_fp08_complications(void **state)
{
    (void)state;
    /* All surgical with 51.2300 unless said otherwise; base RYTJ 2 (elective). */
    const struct kv *recs[] = {
        /* c1: T81.400 (prefix T81) with RYBQ1 = 4: num */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c2: same code present on admission (RYBQ1 = 1): den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "1" }, END },
        /* c3: emergency admission with a complication: excluded */
        (const struct kv[]){ { F(RYTJ), "1" }, { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c4: principal diagnosis in C with RYBQ = 4: num */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { F(JBDM), "T81.000" }, { F(RYBQ), "4" }, END },
        /* c5: principal in C, RYBQ = 1: den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { F(JBDM), "T81.000" }, { F(RYBQ), "1" }, END },
        /* c6: obstetric principal (O82.000), caesarean, complication: excluded */
        (const struct kv[]){ { F(XB), "2" }, { F(NL), "30" }, { F(JBDM), "O82.000" },
                             { PX(1, CODE), "74.1x01" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c7: neonate (NL 0, 28 days: BZYZS_NL <= 28 inclusive), complication:
           excluded */
        (const struct kv[]){ { F(NL), "0" }, { F(BZYZS_NL), "28" }, { F(JBDM), "Q21.000" },
                             { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c8: infant of 29 days (> 28): not neonatal: num */
        (const struct kv[]){ { F(NL), "0" }, { F(BZYZS_NL), "29" }, { F(JBDM), "Q21.000" },
                             { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c9: perinatal principal P07.300 at age 1: excluded */
        (const struct kv[]){ { F(NL), "1" }, { F(JBDM), "P07.300" },
                             { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c10: not surgical (colonoscopy) with a complication: excluded */
        (const struct kv[]){ { PX(1, CODE), "45.2300" },
                             { DX(1, CODE), "T81.400" }, { DX(1, POA), "4" }, END },
        /* c11: two complications (slots 2 and 3) and two operations: one person */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(2, CODE), "47.0100" },
                             { DX(1, CODE), "I10.x00" }, { DX(1, POA), "1" },
                             { DX(2, CODE), "J96.000" }, { DX(2, POA), "4" },
                             { DX(3, CODE), "T81.400" }, { DX(3, POA), "4" }, END },
        /* c12: I80.300 arising in hospital: the list has I80.2, not I80.3: den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { DX(1, CODE), "I80.300" }, { DX(1, POA), "4" }, END },
        /* c13: intervention with I97.800 arising in hospital: num */
        (const struct kv[]){ { PX(1, CODE), "36.0601" },
                             { DX(1, CODE), "I97.800" }, { DX(1, POA), "4" }, END },
        /* c14: no complication: den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /*
     * S = surgical ∧ elective ∧ ¬obstetric/neonatal
     *   = c1 c2 c4 c5 c8 c11 c12 c13 c14 = 9
     * num = c1 c4 c8 c11 c13 = 5 -> 500/9 %
     */
    static const struct want w[] = { OK("fp.08", 5, 9, 500.0 / 9) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
    assert_true(f[5].flags & CB_FACT_OBST_NEONATAL);
    assert_true(f[6].flags & CB_FACT_OBST_NEONATAL);
    assert_false(f[7].flags & CB_FACT_OBST_NEONATAL);
    assert_true(f[8].flags & CB_FACT_OBST_NEONATAL);

    static const struct want w2[] = { NC("fp.08", "catalogue missing") };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w2, have_of(&g_cat, false) & ~CB_NEED_COMPLICATION);
}

/* ---- #9 clean-wound infection ----------------------------------------- */

static void
test_fp09_ssi(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* i1: class I, 丙: num, den */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "3" }, END },
        /* i2: class I 甲 in slot 1, 丙 over class II in slot 2: den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "1" },
                             { PX(2, CODE), "47.0100" },
                             { PX(2, QKDJ), "2" }, { PX(2, QKYHLB), "3" }, END },
        /* i3: class I, 其他 (4): stays in the denominator */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "4" }, END },
        /* i4: class II 丙: neither */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "2" }, { PX(1, QKYHLB), "3" }, END },
        /* i5: three class-I slots, two of them 丙: one person */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "3" },
                             { PX(2, CODE), "47.0100" },
                             { PX(2, QKDJ), "1" }, { PX(2, QKYHLB), "3" },
                             { PX(3, CODE), "53.0002" },
                             { PX(3, QKDJ), "1" }, { PX(3, QKYHLB), "1" }, END },
        /* i6: class 0: neither */
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, QKDJ), "0" }, END },
        /* i7: class I 甲 in slot 1, class I 丙 in slot 2: num */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "1" },
                             { PX(2, CODE), "47.0100" },
                             { PX(2, QKDJ), "1" }, { PX(2, QKYHLB), "3" }, END },
        /* i8: class I 乙: den only */
        (const struct kv[]){ { PX(1, CODE), "51.2300" },
                             { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "2" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /* den = i1 i2 i3 i5 i7 i8 = 6; num = i1 i5 i7 = 3 -> 50 % */
    static const struct want w[] = { OK("fp.09", 3, 6, 50.0) };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/* ---- #10 single diseases --------------------------------------------------- */

static void
test_fp10_cohorts(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* k1: AMI, death, 7 d, 30000.00 -> cohort 1 */
        (const struct kv[]){ { F(JBDM), "I21.000" }, { F(LYFS), "5" }, { F(SJZYTS), "7" },
                             { F(ZFY), "30000.00" }, END },
        /* k2: AMI 10 d, 20000.55 -> cohort 1 */
        (const struct kv[]){ { F(JBDM), "I21.400" }, { F(SJZYTS), "10" },
                             { F(ZFY), "20000.55" }, END },
        /* k3: I22.000 (subsequent MI) -> none */
        (const struct kv[]){ { F(JBDM), "I22.000" }, { F(SJZYTS), "9" }, END },
        /* k4: pneumonia at 18 -> adult (3); 8 d, 5000.00 */
        (const struct kv[]){ { F(JBDM), "J18.900" }, { F(NL), "18" }, { F(SJZYTS), "8" },
                             { F(ZFY), "5000.00" }, END },
        /* k5: pneumonia at 17 -> child (4), death; 5 d, 3000.00 */
        (const struct kv[]){ { F(JBDM), "J18.900" }, { F(NL), "17" }, { F(LYFS), "5" },
                             { F(SJZYTS), "5" }, { F(ZFY), "3000.00" }, END },
        /* k6: pneumonia at 100 days -> child (4); 6 d, 4000.10 */
        (const struct kv[]){ { F(JBDM), "J15.900" }, { F(NL), "0" }, { F(BZYZS_NL), "100" },
                             { F(SJZYTS), "6" }, { F(ZFY), "4000.10" }, END },
        /* k7: pneumonia at 80, death -> adult (3); 12 d, 9000.00 */
        (const struct kv[]){ { F(JBDM), "J13.x00" }, { F(NL), "80" }, { F(LYFS), "5" },
                             { F(SJZYTS), "12" }, { F(ZFY), "9000.00" }, END },
        /* k8: I63.301 is excluded from cohort 5 */
        (const struct kv[]){ { F(JBDM), "I63.301" }, { F(SJZYTS), "20" }, END },
        /* k9: I63.300 -> cohort 5; 14 d, 15000.00 */
        (const struct kv[]){ { F(JBDM), "I63.300" }, { F(SJZYTS), "14" },
                             { F(ZFY), "15000.00" }, END },
        /* k10: I63.900 death -> cohort 5; 3 d, 8000.00 */
        (const struct kv[]){ { F(JBDM), "I63.900" }, { F(LYFS), "5" }, { F(SJZYTS), "3" },
                             { F(ZFY), "8000.00" }, END },
        /* k11: principal procedure 81.5100 -> cohort 6; 15 d, 60000.00 */
        (const struct kv[]){ { PX(1, CODE), "81.5100" }, { F(SJZYTS), "15" },
                             { F(ZFY), "60000.00" }, END },
        /* k12: 81.5101: 81.5100 is literal (c.5.4): not cohort 6 */
        (const struct kv[]){ { PX(1, CODE), "81.5101" }, { F(SJZYTS), "15" }, END },
        /* k13: 81.5201 (人工股骨头置换术): not covered by 81.5200 */
        (const struct kv[]){ { PX(1, CODE), "81.5201" }, { F(SJZYTS), "15" }, END },
        /* k14: 81.5200 death -> cohort 6; 11 d, 50000.00 */
        (const struct kv[]){ { PX(1, CODE), "81.5200" }, { F(LYFS), "5" },
                             { F(SJZYTS), "11" }, { F(ZFY), "50000.00" }, END },
        /* k15: hip replacement in slot 2 only: principal procedure decides: not 6 */
        (const struct kv[]){ { PX(1, CODE), "47.0100" }, { PX(2, CODE), "81.5100" }, END },
        /* k16: caesarean 74.1x01 principal -> cohort 9; 4 d, 7000.00 */
        (const struct kv[]){ { F(XB), "2" }, { F(NL), "30" }, { F(JBDM), "O82.000" },
                             { PX(1, CODE), "74.1x01" }, { F(SJZYTS), "4" },
                             { F(ZFY), "7000.00" }, END },
        /* k17: 74.0x00 principal -> cohort 9; 6 d, 8000.00 */
        (const struct kv[]){ { F(XB), "2" }, { F(NL), "31" }, { F(JBDM), "O82.000" },
                             { PX(1, CODE), "74.0x00" }, { F(SJZYTS), "6" },
                             { F(ZFY), "8000.00" }, END },
        /* k18: caesarean only in slot 2: not 9 */
        (const struct kv[]){ { F(XB), "2" }, { F(NL), "32" }, { F(JBDM), "O82.000" },
                             { PX(1, CODE), "47.0100" }, { PX(2, CODE), "74.1x01" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    /*
     * 1: k1 k2: n 2, los 17, zfy 3000000 + 2000055 = 5000055 fen, deaths 1
     * 3: k4 k7: n 2, los 20, zfy 500000 + 900000 = 1400000, deaths 1
     * 4: k5 k6: n 2, los 11, zfy 300000 + 400010 = 700010, deaths 1
     * 5: k9 k10: n 2, los 17, zfy 1500000 + 800000 = 2300000, deaths 1
     * 6: k11 k14: n 2, los 26, zfy 6000000 + 5000000 = 11000000, deaths 1
     * 9: k16 k17: n 2, los 10, zfy 700000 + 800000 = 1500000, deaths 0
     * 2, 7, 8, 10: none (counts 0; means not computable)
     */
    static const struct want w[] = {
        OK("fp.10.1.n", 2, 1, 2), OK("fp.10.1.alos", 17, 2, 8.5),
        OK("fp.10.1.cost", 5000055, 2, 25000.275), OK("fp.10.1.mort", 1, 2, 50.0),
        OK("fp.10.3.n", 2, 1, 2), OK("fp.10.3.alos", 20, 2, 10.0),
        OK("fp.10.3.cost", 1400000, 2, 7000.0), OK("fp.10.3.mort", 1, 2, 50.0),
        OK("fp.10.4.n", 2, 1, 2), OK("fp.10.4.alos", 11, 2, 5.5),
        OK("fp.10.4.cost", 700010, 2, 3500.05), OK("fp.10.4.mort", 1, 2, 50.0),
        OK("fp.10.5.n", 2, 1, 2), OK("fp.10.5.alos", 17, 2, 8.5),
        OK("fp.10.5.cost", 2300000, 2, 11500.0), OK("fp.10.5.mort", 1, 2, 50.0),
        OK("fp.10.6.n", 2, 1, 2), OK("fp.10.6.alos", 26, 2, 13.0),
        OK("fp.10.6.cost", 11000000, 2, 55000.0), OK("fp.10.6.mort", 1, 2, 50.0),
        OK("fp.10.9.n", 2, 1, 2), OK("fp.10.9.alos", 10, 2, 5.0),
        OK("fp.10.9.cost", 1500000, 2, 7500.0), OK("fp.10.9.mort", 0, 2, 0.0),
        OK("fp.10.2.n", 0, 1, 0), NC("fp.10.2.alos", "empty denominator"),
        OK("fp.10.7.n", 0, 1, 0), NC("fp.10.7.mort", "empty denominator"),
        OK("fp.10.8.n", 0, 1, 0), NC("fp.10.8.cost", "empty denominator"),
        OK("fp.10.10.n", 0, 1, 0), NC("fp.10.10.alos", "empty denominator"),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
    assert_int_equal(f[0].cohorts, 1u << 0);
    assert_int_equal(f[2].cohorts, 0);
    assert_int_equal(f[7].cohorts, 0);
    assert_int_equal(f[11].cohorts, 0);
    assert_int_equal(f[12].cohorts, 0);
    assert_int_equal(f[14].cohorts, 0);
    assert_int_equal(f[17].cohorts, 0);
}

/* ---- supporting measures ------------------------------------------------- */

static void
test_support_measures(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* u1: 5 d, ZFY 10000.00; XYF 2000.00 ⊃ KJYWF 500.00 (sub-item, not added),
           ZCYF 300.00, ZCYF1 200.00 -> drug 2500.00; HCYYCLF 100.00 + YYCLF 50.00 +
           YCXYYCLF 1000.00 -> material 1150.00; SSZLF ⊃ SSF not materials */
        (const struct kv[]){ { F(SJZYTS), "5" }, { F(ZFY), "10000.00" },
                             { F(XYF), "2000.00" }, { F(KJYWF), "500.00" },
                             { F(ZCYF), "300.00" }, { F(ZCYF1), "200.00" },
                             { F(HCYYCLF), "100.00" }, { F(YYCLF), "50.00" },
                             { F(YCXYYCLF), "1000.00" }, { F(SSZLF), "3000.00" },
                             { F(SSF), "2000.00" }, END },
        /* u2: death, 12 d, 23456.78; drug 5000.01; material 1234.56 */
        (const struct kv[]){ { F(LYFS), "5" }, { F(SJZYTS), "12" }, { F(ZFY), "23456.78" },
                             { F(XYF), "5000.01" }, { F(YYCLF), "1234.56" }, END },
        /* u3: down-referral, 1 d, 800.50, no drug, no material */
        (const struct kv[]){ { F(LYFS), "3" }, { F(SJZYTS), "1" }, { F(ZFY), "800.50" },
                             END },
        /* u4: transfer (LYFS 2), 30 d, 50000.00; drug 10000.00 + 0.99; material 0.01 */
        (const struct kv[]){ { F(LYFS), "2" }, { F(SJZYTS), "30" }, { F(ZFY), "50000.00" },
                             { F(XYF), "10000.00" }, { F(ZCYF1), "0.99" },
                             { F(HCYYCLF), "0.01" }, END },
        /* u5: death, 2 d, 1999.99, drug 1999.99 */
        (const struct kv[]){ { F(LYFS), "5" }, { F(SJZYTS), "2" }, { F(ZFY), "1999.99" },
                             { F(XYF), "1999.99" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    assert_int_equal(f[0].drug, 250000);
    assert_int_equal(f[0].material, 115000);
    /*
     * n 5; deaths 2 (u2 u5); los 5+12+1+30+2 = 50
     * zfy 1000000 + 2345678 + 80050 + 5000000 + 199999 = 8625727 fen
     * drug 250000 + 500001 + 0 + 1000099 + 199999 = 1950099 fen
     * material 115000 + 123456 + 0 + 1 + 0 = 238457 fen
     */
    static const struct want w[] = {
        OK("fp.alos", 50, 5, 10.0),
        OK("fp.bed_days", 50, 1, 50),
        OK("fp.mortality", 2, 5, 40.0),
        OK("fp.cost", 8625727, 5, 17251.454),
        OK("fp.drug_share", 1950099, 8625727, 22.607937858455294),
        OK("fp.material_share", 238457, 8625727, 2.7644858224703843),
        OK("fp.02", 1, 1, 1),
    };
    CHECK_FACTS(f, NELEM(f), 1, NULL, w, have_of(&g_cat, false));
}

/*
 * Spec a.10: "(14) 中成药费 (TCM ⊃ 医疗机构中药制剂费 ZYZJF)" and "Derived amounts
 * used by indicators: drug cost DRUG = XYF + ZCYF + ZCYF1 ... (never add the
 * 其中 sub-items)". ZYZJF is part of ZCYF (QC checks ZYZJF <= ZCYF as a
 * sub-item); adding it again counts it twice.
 */
static void
test_drug_share_spec_tcm_subitem(void **state)
{
    (void)state;
    const struct kv *recs[] = {
        /* ZFY 1000.00; XYF 100.00 + ZCYF 50.00 (⊃ ZYZJF 20.00) + ZCYF1 30.00 = 180.00 */
        (const struct kv[]){ { F(ZFY), "1000.00" }, { F(XYF), "100.00" },
                             { F(ZCYF), "50.00" }, { F(ZYZJF), "20.00" },
                             { F(ZCYF1), "30.00" }, END },
    };
    struct cb_fact f[1];

    derive(recs, 1, &g_cat, 1, 1, f);
    static const struct want w[] = { OK("fp.drug_share", 18000, 100000, 18.0) };
    CHECK_FACTS(f, 1, 1, NULL, w, have_of(&g_cat, false));
}

/* ---- a hospital without surgery, an empty period ------------------------- */

static void
test_no_surgery_and_empty_period(void **state)
{
    (void)state;
    const struct kv *h1[] = {
        (const struct kv[]){ { PX(1, CODE), "51.2300" }, { PX(1, QKDJ), "1" },
                             { PX(1, QKYHLB), "1" }, END },
        (const struct kv[]){ END },
    };
    const struct kv *h2[] = {   /* medical stays only, one with a diagnostic procedure */
        (const struct kv[]){ END },
        (const struct kv[]){ { PX(1, CODE), "45.2300" }, END },
        (const struct kv[]){ { F(LYFS), "5" }, END },
    };
    struct cb_fact f[5];

    derive(h1, 2, &g_cat_full, 1, 1, f);
    derive(h2, 3, &g_cat_full, 3, 2, f + 2);
    struct cb_engine *e = engine_with(f, 5);
    struct cb_engine_result res;
    uint32_t have = have_of(&g_cat_full, false);

    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_ALL, NULL, &res);
    assert_int_equal(res.nrows, 2);
    /* hospital 2: n 3, no surgical person: #3 #5 #6 #8 #9 have empty
       denominators; #4 is a real 0 % (0 of 3) */
    static const struct want w2[] = {
        OK("fp.04", 0, 3, 0.0),
        NC("fp.03", "empty denominator"),
        NC("fp.05", "empty denominator"),
        NC("fp.06", "empty denominator"),
        NC("fp.06.proxy", "empty denominator"),
        NC("fp.08", "empty denominator"),
        NC("fp.09", "empty denominator"),
        OK("fp.mortality", 1, 3, 100.0 / 3),
    };
    CHECK(w2, &row_of(&res, 2, 0)->agg, res.ndrg_words, have);
    static const struct want w1[] = {
        OK("fp.04", 1, 2, 50.0), OK("fp.05", 1, 1, 100.0), OK("fp.06", 0, 1, 0.0),
        OK("fp.08", 0, 1, 0.0), OK("fp.09", 0, 1, 0.0),
    };
    CHECK(w1, &row_of(&res, 1, 0)->agg, res.ndrg_words, have);
    cb_engine_result_release(&res);

    /* An empty period (March 2025: the facts are in January): no rows */
    struct cb_engine_query q;
    memset(&q, 0, sizeof q);
    q.unit = CB_UNIT_HOSPITAL;
    q.period = CB_PERIOD_MONTH;
    cb_period_bounds(CB_PERIOD_MONTH, 202503, &q.day_from, &q.day_to);
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 0);
    cb_engine_result_release(&res);
    /* (the same range with period "all": test_empty_results) */

    /* A caller that shows the period anyway evaluates an empty aggregate:
       every indicator is not computable, counts included, never 0 */
    struct cb_agg zero;
    uint64_t bits[2] = { 0, 0 };
    memset(&zero, 0, sizeof zero);
    zero.drgs = bits;
    static const struct want w0[] = {
        NC("fp.n", "no discharges"), NC("fp.02", "no discharges"),
        NC("fp.04", "empty denominator"), NC("fp.alos", "empty denominator"),
        NC("fp.10.1.n", "no discharges"), NC("drg.count", "no discharges"),
        NC("fp.cost", "empty denominator"), NC("drg.grouped_rate", "empty denominator"),
    };
    CHECK(w0, &zero, 2, have);
    for (int i = 0; i < g_set.n; i++) {
        struct cb_ind_value v;
        cb_indicator_eval(&g_set.ind[i], &zero, 2, have | CB_NEED_REFERENCE, &v);
        if (v.computable) {
            print_error("%s is computable on an empty period (value %g)\n",
                        g_set.ind[i].id, v.value);
            fail();
        }
    }
    cb_engine_free(e);
}

/* ---- DRG evaluation (c.4) and #14 ------------------------------------------ */

static void
test_drg_evaluation(void **state)
{
    (void)state;
    /* Reference: DRG ids 1..3 (0 unused); id 4 is absent (ndrg = 4). */
    double weight[4] = { NAN, 0.8, 1.5, 3.0 };
    double cost[4] = { NAN, 500000, 1200000, 3000000 };     /* Ē_g, fen */
    double los[4] = { NAN, 5, 8, 12 };                      /* L̄_g */
    int8_t risk[4] = { -1, 1, 2, 4 };
    struct cb_engine_ref ref = { 4, weight, cost, los, risk };
    const uint32_t G = CB_FACT_GROUPED, D = CB_FACT_DEATH;
    struct cb_fact f[] = {
        /* id, doctor, flags, zfy, drug, material, hospital, dept, day, los, cohorts, drg */
        { 1, 101, G | D, 400000, 0, 0, 1, 11, 9132, 4, 0, 1 },
        { 2, 101, G, 600000, 0, 0, 1, 11, 9132, 6, 0, 1 },
        { 3, 101, G, 500000, 0, 0, 1, 11, 9132, 5, 0, 1 },
        { 4, 101, G | D, 1800000, 0, 0, 1, 11, 9132, 12, 0, 2 },
        { 5, 101, G, 600000, 0, 0, 1, 11, 9132, 4, 0, 2 },
        { 6, 101, G | D, 3300000, 0, 0, 1, 11, 9132, 15, 0, 3 },
        /* DRG 4 is absent from the reference: skipped */
        { 7, 101, G, 1000000, 0, 0, 1, 11, 9132, 7, 0, 4 },
        /* ungrouped (no DRG), death */
        { 8, 101, D, 200000, 0, 0, 1, 11, 9132, 3, 0, 0 },
        /* a DRG id but grouped = false (status not SUCCESS): excluded */
        { 9, 101, D, 900000, 0, 0, 1, 11, 9132, 9, 0, 2 },
        /* hospital 2: one grouped case in DRG 2 (risk 2), none in a risk-1 DRG */
        { 10, 201, G, 1200000, 0, 0, 2, 21, 9132, 8, 0, 2 },
    };
    /*
     * Hospital 1: n = 9; grouped = f1..f7 = 7; distinct DRGs {1,2,3,4} = 4;
     * with reference: drg_cases = f1..f6 = 6, drg_skipped = 1 (f7)
     * TW = 3·0.8 + 2·1.5 + 1·3.0 = 8.4; CMI = 8.4 / 6 = 1.4
     * CEI = Σ cost_i / Ē_g(i) / N
     *     = (0.8 + 1.2 + 1.0 + 1.5 + 0.5 + 1.1) / 6 = 6.1 / 6
     *     (per DRG: 3·(500000/500000) + 2·(1200000/1200000) + 1·1.1 = 6.1)
     *     not the observed/expected form 7200000 / 6900000
     * TEI = (4/5 + 6/5 + 5/5 + 12/8 + 4/8 + 15/12) / 6 = 6.25 / 6
     * cost per weight = 7200000 fen / 8.4 = 857142.857... fen = 8571.428571... yuan
     * risk 1 (DRG 1): 3 cases, 1 death (f1); risk 2 (DRG 2): 2 cases, 1 death (f4);
     * f9's death is not grouped, f8 is ungrouped
     * grouped rate = 7 / 9
     */
    struct cb_engine *e = engine_with(f, NELEM(f));
    struct cb_engine_result res;
    uint32_t have = have_of(&g_cat, true);

    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_ALL, &ref, &res);
    assert_int_equal(res.nrows, 2);
    const struct cb_agg *a = &row_of(&res, 1, 0)->agg;
    assert_int_equal(a->c[CB_C_grouped], 7);
    assert_int_equal(a->c[CB_C_drg_cases], 6);
    assert_int_equal(a->c[CB_C_drg_skipped], 1);
    assert_int_equal(a->c[CB_C_weighted], 6);
    assert_int_equal(a->c[CB_C_risk4_n], 1);
    assert_int_equal(a->c[CB_C_risk4_deaths], 1);
    static const struct want w[] = {
        OK("drg.count", 4, 1, 4),
        OK("drg.tw", 8.4, 1, 8.4),
        OK("drg.cmi", 8.4, 6, 1.4),
        OK("drg.cei", 6.1, 6, 6.1 / 6),
        OK("drg.tei", 6.25, 6, 6.25 / 6),
        OK("drg.cost_per_weight", 7200000, 8.4, 8571.428571428571),
        OK("drg.lowrisk_mortality", 1, 3, 100.0 / 3),
        OK("drg.midlowrisk_mortality", 1, 2, 50.0),
        OK("fp.14", 1, 3, 100.0 / 3),
        OK("drg.grouped_rate", 7, 9, 700.0 / 9),
        OK("fp.n", 9, 1, 9),
    };
    CHECK(w, a, res.ndrg_words, have);
    {
        struct cb_ind_value v;
        cb_indicator_eval(cb_indicator_find(&g_set, cb_str_c("drg.cei")), a,
                          res.ndrg_words, have, &v);
        assert_true(fabs(v.value - 7200000.0 / 6900000.0) > 1e-3);
    }
    /* hospital 2: no case in a low-risk DRG -> #14 not computable */
    static const struct want w2[] = {
        NC("fp.14", "empty denominator"), OK("drg.midlowrisk_mortality", 0, 1, 0.0),
        OK("drg.cei", 1, 1, 1.0), OK("drg.count", 1, 1, 1),
    };
    CHECK(w2, &row_of(&res, 2, 0)->agg, res.ndrg_words, have);
    cb_engine_result_release(&res);

    /* Without a reference: the reference-based measures are not computable;
       the DRG count and the grouped rate still are */
    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_ALL, NULL, &res);
    static const struct want w3[] = {
        NC("fp.14", "no DRG reference"), NC("drg.cmi", "no DRG reference"),
        NC("drg.cei", "no DRG reference"), NC("drg.tw", "no DRG reference"),
        OK("drg.count", 4, 1, 4), OK("drg.grouped_rate", 7, 9, 700.0 / 9),
    };
    CHECK(w3, &row_of(&res, 1, 0)->agg, res.ndrg_words, have_of(&g_cat, false));
    cb_engine_result_release(&res);
    cb_engine_free(e);
}

/* ---- periods ------------------------------------------------------------ */

static bool
leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 2000-01-01, counted the slow way. */
static int
day_of(int y, int m, int d)
{
    static const int md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int n = 0;

    for (int yy = 2000; yy < y; yy++)
        n += leap(yy) ? 366 : 365;
    for (int mm = 1; mm < m; mm++)
        n += md[mm - 1] + (mm == 2 && leap(y));
    return n + d - 1;
}

static void
test_period_helpers(void **state)
{
    (void)state;
    uint16_t a, b;

    assert_int_equal(day_of(2025, 1, 1), 9132);
    assert_int_equal(cb_period_key(CB_PERIOD_MONTH, (uint16_t)day_of(2025, 1, 1)), 202501);
    assert_int_equal(cb_period_key(CB_PERIOD_MONTH, (uint16_t)day_of(2024, 12, 31)), 202412);
    assert_int_equal(cb_period_key(CB_PERIOD_MONTH, (uint16_t)day_of(2024, 2, 29)), 202402);
    assert_int_equal(cb_period_key(CB_PERIOD_QUARTER, (uint16_t)day_of(2025, 3, 31)), 20251);
    assert_int_equal(cb_period_key(CB_PERIOD_QUARTER, (uint16_t)day_of(2025, 4, 1)), 20252);
    assert_int_equal(cb_period_key(CB_PERIOD_QUARTER, (uint16_t)day_of(2024, 12, 31)), 20244);
    assert_int_equal(cb_period_key(CB_PERIOD_YEAR, (uint16_t)day_of(2025, 7, 4)), 2025);
    assert_int_equal(cb_period_key(CB_PERIOD_ALL, (uint16_t)day_of(2025, 7, 4)), 0);

    assert_int_equal(cb_period_prev(CB_PERIOD_MONTH, 202501), 202412);
    assert_int_equal(cb_period_prev(CB_PERIOD_MONTH, 202503), 202502);
    assert_int_equal(cb_period_prev(CB_PERIOD_QUARTER, 20251), 20244);
    assert_int_equal(cb_period_prev(CB_PERIOD_QUARTER, 20253), 20252);
    assert_int_equal(cb_period_prev(CB_PERIOD_YEAR, 2025), 2024);
    assert_int_equal(cb_period_last_year(CB_PERIOD_MONTH, 202501), 202401);
    assert_int_equal(cb_period_last_year(CB_PERIOD_QUARTER, 20252), 20242);
    assert_int_equal(cb_period_last_year(CB_PERIOD_YEAR, 2025), 2024);

    cb_period_bounds(CB_PERIOD_MONTH, 202402, &a, &b);     /* leap February */
    assert_int_equal(a, day_of(2024, 2, 1));
    assert_int_equal(b, day_of(2024, 2, 29));
    cb_period_bounds(CB_PERIOD_MONTH, 202412, &a, &b);
    assert_int_equal(a, day_of(2024, 12, 1));
    assert_int_equal(b, day_of(2024, 12, 31));
    cb_period_bounds(CB_PERIOD_QUARTER, 20244, &a, &b);
    assert_int_equal(a, day_of(2024, 10, 1));
    assert_int_equal(b, day_of(2024, 12, 31));
    cb_period_bounds(CB_PERIOD_QUARTER, 20251, &a, &b);
    assert_int_equal(a, day_of(2025, 1, 1));
    assert_int_equal(b, day_of(2025, 3, 31));
    cb_period_bounds(CB_PERIOD_YEAR, 2025, &a, &b);
    assert_int_equal(a, day_of(2025, 1, 1));
    assert_int_equal(b, day_of(2025, 12, 31));
    cb_period_bounds(CB_PERIOD_ALL, 0, &a, &b);
    assert_int_equal(a, 0);
    assert_int_equal(b, UINT16_MAX);
}

static void
expect_rows(const struct cb_engine *e, enum cb_period p, const int32_t *keys,
            const int64_t *n, const int64_t *surg, size_t nrows)
{
    struct cb_engine_result res;

    query(e, CB_UNIT_HOSPITAL, p, NULL, &res);
    if (res.nrows != nrows) {
        print_error("period %d: %zu rows, want %zu\n", (int)p, res.nrows, nrows);
        fail();
    }
    for (size_t i = 0; i < nrows; i++) {
        const struct cb_engine_row *r = &res.rows[i];
        if (r->hospital != 1 || r->period != keys[i] || r->agg.c[CB_C_n] != n[i] ||
            r->agg.c[CB_C_surgical] != surg[i]) {
            print_error("period %d row %zu: hospital %u key %d n %lld surgical %lld; "
                        "want 1 %d %lld %lld\n", (int)p, i, r->hospital, (int)r->period,
                        (long long)r->agg.c[CB_C_n], (long long)r->agg.c[CB_C_surgical],
                        (int)keys[i], (long long)n[i], (long long)surg[i]);
            fail();
        }
    }
    cb_engine_result_release(&res);
}

static void
test_periods(void **state)
{
    (void)state;
    /* Discharge time CYSJ selects the period (spec 0.1). */
    const struct kv *recs[] = {
        /* 2024-12: p0 */
        (const struct kv[]){ { F(RYSJ), "2024-12-20 08:00:00" },
                             { F(CYSJ), "2024-12-31 23:59:59" }, END },
        /* 2025-01: p1 (admitted in December) surgical, p2, p3 */
        (const struct kv[]){ { F(RYSJ), "2024-12-28 08:00:00" },
                             { F(CYSJ), "2025-01-01 00:00:00" },
                             { PX(1, CODE), "51.2300" }, END },
        (const struct kv[]){ { F(CYSJ), "2025-01-15 12:00:00" }, END },
        (const struct kv[]){ { F(RYSJ), "2025-01-30 08:00:00" },
                             { F(CYSJ), "2025-01-31 23:59:59" }, END },
        /* 2025-02: p4, p5 both surgical */
        (const struct kv[]){ { F(RYSJ), "2025-01-30 08:00:00" },
                             { F(CYSJ), "2025-02-01 00:00:00" },
                             { PX(1, CODE), "47.0100" }, END },
        (const struct kv[]){ { F(RYSJ), "2025-02-20 08:00:00" },
                             { F(CYSJ), "2025-02-28 10:00:00" },
                             { PX(1, CODE), "36.0601" }, END },
        /* 2025-04: p6 */
        (const struct kv[]){ { F(RYSJ), "2025-03-25 08:00:00" },
                             { F(CYSJ), "2025-04-01 09:00:00" }, END },
    };
    struct cb_fact f[NELEM(recs)];

    derive(recs, NELEM(recs), &g_cat, 1, 1, f);
    assert_int_equal(f[0].day, day_of(2024, 12, 31));
    assert_int_equal(f[1].day, day_of(2025, 1, 1));
    assert_int_equal(f[6].day, day_of(2025, 4, 1));
    struct cb_engine *e = engine_with(f, NELEM(f));

    /* months: no row for 202503 (no discharges) */
    static const int32_t mk[] = { 202412, 202501, 202502, 202504 };
    static const int64_t mn[] = { 1, 3, 2, 1 }, ms[] = { 0, 1, 2, 0 };
    expect_rows(e, CB_PERIOD_MONTH, mk, mn, ms, 4);
    static const int32_t qk[] = { 20244, 20251, 20252 };
    static const int64_t qn[] = { 1, 5, 1 }, qs[] = { 0, 3, 0 };
    expect_rows(e, CB_PERIOD_QUARTER, qk, qn, qs, 3);
    static const int32_t yk[] = { 2024, 2025 };
    static const int64_t yn[] = { 1, 6 }, ys[] = { 0, 3 };
    expect_rows(e, CB_PERIOD_YEAR, yk, yn, ys, 2);
    static const int32_t ak[] = { 0 };
    static const int64_t an[] = { 7 }, as[] = { 3 };
    expect_rows(e, CB_PERIOD_ALL, ak, an, as, 1);

    /* a date range: February 2025 by month -> one row, n 2 */
    struct cb_engine_query q;
    struct cb_engine_result res;
    memset(&q, 0, sizeof q);
    q.unit = CB_UNIT_HOSPITAL;
    q.period = CB_PERIOD_MONTH;
    cb_period_bounds(CB_PERIOD_MONTH, 202502, &q.day_from, &q.day_to);
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].period, 202502);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 2);
    cb_engine_result_release(&res);
    /* 2025 Q1 as one range, period all -> n 5 (not the December one) */
    q.period = CB_PERIOD_ALL;
    cb_period_bounds(CB_PERIOD_QUARTER, 20251, &q.day_from, &q.day_to);
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 5);
    assert_int_equal(res.rows[0].agg.c[CB_C_surgical], 3);
    cb_engine_result_release(&res);
    /* the previous quarter of 20251 is 20244: one discharge */
    cb_period_bounds(CB_PERIOD_QUARTER, cb_period_prev(CB_PERIOD_QUARTER, 20251),
                     &q.day_from, &q.day_to);
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 1);
    cb_engine_result_release(&res);
    cb_engine_free(e);
}

/* ---- units and the hospital filter ------------------------------------ */

static void
test_units_and_filter(void **state)
{
    (void)state;
    const uint32_t S = CB_FACT_SURGICAL | CB_FACT_ELECTIVE, M = CB_FACT_ELECTIVE;
    /* department ids are per (hospital, code), doctor ids too */
    struct cb_fact f[] = {
        /* id, doctor, flags, zfy, drug, material, hospital, dept, day, los, cohorts, drg */
        { 1, 101, S, 100, 0, 0, 1, 11, 9132, 1, 0, 0 },
        { 2, 101, M, 200, 0, 0, 1, 11, 9133, 2, 0, 0 },
        { 3, 102, S, 300, 0, 0, 1, 11, 9134, 3, 0, 0 },
        { 4, 103, M, 400, 0, 0, 1, 12, 9135, 4, 0, 0 },
        { 5, 201, S, 500, 0, 0, 2, 21, 9136, 5, 0, 0 },
        { 6, 201, S, 600, 0, 0, 2, 21, 9137, 6, 0, 0 },
    };
    struct cb_engine *e = engine_with(f, NELEM(f));
    struct cb_engine_result res;
    struct cb_engine_query q;

    /* departments: (1, 11) n 3 surgical 2 zfy 600; (1, 12) n 1 s 0; (2, 21) n 2 s 2 */
    query(e, CB_UNIT_DEPT, CB_PERIOD_ALL, NULL, &res);
    assert_int_equal(res.nrows, 3);
    static const struct { uint16_t h, d; int64_t n, s, zfy; } dr[] = {
        { 1, 11, 3, 2, 600 }, { 1, 12, 1, 0, 400 }, { 2, 21, 2, 2, 1100 },
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(res.rows[i].hospital, dr[i].h);
        assert_int_equal(res.rows[i].dept, dr[i].d);
        assert_int_equal(res.rows[i].doctor, 0);
        assert_int_equal(res.rows[i].agg.c[CB_C_n], dr[i].n);
        assert_int_equal(res.rows[i].agg.c[CB_C_surgical], dr[i].s);
        assert_int_equal(res.rows[i].agg.c[CB_C_zfy], dr[i].zfy);
    }
    cb_engine_result_release(&res);

    /* doctors: 101 n 2 s 1 los 3; 102 n 1 s 1; 103 n 1 s 0; 201 n 2 s 2 */
    query(e, CB_UNIT_DOCTOR, CB_PERIOD_ALL, NULL, &res);
    assert_int_equal(res.nrows, 4);
    static const struct { uint16_t h; uint32_t doc; int64_t n, s, los; } rr[] = {
        { 1, 101, 2, 1, 3 }, { 1, 102, 1, 1, 3 }, { 1, 103, 1, 0, 4 }, { 2, 201, 2, 2, 11 },
    };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(res.rows[i].hospital, rr[i].h);
        assert_int_equal(res.rows[i].doctor, rr[i].doc);
        assert_int_equal(res.rows[i].dept, 0);
        assert_int_equal(res.rows[i].agg.c[CB_C_n], rr[i].n);
        assert_int_equal(res.rows[i].agg.c[CB_C_surgical], rr[i].s);
        assert_int_equal(res.rows[i].agg.c[CB_C_los], rr[i].los);
    }
    cb_engine_result_release(&res);

    /* consortium (unit all): one row, n 6, surgical 4 */
    query(e, CB_UNIT_ALL, CB_PERIOD_ALL, NULL, &res);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].hospital, 0);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 6);
    assert_int_equal(res.rows[0].agg.c[CB_C_surgical], 4);
    cb_engine_result_release(&res);

    /* hospital filter: only hospital 1 */
    static const uint8_t allowed[3] = { 0, 1, 0 };
    memset(&q, 0, sizeof q);
    q.hospitals = allowed;
    q.nhospitals = 3;
    q.unit = CB_UNIT_HOSPITAL;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].hospital, 1);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 4);
    cb_engine_result_release(&res);
    q.unit = CB_UNIT_DEPT;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 2);
    assert_int_equal(res.rows[0].dept, 11);
    assert_int_equal(res.rows[1].dept, 12);
    cb_engine_result_release(&res);
    q.unit = CB_UNIT_ALL;      /* the consortium total of the allowed hospitals */
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 4);
    assert_int_equal(res.rows[0].agg.c[CB_C_zfy], 1000);
    cb_engine_result_release(&res);
    /* a mask shorter than the hospital ids excludes the ones beyond it */
    static const uint8_t only1[2] = { 0, 1 };
    q.hospitals = only1;
    q.nhospitals = 2;
    q.unit = CB_UNIT_HOSPITAL;
    q.period = CB_PERIOD_MONTH;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 1);
    assert_int_equal(res.rows[0].hospital, 1);
    assert_int_equal(res.rows[0].period, 202501);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 4);
    cb_engine_result_release(&res);
    q.hospitals = NULL;
    q.nhospitals = 0;
    q.period = CB_PERIOD_ALL;

    /* replace by record id, then remove */
    struct cb_fact g = f[4];
    g.flags = M;
    g.zfy = 50;
    assert_int_equal(cb_engine_put(e, &g, 1), CB_OK);
    assert_int_equal(cb_engine_count(e), 6);
    cb_engine_remove(e, 1);
    cb_engine_remove(e, 999);    /* absent: no-op */
    assert_int_equal(cb_engine_count(e), 5);
    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_ALL, NULL, &res);
    assert_int_equal(res.nrows, 2);
    assert_int_equal(res.rows[0].agg.c[CB_C_n], 3);           /* facts 2, 3, 4 */
    assert_int_equal(res.rows[0].agg.c[CB_C_surgical], 1);
    assert_int_equal(res.rows[1].agg.c[CB_C_n], 2);
    assert_int_equal(res.rows[1].agg.c[CB_C_surgical], 1);    /* fact 5 replaced */
    assert_int_equal(res.rows[1].agg.c[CB_C_zfy], 650);
    cb_engine_result_release(&res);
    cb_engine_free(e);
}

/* ---- random facts --------------------------------------------------------- */

static uint64_t g_rng;

static uint64_t
rnd(void)
{
    /* xorshift64* */
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1DULL;
}

static uint32_t
rndn(uint32_t n)
{
    return (uint32_t)((rnd() >> 11) % n);
}

#define RND_DRGS 25   /* ids 3·(0..24): 0 = none, up to 72 (two bitset words) */
#define RND_REF  60   /* the reference covers ids 0..59; 60..72 are absent */
#define RND_HOSP 5
#define RND_DAY0 8766 /* 2024-01-01 */
#define RND_DAYS 731  /* through 2025-12-31 */

static double g_rw[RND_REF], g_rcost[RND_REF], g_rlos[RND_REF];
static int8_t g_rrisk[RND_REF];

static struct cb_engine_ref
random_ref(void)
{
    for (int g = 0; g < RND_REF; g++) {
        g_rw[g] = g == 27 ? NAN : 0.25 * (1 + g % 8);          /* 27: no weight */
        g_rcost[g] = g == 21 ? NAN : 100000.0 + 12345.0 * g;   /* 21: no cases */
        g_rlos[g] = g == 33 ? 0 : 3.0 + 0.5 * g;               /* 33: no mean LOS */
        g_rrisk[g] = (int8_t)(g % 6 - 1);            /* -1 ungraded .. 4 */
    }
    struct cb_engine_ref r = { RND_REF, g_rw, g_rcost, g_rlos, g_rrisk };
    return r;
}

static void
random_facts(struct cb_fact *f, size_t n, uint64_t seed)
{
    g_rng = seed;
    for (size_t i = 0; i < n; i++) {
        struct cb_fact *x = &f[i];
        memset(x, 0, sizeof *x);
        x->record_id = (int64_t)i * 7 + 3;
        x->hospital = (uint16_t)(1 + rndn(RND_HOSP));
        x->dept = (uint16_t)(x->hospital * 10 + rndn(6));
        x->doctor = x->hospital * 100u + rndn(20);
        x->flags = (uint32_t)rnd() & ((1u << 20) - 1);
        x->zfy = rndn(5000000);
        x->drug = rndn(x->zfy + 1);
        x->material = rndn(x->zfy - x->drug + 1);
        x->day = (uint16_t)(RND_DAY0 + rndn(RND_DAYS));
        x->los = (uint16_t)(1 + rndn(60));
        x->cohorts = (uint16_t)(rnd() & rnd() & rnd() & 0x3ff);
        x->drg = (uint16_t)(3 * rndn(RND_DRGS));
    }
}

/* Month index 0..23 of a day in 2024..2025, the slow way. */
static int
month_index(uint16_t day)
{
    for (int y = 2024; y <= 2025; y++)
        for (int m = 1; m <= 12; m++) {
            int last = m == 12 ? day_of(y + 1, 1, 1) - 1 : day_of(y, m + 1, 1) - 1;
            if (day <= last)
                return (y - 2024) * 12 + m - 1;
        }
    return -1;
}

struct cell {
    int64_t  c[CB_C__N];
    double   r[CB_R__N];
    uint64_t drgs[2];
};

/* Plain recomputation of every counter of one fact (engine.h, spec c.0-c.4). */
static void
recompute(struct cell *cl, const struct cb_fact *x, const struct cb_engine_ref *ref)
{
    uint32_t fl = x->flags;
    bool surgical = (fl & CB_FACT_SURGICAL) != 0;
    bool elective = (fl & CB_FACT_ELECTIVE) != 0;
    bool death = (fl & CB_FACT_DEATH) != 0;
    int64_t *c = cl->c;

    c[CB_C_n] += 1;
    if (surgical)
        c[CB_C_surgical] += 1;
    if (surgical && elective)
        c[CB_C_elective_surgical] += 1;
    if (surgical && elective && !(fl & CB_FACT_OBST_NEONATAL)) {
        c[CB_C_s8_den] += 1;
        if (fl & CB_FACT_COMPLICATION)
            c[CB_C_s8_num] += 1;
    }
    if (fl & CB_FACT_DAY_SURGERY) c[CB_C_day24] += 1;
    if (fl & CB_FACT_DAY_SURGERY_48) c[CB_C_day48] += 1;
    if (fl & CB_FACT_MIS) c[CB_C_mis] += 1;
    if (fl & CB_FACT_LEVEL4) c[CB_C_level4] += 1;
    if (fl & CB_FACT_LEVEL4_PROXY) c[CB_C_level4_proxy] += 1;
    if (fl & CB_FACT_LEVEL3) c[CB_C_level3] += 1;
    if (fl & CB_FACT_LEVEL3_PROXY) c[CB_C_level3_proxy] += 1;
    if (fl & CB_FACT_INCISION_I) c[CB_C_incision_i] += 1;
    if (fl & CB_FACT_SSI_I) c[CB_C_ssi_i] += 1;
    if (death) c[CB_C_deaths] += 1;
    if (fl & CB_FACT_DOWN_REFERRAL) c[CB_C_down_referral] += 1;
    if (fl & CB_FACT_DOWN_TRANSFER) c[CB_C_down_transfer] += 1;
    if (fl & (CB_FACT_DOWN_REFERRAL | CB_FACT_DOWN_TRANSFER)) c[CB_C_down_referrals] += 1;
    c[CB_C_los] += x->los;
    c[CB_C_zfy] += x->zfy;
    c[CB_C_drug] += x->drug;
    c[CB_C_material] += x->material;
    for (int k = 0; k < CB_COHORTS; k++)
        if (x->cohorts & (1u << k)) {
            c[CB_C_COHORT + 4 * k + 0] += 1;
            c[CB_C_COHORT + 4 * k + 1] += x->los;
            c[CB_C_COHORT + 4 * k + 2] += x->zfy;
            if (death)
                c[CB_C_COHORT + 4 * k + 3] += 1;
        }
    if (!(fl & CB_FACT_GROUPED) || x->drg == 0)
        return;
    c[CB_C_grouped] += 1;
    cl->drgs[x->drg / 64] |= 1ull << (x->drg % 64);
    if (!ref)
        return;
    if (x->drg >= ref->ndrg || isnan(ref->mean_cost[x->drg])) {
        c[CB_C_drg_skipped] += 1;
        return;
    }
    c[CB_C_drg_cases] += 1;
    cl->r[CB_R_CEI] += x->zfy / ref->mean_cost[x->drg];
    if (ref->mean_los[x->drg] > 0)
        cl->r[CB_R_TEI] += x->los / ref->mean_los[x->drg];
    if (!isnan(ref->weight[x->drg])) {
        c[CB_C_weighted] += 1;
        c[CB_C_zfy_weighted] += x->zfy;
        cl->r[CB_R_TW] += ref->weight[x->drg];
    }
    int risk = ref->risk[x->drg];
    if (risk < 0) {
        c[CB_C_ungraded] += 1;
    } else {
        static const int nidx[5] = { CB_C_risk0_n, CB_C_risk1_n, CB_C_risk2_n,
                                     CB_C_risk3_n, CB_C_risk4_n };
        static const int didx[5] = { CB_C_risk0_deaths, CB_C_risk1_deaths,
                                     CB_C_risk2_deaths, CB_C_risk3_deaths,
                                     CB_C_risk4_deaths };
        c[nidx[risk]] += 1;
        if (death)
            c[didx[risk]] += 1;
    }
}

static int
row_cmp_key(const struct cb_engine_row *x, const struct cb_engine_row *y)
{
    if (x->hospital != y->hospital)
        return x->hospital < y->hospital ? -1 : 1;
    if (x->dept != y->dept)
        return x->dept < y->dept ? -1 : 1;
    if (x->doctor != y->doctor)
        return x->doctor < y->doctor ? -1 : 1;
    return (x->period > y->period) - (x->period < y->period);
}

static bool
rel_close(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fmax(1.0, fabs(b));
}

static void
test_random_crosscheck(void **state)
{
    (void)state;
    enum { N = 50000, NM = 24 };
    struct cb_fact *f = malloc(N * sizeof *f);
    struct cell *cells = calloc((RND_HOSP + 1) * NM, sizeof *cells);
    struct cb_engine_ref ref = random_ref();
    int errors = 0;

    assert_non_null(f);
    assert_non_null(cells);
    random_facts(f, N, 0x5EED2025ULL);
    for (size_t i = 0; i < N; i++) {
        int m = month_index(f[i].day);
        assert_true(m >= 0 && m < NM);
        recompute(&cells[f[i].hospital * NM + m], &f[i], &ref);
    }

    struct cb_engine *e = engine_with(f, N);
    struct cb_engine_result res;
    query(e, CB_UNIT_HOSPITAL, CB_PERIOD_MONTH, &ref, &res);

    size_t used = 0;
    for (int h = 0; h <= RND_HOSP; h++)
        for (int m = 0; m < NM; m++)
            used += cells[h * NM + m].c[CB_C_n] > 0;
    if (res.nrows != used) {
        print_error("%zu rows, want %zu (hospital, month) cells\n", res.nrows, used);
        errors++;
    }
    for (size_t i = 0; i < res.nrows && errors < 20; i++) {
        const struct cb_engine_row *r = &res.rows[i];
        int y = r->period / 100, mo = r->period % 100;
        if (i && row_cmp_key(&res.rows[i - 1], r) >= 0) {
            print_error("rows not sorted at %zu\n", i);
            errors++;
        }
        if (r->hospital < 1 || r->hospital > RND_HOSP || y < 2024 || y > 2025 || mo < 1 ||
            mo > 12) {
            print_error("unexpected row hospital %u period %d\n", r->hospital, (int)r->period);
            errors++;
            continue;
        }
        const struct cell *cl = &cells[r->hospital * NM + (y - 2024) * 12 + mo - 1];
        for (int k = 0; k < CB_C__N; k++)
            if (r->agg.c[k] != cl->c[k]) {
                print_error("hospital %u month %d counter %d: engine %lld, loops %lld\n",
                            r->hospital, (int)r->period, k, (long long)r->agg.c[k],
                            (long long)cl->c[k]);
                errors++;
            }
        for (int k = 0; k < CB_R__N; k++)
            if (!rel_close(r->agg.r[k], cl->r[k], 1e-12)) {
                print_error("hospital %u month %d real %d: engine %.17g, loops %.17g\n",
                            r->hospital, (int)r->period, k, r->agg.r[k], cl->r[k]);
                errors++;
            }
        double dc = cb_agg_value(&r->agg, CB_COUNTER_DRG_COUNT, res.ndrg_words);
        int want = __builtin_popcountll(cl->drgs[0]) + __builtin_popcountll(cl->drgs[1]);
        if (dc != (double)want ||
            (res.ndrg_words >= 2 && (r->agg.drgs[0] != cl->drgs[0] ||
                                     r->agg.drgs[1] != cl->drgs[1]))) {
            print_error("hospital %u month %d: drg_count %g, want %d\n", r->hospital,
                        (int)r->period, dc, want);
            errors++;
        }
    }
    cb_engine_result_release(&res);
    cb_engine_free(e);
    free(cells);
    free(f);
    if (errors)
        fail();
}

/* ---- threads ------------------------------------------------------------- */

static void
compare_results(const struct cb_engine_result *a, const struct cb_engine_result *b,
                const char *what, int *errors, bool *bit_identical)
{
    if (a->nrows != b->nrows || a->ndrg_words != b->ndrg_words) {
        print_error("%s: %zu rows / %d words vs %zu / %d\n", what, a->nrows,
                    a->ndrg_words, b->nrows, b->ndrg_words);
        (*errors)++;
        return;
    }
    for (size_t i = 0; i < a->nrows && *errors < 20; i++) {
        const struct cb_engine_row *x = &a->rows[i], *y = &b->rows[i];
        if (x->hospital != y->hospital || x->dept != y->dept || x->doctor != y->doctor ||
            x->period != y->period) {
            print_error("%s row %zu: keys differ\n", what, i);
            (*errors)++;
            continue;
        }
        if (memcmp(x->agg.c, y->agg.c, sizeof x->agg.c)) {
            print_error("%s row %zu: counters differ\n", what, i);
            (*errors)++;
        }
        if (memcmp(x->agg.drgs, y->agg.drgs, (size_t)a->ndrg_words * sizeof(uint64_t))) {
            print_error("%s row %zu: DRG sets differ\n", what, i);
            (*errors)++;
        }
        for (int k = 0; k < CB_R__N; k++) {
            if (x->agg.r[k] != y->agg.r[k])
                *bit_identical = false;
            if (!rel_close(x->agg.r[k], y->agg.r[k], 1e-12)) {
                print_error("%s row %zu real %d: %.17g vs %.17g\n", what, i, k,
                            x->agg.r[k], y->agg.r[k]);
                (*errors)++;
            }
        }
    }
}

static void
test_threads(void **state)
{
    (void)state;
    enum { N = 300000 };
    static const struct { enum cb_unit u; enum cb_period p; const char *what; } qs[] = {
        { CB_UNIT_HOSPITAL, CB_PERIOD_MONTH, "hospital x month" },
        { CB_UNIT_DEPT, CB_PERIOD_QUARTER, "department x quarter" },
        { CB_UNIT_DOCTOR, CB_PERIOD_ALL, "doctor" },
        { CB_UNIT_ALL, CB_PERIOD_YEAR, "all x year" },
    };
    struct cb_fact *f = malloc(N * sizeof *f);
    struct cb_engine_ref ref = random_ref();
    int errors = 0;
    bool bit_identical = true;

    assert_non_null(f);
    random_facts(f, N, 42);
    /* The query splits the facts by position (first half, second half): give
       the second half some DRGs and a hospital, department and doctor of its own,
       so the merge has rows and DRG bits that only the second thread saw. */
    for (size_t i = N / 2; i < N; i++) {
        if (f[i].drg && i % 3 == 0)
            f[i].drg = (uint16_t)(f[i].drg + 3 * RND_DRGS);    /* 75..147 */
        if (i % 1000 == 0) {
            f[i].hospital = RND_HOSP + 1;
            f[i].dept = (RND_HOSP + 1) * 10;
            f[i].doctor = (RND_HOSP + 1) * 100;
        }
    }
    struct cb_engine *e = engine_with(f, N);
    free(f);
    for (size_t i = 0; i < NELEM(qs); i++) {
        struct cb_engine_query q;
        struct cb_engine_result r1, r2;
        memset(&q, 0, sizeof q);
        q.unit = qs[i].u;
        q.period = qs[i].p;
        q.ref = &ref;
        q.threads = 1;
        assert_int_equal(cb_engine_query(e, &q, &r1), CB_OK);
        q.threads = 2;
        assert_int_equal(cb_engine_query(e, &q, &r2), CB_OK);
        assert_true(r1.nrows > 0);
        compare_results(&r1, &r2, qs[i].what, &errors, &bit_identical);
        int64_t n = 0;
        for (size_t k = 0; k < r2.nrows; k++)
            n += r2.rows[k].agg.c[CB_C_n];
        assert_int_equal(n, N);
        cb_engine_result_release(&r1);
        cb_engine_result_release(&r2);
    }
    if (!bit_identical)
        print_message("note: real-valued sums (tw, cei, tei) differ in the last bits "
                      "between 1 and 2 threads (summation order)\n");
    cb_engine_free(e);
    if (errors)
        fail();
}

/* ---- catalogue files ----------------------------------------------------- */

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    if (!fp)
        return NULL;
    if (fseek(fp, 0, SEEK_END) || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET)) {
        fclose(fp);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* 1-based line number of the first line starting with prefix, or 0. */
static int
line_of(const char *text, const char *prefix)
{
    int line = 1;
    size_t n = strlen(prefix);

    for (const char *p = text; *p; line++) {
        if (!strncmp(p, prefix, n))
            return line;
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

/* Loads a bad copy; expects a failure whose message names file:line and text. */
static void
expect_load_error(const char *name, const char *data, int line, const char *text)
{
    char path[512], want[600];
    struct cb_indicator_set set;
    struct cb_buf err = CB_BUF_INIT;

    snprintf(path, sizeof path, "%s", tu_write_file(name, data, strlen(data)));
    assert_int_not_equal(cb_indicators_load(&set, path, &err), CB_OK);
    snprintf(want, sizeof want, "%s:%d:", path, line);
    if (!strstr(cb_buf_cstr(&err), want) || !strstr(cb_buf_cstr(&err), text)) {
        print_error("error \"%s\": want \"%s\" and \"%s\"\n", cb_buf_cstr(&err), want, text);
        fail();
    }
    assert_int_equal(set.n, 0);
    assert_null(set.ind);
    cb_buf_release(&err);
}

static void
test_indicator_catalogue_errors(void **state)
{
    (void)state;
    size_t len = 0;
    char *orig = slurp(tu_source("data/indicators/catalogue-2019.tsv"), &len);
    assert_non_null(orig);
    assert_string_equal(g_set.version, "2019.1");

    /* every indicator of the front-page part and the DRG evaluation is there */
    static const char *const ids[] = {
        "fp.02", "fp.03", "fp.03.48h", "fp.04", "fp.05", "fp.06", "fp.06.proxy", "fp.08",
        "fp.09", "fp.10.1.n", "fp.10.5.mort", "fp.10.10.cost", "fp.14", "fp.alos",
        "fp.mortality", "fp.cost", "fp.drug_share", "fp.material_share", "drg.count",
        "drg.tw", "drg.cmi", "drg.cei", "drg.tei", "drg.cost_per_weight",
        "drg.lowrisk_mortality", "drg.midlowrisk_mortality", "drg.grouped_rate",
    };
    for (size_t i = 0; i < NELEM(ids); i++)
        if (!cb_indicator_find(&g_set, cb_str_c(ids[i]))) {
            print_error("missing indicator %s\n", ids[i]);
            fail();
        }

    /* unknown numerator: the fp.04 row with "surgicle" */
    int l04 = line_of(orig, "fp.04\t");
    assert_true(l04 > 0);
    char *bad = malloc(len + 64);
    assert_non_null(bad);
    char *p = strstr(orig, "\tsurgical\tn\t");
    assert_non_null(p);
    snprintf(bad, len + 64, "%.*s\tsurgicle\tn\t%s", (int)(p - orig), orig,
             p + strlen("\tsurgical\tn\t"));
    assert_int_equal(line_of(bad, "fp.04\t"), l04);
    expect_load_error("bad-counter.tsv", bad, l04, "surgicle");

    /* unknown denominator */
    snprintf(bad, len + 64, "%.*s\tsurgical\tnn\t%s", (int)(p - orig), orig,
             p + strlen("\tsurgical\tn\t"));
    expect_load_error("bad-den.tsv", bad, l04, "\"nn\"");
    free(bad);

    /* a duplicate id: the fp.04 row appended at the end */
    const char *row = strstr(orig, "\nfp.04\t") + 1;
    size_t rowlen = (size_t)(strchr(row, '\n') - row) + 1;
    int last = 1;
    for (size_t i = 0; i < len; i++)
        last += orig[i] == '\n';
    char *dup = malloc(len + rowlen + 2);
    assert_non_null(dup);
    memcpy(dup, orig, len);
    memcpy(dup + len, row, rowlen);
    dup[len + rowlen] = '\0';
    assert_true(orig[len - 1] == '\n');
    expect_load_error("dup.tsv", dup, last, "duplicate indicator id fp.04");
    free(dup);

    /* an unknown need */
    static const char need[] =
        "id\tno\tlist\tname_zh\tname_en\tunit\tscale\tdirection\tmonitor\tnumerator\t"
        "denominator\tneeds\tnote\n"
        "x.1\t\tsupport\t甲\tA\t%\t100\tup\t\tsurgical\tn\tmis,levl4\t\n";
    expect_load_error("need.tsv", need, 2, "levl4");
    /* a bad header */
    static const char hdr[] = "# c\nid\tno\tlist\n";
    expect_load_error("hdr.tsv", hdr, 2, "header");
    free(orig);
}

static void
test_prefix_catalogue_files(void **state)
{
    (void)state;
    struct cb_catalogues c;
    struct cb_buf err = CB_BUF_INIT;
    char ref[512], data[512], path[512];
    struct cb_catalogue_paths p;

    snprintf(ref, sizeof ref, "%s", tu_shared("data/nhc-2019"));
    snprintf(data, sizeof data, "%s", tu_source("data"));
    memset(&p, 0, sizeof p);
    p.refdata_dir = ref;
    p.datadir = data;

    /* comments and a header but no code: an error naming the file */
    static const char empty[] = "# version: x\ncode\tnote\n\n";
    snprintf(path, sizeof path, "%s", tu_write_file("empty-mis.tsv", empty, strlen(empty)));
    p.mis = path;
    assert_int_not_equal(cb_catalogues_load(&c, &p, &err), CB_OK);
    assert_non_null(strstr(cb_buf_cstr(&err), path));
    cb_buf_reset(&err);

    /* a missing level-4 file */
    p.mis = NULL;
    p.level4 = "/nonexistent/level4.tsv";
    assert_int_equal(cb_catalogues_load(&c, &p, &err), CB_ERR_IO);
    assert_non_null(strstr(cb_buf_cstr(&err), "/nonexistent/level4.tsv"));
    cb_buf_reset(&err);

    /* CRLF, a note column and blank lines are fine */
    static const char crlf[] = "# version: crlf-1\r\ncode\tnote\r\n\r\n81.51\tx\r\n 36.06 \r\n";
    snprintf(path, sizeof path, "%s", tu_write_file("crlf.tsv", crlf, strlen(crlf)));
    p.level4 = path;
    assert_int_equal(cb_catalogues_load(&c, &p, &err), CB_OK);
    assert_string_equal(c.cat[CB_CAT_LEVEL4].version, "crlf-1");
    assert_true(cb_prefix_match(c.cat[CB_CAT_LEVEL4].codes, cb_str_c("81.5100")));
    assert_true(cb_prefix_match(c.cat[CB_CAT_LEVEL4].codes, cb_str_c("36.0601")));
    assert_false(cb_prefix_match(c.cat[CB_CAT_LEVEL4].codes, cb_str_c("code")));
    assert_false(cb_prefix_match(c.cat[CB_CAT_LEVEL4].codes, cb_str_c("81.5200")));
    cb_catalogues_release(&c);
    cb_buf_release(&err);
}

/* ---- queries with no result rows --------------------------------------- */

/*
 * Spec c.0 / issue 4 §8: "An empty period ... gives 'not computable' ...
 * never a crash". Queries that match no fact must return CB_OK and no rows:
 * a date range without discharges (period "all"), a hospital mask that
 * excludes every fact, an empty engine. Listed last: under the sanitizer
 * build a crash here would end the process.
 */
static void
test_empty_results(void **state)
{
    (void)state;
    struct cb_fact f[] = {
        /* id, doctor, flags, zfy, drug, material, hospital, dept, day, los, cohorts, drg */
        { 1, 101, CB_FACT_SURGICAL, 100, 0, 0, 1, 11, 9132, 1, 0, 0 },   /* 2025-01-01 */
        { 2, 201, 0, 200, 0, 0, 2, 21, 9140, 2, 0, 0 },                 /* 2025-01-09 */
    };
    struct cb_engine *e = engine_with(f, NELEM(f));
    struct cb_engine_query q;
    struct cb_engine_result res;
    static const uint8_t none[3] = { 0, 0, 0 };

    memset(&q, 0, sizeof q);
    q.unit = CB_UNIT_HOSPITAL;
    q.period = CB_PERIOD_ALL;
    cb_period_bounds(CB_PERIOD_MONTH, 202503, &q.day_from, &q.day_to);
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 0);
    cb_engine_result_release(&res);

    memset(&q, 0, sizeof q);
    q.unit = CB_UNIT_DEPT;
    q.period = CB_PERIOD_MONTH;
    q.hospitals = none;
    q.nhospitals = 3;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 0);
    cb_engine_result_release(&res);
    q.period = CB_PERIOD_ALL;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 0);
    cb_engine_result_release(&res);
    cb_engine_free(e);

    e = engine_with(NULL, 0);
    memset(&q, 0, sizeof q);
    q.unit = CB_UNIT_HOSPITAL;
    q.period = CB_PERIOD_ALL;
    assert_int_equal(cb_engine_query(e, &q, &res), CB_OK);
    assert_int_equal(res.nrows, 0);
    cb_engine_result_release(&res);
    cb_engine_free(e);
}

/* ---- setup ---------------------------------------------------------------- */

static int
setup(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_catalogue_paths p;
    char ref[512], data[512], ind[512];
    static const char mis[] =
        "# Minimally invasive surgery list for the unit tests (synthetic).\n"
        "# version: test-mis-1\n"
        "# source: test_indicators.c\n"
        "code\tnote\n"
        "51.23\t腹腔镜下胆囊切除术\n"
        "47.01\t腹腔镜下阑尾切除术\n"
        "45.42\t内镜下大肠息肉切除术 (治疗性操作)\n";
    static const char l4[] =
        "# version: test-l4-1\n"
        "code\n"
        "81.51\n"
        "36.06\n";
    (void)state;

    snprintf(ref, sizeof ref, "%s", tu_shared("data/nhc-2019"));
    snprintf(data, sizeof data, "%s", tu_source("data"));
    snprintf(ind, sizeof ind, "%s", tu_source("data/indicators/catalogue-2019.tsv"));
    snprintf(g_mis_path, sizeof g_mis_path, "%s", tu_write_file("mis.tsv", mis, strlen(mis)));
    snprintf(g_l4_path, sizeof g_l4_path, "%s", tu_write_file("level4.tsv", l4, strlen(l4)));
    memset(&p, 0, sizeof p);
    p.refdata_dir = ref;
    p.datadir = data;
    if (cb_refdata_load(&g_rd, ref, &err) != CB_OK ||
        cb_catalogues_load(&g_cat, &p, &err) != CB_OK)
        goto fail;
    p.mis = g_mis_path;
    p.level4 = g_l4_path;
    if (cb_catalogues_load(&g_cat_full, &p, &err) != CB_OK ||
        cb_indicators_load(&g_set, ind, &err) != CB_OK)
        goto fail;
    cb_buf_release(&err);
    return 0;
fail:
    print_error("setup: %s\n", cb_buf_cstr(&err));
    cb_buf_release(&err);
    return -1;
}

/* ---- the cube against the full pass --------------------------------------- */

/* Compares two results row by row: keys, every integer counter and the DRG
 * sets exactly, the real sums to a relative 1e-9 (summation order differs:
 * the cube multiplies per-DRG sums). Returns the number of mismatches. */
static int
compare_cube(const struct cb_engine_result *cube, const struct cb_engine_result *full,
             const char *what)
{
    int bad = 0;

    if (cube->nrows != full->nrows || cube->ndrg_words != full->ndrg_words) {
        print_error("%s: cube %zu rows / %d words, full pass %zu / %d\n", what,
                    cube->nrows, cube->ndrg_words, full->nrows, full->ndrg_words);
        return 1;
    }
    for (size_t i = 0; i < cube->nrows && bad < 10; i++) {
        const struct cb_engine_row *x = &cube->rows[i], *y = &full->rows[i];
        if (x->hospital != y->hospital || x->dept != y->dept || x->doctor != y->doctor ||
            x->period != y->period) {
            print_error("%s row %zu: keys %u/%u/%u/%d vs %u/%u/%u/%d\n", what, i,
                        x->hospital, x->dept, x->doctor, (int)x->period, y->hospital,
                        y->dept, y->doctor, (int)y->period);
            bad++;
            continue;
        }
        for (int k = 0; k < CB_C__N; k++)
            if (x->agg.c[k] != y->agg.c[k]) {
                print_error("%s row %zu counter %d: cube %lld, full pass %lld\n", what, i,
                            k, (long long)x->agg.c[k], (long long)y->agg.c[k]);
                bad++;
            }
        if (memcmp(x->agg.drgs, y->agg.drgs, (size_t)cube->ndrg_words * sizeof(uint64_t))) {
            print_error("%s row %zu: DRG sets differ\n", what, i);
            bad++;
        }
        for (int k = 0; k < CB_R__N; k++)
            if (!rel_close(x->agg.r[k], y->agg.r[k], 1e-9)) {
                print_error("%s row %zu real %d: cube %.17g, full pass %.17g\n", what, i, k,
                            x->agg.r[k], y->agg.r[k]);
                bad++;
            }
    }
    return bad;
}

/* Every unit and period, with and without the reference and a hospital
 * mask, over whole-month and other day ranges: the cube (queried by
 * default) against the full pass (no_cube), and the full pass alone for
 * what the cube does not serve (doctor, ranges not made of whole months). */
static int
compare_all_queries(const struct cb_engine *e, const struct cb_engine_ref *ref,
                    const char *stage)
{
    static const uint8_t mask[RND_HOSP + 1] = { 0, 1, 0, 1, 1, 0 };
    static const uint8_t short_mask[3] = { 1, 0, 1 };    /* hospitals >= 3 out */
    const struct { uint16_t from, to; } ranges[] = {
        { 0, 0 },                                             /* everything */
        { (uint16_t)day_of(2024, 3, 1), (uint16_t)day_of(2025, 2, 28) },
        { (uint16_t)day_of(2025, 1, 1), (uint16_t)day_of(2025, 1, 31) },
        { (uint16_t)day_of(2024, 3, 5), (uint16_t)day_of(2025, 2, 28) },  /* not aligned */
        { (uint16_t)day_of(2026, 1, 1), (uint16_t)day_of(2026, 12, 31) }, /* empty */
    };
    int bad = 0;

    for (int u = CB_UNIT_ALL; u <= CB_UNIT_DOCTOR; u++)
        for (int p = CB_PERIOD_ALL; p <= CB_PERIOD_YEAR; p++)
            for (size_t r = 0; r < NELEM(ranges); r++)
                for (int v = 0; v < 6; v++) {
                    struct cb_engine_query q;
                    struct cb_engine_result cube, full;
                    char what[160];

                    memset(&q, 0, sizeof q);
                    q.unit = (enum cb_unit)u;
                    q.period = (enum cb_period)p;
                    q.day_from = ranges[r].from;
                    q.day_to = ranges[r].to;
                    q.ref = v & 1 ? ref : NULL;
                    if (v / 2 == 1) {
                        q.hospitals = mask;
                        q.nhospitals = NELEM(mask);
                    } else if (v / 2 == 2) {
                        q.hospitals = short_mask;
                        q.nhospitals = NELEM(short_mask);
                    }
                    snprintf(what, sizeof what, "%s: unit %d period %d range %zu %s %s",
                             stage, u, p, r, q.ref ? "ref" : "no ref",
                             v / 2 ? "mask" : "all hospitals");
                    assert_int_equal(cb_engine_query(e, &q, &cube), CB_OK);
                    q.no_cube = true;
                    q.threads = 2;
                    assert_int_equal(cb_engine_query(e, &q, &full), CB_OK);
                    bad += compare_cube(&cube, &full, what);
                    cb_engine_result_release(&cube);
                    cb_engine_result_release(&full);
                    if (bad > 20)
                        return bad;
                }
    return bad;
}

/* cb_engine_drg_sums from the cube against the pass over the facts, with
 * and without a hospital and a department mask. */
static int
compare_drg_sums(const struct cb_engine *e, const char *stage)
{
    static const uint8_t hmask[RND_HOSP + 1] = { 0, 1, 1, 0, 1, 1 };
    uint8_t dmask[(RND_HOSP + 1) * 10];
    int ndrg = cb_engine_ndrg(e), bad = 0;
    struct cb_engine_drg_sum *a = calloc((size_t)ndrg + 1, sizeof *a);
    struct cb_engine_drg_sum *b = calloc((size_t)ndrg + 1, sizeof *b);

    assert_non_null(a);
    assert_non_null(b);
    for (size_t d = 0; d < sizeof dmask; d++)
        dmask[d] = d % 3 != 1;
    for (int v = 0; v < 8; v++) {
        struct cb_engine_query q;
        int64_t ta, tb;

        memset(&q, 0, sizeof q);
        if (v & 1) {
            q.hospitals = hmask;
            q.nhospitals = NELEM(hmask);
        }
        if (v & 4) {                                  /* whole months */
            q.day_from = (uint16_t)day_of(2024, 5, 1);
            q.day_to = (uint16_t)day_of(2025, 3, 31);
        }
        cb_engine_drg_sums(e, &q, v & 2 ? dmask : NULL, sizeof dmask, a, &ta);
        q.no_cube = true;
        cb_engine_drg_sums(e, &q, v & 2 ? dmask : NULL, sizeof dmask, b, &tb);
        if (ta != tb || memcmp(a, b, (size_t)ndrg * sizeof *a)) {
            print_error("%s: DRG sums (variant %d) differ: total %lld vs %lld\n", stage, v,
                        (long long)ta, (long long)tb);
            bad++;
        }
        if (ta <= 0) {
            print_error("%s: DRG sums (variant %d): no discharges\n", stage, v);
            bad++;
        }
    }
    free(a);
    free(b);
    return bad;
}

static void
test_cube_matches_full_pass(void **state)
{
    (void)state;
    enum { N = 200000, REPLACE = 20000, REMOVE = 600, ADD = 5000 };
    struct cb_engine_ref ref = random_ref();
    struct cb_fact *f = malloc((N + REPLACE + ADD) * sizeof *f);
    struct cb_engine *e = NULL;
    int bad = 0;

    assert_non_null(f);
    random_facts(f, N + REPLACE + ADD, 0xC0BE2026ULL);
    assert_int_equal(cb_engine_new(&e), CB_OK);
    /* loaded in pieces, as incremental loads do */
    for (size_t i = 0; i < N; i += 50000)
        assert_int_equal(cb_engine_put(e, f + i, 50000), CB_OK);
    bad += compare_all_queries(e, &ref, "loaded");
    bad += compare_drg_sums(e, "loaded");

    /* replacements: existing record ids with new contents (another day,
       hospital, DRG, flags...), one batch and some one by one */
    g_rng = 0x5EEDULL;
    for (size_t i = 0; i < REPLACE; i++)
        f[N + i].record_id = f[rndn(N)].record_id;
    assert_int_equal(cb_engine_put(e, f + N, REPLACE - 100), CB_OK);
    for (size_t i = REPLACE - 100; i < REPLACE; i++)
        assert_int_equal(cb_engine_put(e, f + N + i, 1), CB_OK);
    /* removals, some of absent ids, and new records */
    for (size_t i = 0; i < REMOVE; i++)
        cb_engine_remove(e, i % 10 == 0 ? -1 - (int64_t)i : f[rndn(N)].record_id);
    for (size_t i = 0; i < ADD; i++)
        f[N + REPLACE + i].record_id = (int64_t)(N + i) * 7 + 3;
    assert_int_equal(cb_engine_put(e, f + N + REPLACE, ADD), CB_OK);
    assert_true(cb_engine_count(e) < N + ADD);
    bad += compare_all_queries(e, &ref, "updated");
    bad += compare_drg_sums(e, "updated");

    /* everything removed from one hospital's January 2025: its cells empty
       out and must give no rows */
    uint16_t jan1 = (uint16_t)day_of(2025, 1, 1), jan31 = (uint16_t)day_of(2025, 1, 31);
    size_t n;
    const struct cb_fact *ef = cb_engine_facts(e, &n);
    int64_t *ids = malloc((n + 1) * sizeof *ids);
    size_t nids = 0;
    assert_non_null(ids);
    for (size_t i = 0; i < n; i++)
        if (ef[i].hospital == 2 && ef[i].day >= jan1 && ef[i].day <= jan31)
            ids[nids++] = ef[i].record_id;
    for (size_t i = 0; i < nids; i++)
        cb_engine_remove(e, ids[i]);
    free(ids);
    bad += compare_all_queries(e, &ref, "emptied cells");
    bad += compare_drg_sums(e, "emptied cells");

    size_t mem = cb_engine_memory(e), count = cb_engine_count(e);
    print_message("cube test: %zu facts, engine memory %.1f bytes per discharge\n", count,
                  (double)mem / (double)count);
    cb_engine_free(e);
    free(f);
    if (bad)
        fail();
}

/* An allocation failure inside the cube drops it: later queries take the
 * full pass and still agree with it, whichever allocation failed. */
static void
test_cube_allocation_failure(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct cb_engine_ref ref = random_ref();
    struct cb_fact *f = malloc(N * sizeof *f);
    int bad = 0;

    assert_non_null(f);
    random_facts(f, N, 0xFA11ULL);
    for (long k = 0; k < 40; k++) {
        struct cb_engine *e = NULL;
        enum cb_err rc;

        assert_int_equal(cb_engine_new(&e), CB_OK);
        assert_int_equal(cb_engine_put(e, f, N / 2), CB_OK);
        cb_alloc_fail_after(k);
        rc = cb_engine_put(e, f + N / 2, N / 2);
        cb_alloc_fail_after(-1);
        assert_true(rc == CB_OK || rc == CB_ERR_NOMEM);
        cb_engine_remove(e, f[7].record_id);
        assert_int_equal(cb_engine_put(e, f + N / 2, N / 4), CB_OK);
        for (int u = CB_UNIT_ALL; u <= CB_UNIT_DEPT; u++) {
            struct cb_engine_query q;
            struct cb_engine_result cube, full;

            memset(&q, 0, sizeof q);
            q.unit = (enum cb_unit)u;
            q.period = CB_PERIOD_MONTH;
            q.ref = &ref;
            assert_int_equal(cb_engine_query(e, &q, &cube), CB_OK);
            q.no_cube = true;
            assert_int_equal(cb_engine_query(e, &q, &full), CB_OK);
            bad += compare_cube(&cube, &full, "after an allocation failure");
            cb_engine_result_release(&cube);
            cb_engine_result_release(&full);
        }
        cb_engine_free(e);
    }
    free(f);
    if (bad)
        fail();
}

static int
teardown(void **state)
{
    (void)state;
    cb_indicators_release(&g_set);
    cb_catalogues_release(&g_cat_full);
    cb_catalogues_release(&g_cat);
    cb_refdata_free(g_rd);
    return 0;
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogues),
        cmocka_unit_test(test_fp02_down_referral),
        cmocka_unit_test(test_fp03_day_surgery),
        cmocka_unit_test(test_fp03_spec_flag_no_decides),
        cmocka_unit_test(test_fp03_spec_flagged_emergency),
        cmocka_unit_test(test_fp04_surgery),
        cmocka_unit_test(test_fp05_fp06_catalogues),
        cmocka_unit_test(test_fp06_spec_proxy_operations_only),
        cmocka_unit_test(test_fp08_complications),
        cmocka_unit_test(test_fp09_ssi),
        cmocka_unit_test(test_fp10_cohorts),
        cmocka_unit_test(test_support_measures),
        cmocka_unit_test(test_drug_share_spec_tcm_subitem),
        cmocka_unit_test(test_no_surgery_and_empty_period),
        cmocka_unit_test(test_drg_evaluation),
        cmocka_unit_test(test_period_helpers),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_units_and_filter),
        cmocka_unit_test(test_random_crosscheck),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_indicator_catalogue_errors),
        cmocka_unit_test(test_prefix_catalogue_files),
        cmocka_unit_test(test_cube_matches_full_pass),
        cmocka_unit_test(test_cube_allocation_failure),
        cmocka_unit_test(test_empty_results),   /* last: see its comment */
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
