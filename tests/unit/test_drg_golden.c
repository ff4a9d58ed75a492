/*
 * test_drg_golden.c - both packages' golden sets (FORMAT.md §13) must be
 * reproduced on every row: status, mdc, adrg and drg. Also checks that the
 * trace does not change a result, and that grouping twice gives the same.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/drg.h"
#include "testutil.h"

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* Splits line [p, e) on sep into at most max fields; returns the count. */
static int
split(const char *p, const char *e, char sep, struct cb_str *f, int max)
{
    int n = 0;
    for (;;) {
        const char *q = memchr(p, sep, (size_t)(e - p));
        const char *fe = q ? q : e;
        if (n < max)
            f[n] = cb_str_make(p, (size_t)(fe - p));
        n++;
        if (!q)
            return n;
        p = q + 1;
    }
}

static void
golden(const char *pkg)
{
    char dir[1024], rec[1100], exp[1100];
    snprintf(dir, sizeof dir, "%s/data/%s", getenv("CB_SHARED") ? getenv("CB_SHARED")
                                                                : "../shared", pkg);
    snprintf(rec, sizeof rec, "%s/golden/records.csv", dir);
    snprintf(exp, sizeof exp, "%s/golden/expected.csv", dir);

    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_scheme *s = NULL;
    enum cb_err rc = cb_drg_scheme_load(dir, NULL, &s, &err);
    if (rc)
        fail_msg("%s: %s", pkg, cb_buf_cstr(&err));

    size_t rl, el;
    char *rt = slurp(rec, &rl), *et = slurp(exp, &el);
    const char *rp = strchr(rt, '\n') + 1, *ep = strchr(et, '\n') + 1;
    const char *re = rt + rl, *ee = et + el;

    struct cb_drg_work w, wt;
    memset(&w, 0, sizeof w);
    memset(&wt, 0, sizeof wt);
    assert_int_equal(cb_drg_work_init(&w, s), CB_OK);
    assert_int_equal(cb_drg_work_init(&wt, s), CB_OK);
    cb_drg_work_trace(&wt, true);
    struct cb_buf text = CB_BUF_INIT;

    int rows = 0, bad = 0;
    while (rp < re && ep < ee) {
        const char *rn = memchr(rp, '\n', (size_t)(re - rp));
        const char *en = memchr(ep, '\n', (size_t)(ee - ep));
        if (!rn) rn = re;
        if (!en) en = ee;
        struct cb_str f[10], x[5];
        assert_int_equal(split(rp, rn, ',', f, 10), 10);
        assert_int_equal(split(ep, en, ',', x, 5), 5);
        assert_true(cb_str_eq(f[0], x[0]));

        struct cb_drg_input in = {
            .index = f[0], .sex = f[1], .age = f[2], .age_days = f[3],
            .weight = f[4], .dept = f[5], .los = f[6], .leaving_type = f[7],
        };
        assert_int_equal(cb_drg_split_codes(&w, 0, f[8], &in.dx, &in.ndx), CB_OK);
        assert_int_equal(cb_drg_split_codes(&w, 1, f[9], &in.px, &in.npx), CB_OK);
        struct cb_drg_result r, rt2;
        assert_int_equal(cb_drg_group(s, &in, CB_DRG_TR_OFF, &w, &r), CB_OK);
        assert_int_equal(cb_drg_group(s, &in, CB_DRG_TR_OFF, &wt, &rt2), CB_OK);

        bool ok = cb_str_eqz(x[1], cb_drg_status_name(r.status)) &&
                  cb_str_eqz(x[2], r.mdc) && cb_str_eqz(x[3], r.adrg) &&
                  cb_str_eqz(x[4], r.drg);
        if (!ok && bad++ < 10)
            print_message("%s row %.*s: expected %.*s %.*s %.*s %.*s, got %s %s %s %s\n",
                          pkg, (int)f[0].len, f[0].ptr, (int)x[1].len, x[1].ptr,
                          (int)x[2].len, x[2].ptr, (int)x[3].len, x[3].ptr,
                          (int)x[4].len, x[4].ptr, cb_drg_status_name(r.status),
                          r.mdc, r.adrg, r.drg);
        /* The trace never changes the result, and renders without error. */
        assert_int_equal(r.status, rt2.status);
        assert_string_equal(r.drg, rt2.drg);
        if (rows % 97 == 0) {
            cb_buf_reset(&text);
            assert_int_equal(cb_drg_explain(s, &in, &wt, &rt2, "en", &text), CB_OK);
            assert_int_equal(cb_drg_explain(s, &in, &wt, &rt2, "zh", &text), CB_OK);
            assert_int_equal(cb_drg_explain_json(s, &in, &wt, &rt2, &text), CB_OK);
        }
        rows++;
        rp = rn + 1;
        ep = en + 1;
    }
    print_message("%s: %d rows, %d differ\n", pkg, rows, bad);
    assert_true(rows >= 20000);
    assert_int_equal(bad, 0);
    assert_true(rp >= re && ep >= ee);

    cb_buf_release(&text);
    cb_drg_work_release(&w);
    cb_drg_work_release(&wt);
    cb_drg_scheme_free(s);
    cb_buf_release(&err);
    free(rt);
    free(et);
}

static void
test_golden_chs(void **state)
{
    (void)state;
    golden("chs-drg-1.1");
}

static void
test_golden_bj(void **state)
{
    (void)state;
    golden("bj-drg-2022");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_chs),
        cmocka_unit_test(test_golden_bj),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
