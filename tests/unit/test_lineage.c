/*
 * test_lineage.c - the selection of the cases behind a counter
 * (lineage.h): the count and sum agree with the engine's aggregation, the
 * scope masks and day range apply, and every page (offset, limit) is the
 * matching slice of the full listing in record-id order.
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/lineage.h"
#include "testutil.h"

#define NFACTS 997

/* Facts with scattered record ids over 3 hospitals, 4 departments, 40 days. */
static struct cb_engine *
make_engine(void)
{
    struct cb_engine *e = NULL;
    struct cb_fact *f = calloc(NFACTS, sizeof *f);

    assert_non_null(f);
    assert_int_equal(cb_engine_new(&e), CB_OK);
    for (int i = 0; i < NFACTS; i++) {
        f[i].record_id = (int64_t)((i * 7919L) % 100003) + 1;   /* distinct, unordered */
        f[i].hospital = (uint16_t)(1 + i % 3);
        f[i].dept = (uint16_t)(1 + i % 4);
        f[i].doctor = (uint32_t)(1 + i % 5);
        f[i].day = (uint16_t)(9131 + i % 40);                   /* from 2025-01-01 */
        f[i].los = (uint16_t)(1 + i % 9);
        f[i].zfy = (uint32_t)(1000 + 37 * i);
        f[i].flags = (i % 3 == 0 ? CB_FACT_SURGICAL : 0) | CB_FACT_COST_OK;
    }
    assert_int_equal(cb_engine_put(e, f, NFACTS), CB_OK);
    free(f);
    return e;
}

/* The engine's own aggregate of one counter over the same scope. */
static double
engine_value(const struct cb_engine *e, const uint8_t *hosp, size_t nhosp, uint16_t from,
             uint16_t to, int counter)
{
    struct cb_engine_query q = { .unit = CB_UNIT_ALL, .period = CB_PERIOD_ALL,
                                 .day_from = from, .day_to = to,
                                 .hospitals = hosp, .nhospitals = nhosp, .no_cube = true };
    struct cb_engine_result r = { 0 };
    double v = 0;

    assert_int_equal(cb_engine_query(e, &q, &r), CB_OK);
    for (size_t i = 0; i < r.nrows; i++)
        v += cb_agg_value(&r.rows[i].agg, counter, r.ndrg_words);
    cb_engine_result_release(&r);
    return v;
}

static void
test_count_and_sum_match_the_engine(void **state)
{
    struct cb_engine *e = make_engine();
    uint8_t hosp[4] = { 0, 1, 0, 1 };
    struct cb_lineage_scope s = { .day_from = 9131, .day_to = 9150,
                                  .hospitals = hosp, .nhospitals = 4 };
    int counters[] = { CB_C_n, CB_C_surgical, CB_C_zfy, CB_C_los };

    (void)state;
    for (size_t k = 0; k < sizeof counters / sizeof counters[0]; k++) {
        struct cb_lineage l;
        assert_int_equal(cb_lineage_select(e, &s, NULL, counters[k], &l), CB_OK);
        double want = engine_value(e, hosp, 4, 9131, 9150, counters[k]);
        if (counters[k] == CB_C_n || counters[k] == CB_C_surgical)
            assert_int_equal((long long)l.count, (long long)want);
        assert_true(l.sum == want);
        assert_int_equal((long long)l.nhits, (long long)l.count);
        /* The total aggregate gives the same counter too. */
        assert_true(cb_agg_value(&l.total, counters[k], l.words) == want);
        for (size_t i = 1; i < l.nhits; i++)
            assert_true(l.hits[i - 1].record_id < l.hits[i].record_id);
        cb_lineage_release(&l);
    }
    cb_engine_free(e);
}

static void
test_masks(void **state)
{
    struct cb_engine *e = make_engine();
    uint8_t dept[3] = { 0, 0, 1 };          /* dept 2 only; 3 and 4 past the mask */
    uint8_t doctor[2] = { 0, 1 };           /* doctor 1 only */
    struct cb_lineage_scope s = { .day_from = 0, .day_to = UINT16_MAX,
                                  .depts = dept, .ndepts = 3 };
    struct cb_lineage l;
    size_t want = 0;

    (void)state;
    for (int i = 0; i < NFACTS; i++)
        want += 1 + i % 4 == 2;
    assert_int_equal(cb_lineage_select(e, &s, NULL, CB_C_n, &l), CB_OK);
    assert_int_equal((long long)l.count, (long long)want);
    cb_lineage_release(&l);

    s.depts = NULL;
    s.doctors = doctor;
    s.ndoctors = 2;
    want = 0;
    for (int i = 0; i < NFACTS; i++)
        want += 1 + i % 5 == 1;
    assert_int_equal(cb_lineage_select(e, &s, NULL, CB_C_n, &l), CB_OK);
    assert_int_equal((long long)l.count, (long long)want);
    cb_lineage_release(&l);
    cb_engine_free(e);
}

static void
test_pages_are_slices(void **state)
{
    struct cb_engine *e = make_engine();
    struct cb_lineage_scope s = { .day_from = 0, .day_to = UINT16_MAX };
    struct cb_lineage all;
    static const size_t offsets[] = { 0, 1, 99, 100, 330, 331, 332, 500 };
    static const size_t limits[] = { 1, 7, 100, 500 };

    (void)state;
    assert_int_equal(cb_lineage_select(e, &s, NULL, CB_C_surgical, &all), CB_OK);
    assert_int_equal((long long)all.count, (NFACTS + 2) / 3);
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
        for (size_t j = 0; j < sizeof limits / sizeof limits[0]; j++) {
            struct cb_lineage p;
            s.offset = offsets[i];
            s.limit = limits[j];
            assert_int_equal(cb_lineage_select(e, &s, NULL, CB_C_surgical, &p), CB_OK);
            size_t want = s.offset >= all.count ? 0
                        : all.count - s.offset < s.limit ? all.count - s.offset : s.limit;
            assert_int_equal((long long)p.count, (long long)all.count);
            assert_true(p.sum == all.sum);
            assert_int_equal((long long)p.nhits, (long long)want);
            for (size_t k = 0; k < p.nhits; k++)
                assert_int_equal(p.hits[k].record_id, all.hits[s.offset + k].record_id);
            cb_lineage_release(&p);
        }
    }
    cb_lineage_release(&all);
    cb_engine_free(e);
}

static void
test_counter_display(void **state)
{
    struct cb_counter_info c;
    char buf[40];

    (void)state;
    cb_counter_describe(CB_C_zfy, &c);
    assert_string_equal(c.name, "zfy");
    assert_int_equal(c.kind, CB_CK_MONEY);
    cb_counter_format(&c, 12345, buf, sizeof buf);
    assert_string_equal(buf, "123.45");
    assert_string_equal(cb_counter_unit(&c, false), "yuan");
    assert_true(cb_counter_shown(&c, 250) == 2.5);
    cb_counter_describe(CB_C_COHORT + 4 * 2 + 1, &c);
    assert_string_equal(c.name, "cohort3_los");
    assert_int_equal(c.kind, CB_CK_DAYS);
    cb_counter_describe(-(1 + CB_R_TW), &c);
    assert_string_equal(c.name, "tw");
    assert_string_equal(cb_counter_unit(&c, true), "权重");
    cb_counter_describe(CB_C_surgical, &c);
    assert_string_equal(cb_counter_unit(&c, false), "cases");
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_and_sum_match_the_engine),
        cmocka_unit_test(test_masks),
        cmocka_unit_test(test_pages_are_slices),
        cmocka_unit_test(test_counter_display),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
