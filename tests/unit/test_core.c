/*
 * test_core.c - buffers, the hash map, checked parsers, dates, JSON.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/buf.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "carebase/strmap.h"
#include "testutil.h"

static void
test_buf_cap_and_failure_releases(void **state)
{
    struct cb_buf b;

    (void)state;
    cb_buf_init(&b, 8);
    assert_int_equal(cb_buf_adds(&b, "1234"), CB_OK);
    assert_int_equal(cb_buf_addf(&b, "%d", 56), CB_OK);
    assert_string_equal(cb_buf_cstr(&b), "123456");
    assert_int_equal(cb_buf_adds(&b, "789"), CB_ERR_TOO_LARGE);
    assert_int_equal(b.len, 0); /* a failed append empties the buffer */
    assert_string_equal(cb_buf_cstr(&b), "");
    cb_alloc_fail_after(0);
    assert_int_equal(cb_buf_adds(&b, "x"), CB_ERR_NOMEM);
    cb_alloc_fail_after(-1);
    cb_buf_release(&b);
}

static void
test_strmap(void **state)
{
    struct cb_strmap m;
    uint32_t v;
    int i;
    char k[32];

    (void)state;
    cb_strmap_init(&m);
    for (i = 0; i < 10000; i++) {
        snprintf(k, sizeof(k), "I%02d.%03d", i % 100, i);
        assert_int_equal(cb_strmap_put(&m, cb_str_c(k), (uint32_t)i), CB_OK);
    }
    assert_int_equal(m.count, 10000);
    snprintf(k, sizeof(k), "I%02d.%03d", 4242 % 100, 4242);
    assert_true(cb_strmap_get(&m, cb_str_c(k), &v));
    assert_int_equal(v, 4242);
    assert_false(cb_strmap_has(&m, cb_str_c("nope")));
    assert_int_equal(cb_strmap_put(&m, cb_str_c(k), 7), CB_OK);
    assert_true(cb_strmap_get(&m, cb_str_c(k), &v));
    assert_int_equal(v, 7);
    assert_int_equal(m.count, 10000);
    cb_strmap_release(&m);
}

static void
test_parsers(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(cb_parse_i64(cb_str_c(" 42 "), &v), CB_OK);
    assert_int_equal(v, 42);
    assert_int_equal(cb_parse_i64(cb_str_c("12abc"), &v), CB_ERR_PROTO);
    assert_int_equal(cb_parse_i64(cb_str_c("99999999999999999999"), &v), CB_ERR_PROTO);
    assert_int_equal(cb_parse_i64(cb_str_c("-"), &v), CB_ERR_PROTO);
    assert_int_equal(cb_parse_money(cb_str_c("1234.5"), &v), CB_OK);
    assert_int_equal(v, 123450);
    assert_int_equal(cb_parse_money(cb_str_c("0.07"), &v), CB_OK);
    assert_int_equal(v, 7);
    assert_int_equal(cb_parse_money(cb_str_c("12"), &v), CB_OK);
    assert_int_equal(v, 1200);
    assert_int_equal(cb_parse_money(cb_str_c("1.234"), &v), CB_ERR_PROTO);
    assert_int_equal(cb_parse_money(cb_str_c("1.2.3"), &v), CB_ERR_PROTO);
    assert_int_equal(cb_parse_money(cb_str_c("abc"), &v), CB_ERR_PROTO);
    assert_true(cb_str_is_empty(cb_str_c(" - ")));
    assert_false(cb_str_is_empty(cb_str_c("0")));
}

static void
test_dates(void **state)
{
    int64_t s;
    bool t;
    char out[20];

    (void)state;
    assert_int_equal(cb_parse_datetime(cb_str_c("2024-02-29 23:59:59"), &s, &t), CB_OK);
    assert_true(t);
    cb_format_datetime(s, out);
    assert_string_equal(out, "2024-02-29 23:59:59");
    assert_int_equal(cb_parse_datetime(cb_str_c("2023-02-29"), &s, &t), CB_ERR_PROTO);
    assert_int_equal(cb_parse_datetime(cb_str_c("2024/06/12"), &s, &t), CB_OK);
    assert_false(t);
    assert_int_equal(cb_parse_datetime(cb_str_c("20240612"), &s, &t), CB_OK);
    assert_int_equal(cb_parse_datetime(cb_str_c("2024-06-12T08:30"), &s, &t), CB_OK);
    assert_int_equal(cb_parse_datetime(cb_str_c("2024-06-12 25:00:00"), &s, &t), CB_ERR_PROTO);
    assert_int_equal(cb_parse_datetime(cb_str_c("12/06/2024"), &s, &t), CB_ERR_PROTO);
    assert_int_equal(cb_parse_datetime(cb_str_c(" 2024-06-12 08:30:05 "), &s, &t), CB_OK);
    assert_true(t);
    assert_int_equal(s, cb_days_from_civil(2024, 6, 12) * 86400 + 8 * 3600 + 30 * 60 + 5);
    assert_int_equal(cb_parse_datetime(cb_str_c("1799-12-31"), &s, &t), CB_ERR_PROTO);
    assert_int_equal(cb_parse_datetime(cb_str_c("2024-06-12 23:60:00"), &s, &t), CB_ERR_PROTO);
    assert_int_equal(cb_parse_datetime(cb_str_c("2024-06-12 23:59:60"), &s, &t), CB_ERR_PROTO);
    /* Completed years: the birthday not yet reached is one less. */
    assert_int_equal(cb_completed_years(cb_days_from_civil(2000, 6, 15),
                                        cb_days_from_civil(2024, 6, 14)), 23);
    assert_int_equal(cb_completed_years(cb_days_from_civil(2000, 6, 15),
                                        cb_days_from_civil(2024, 6, 15)), 24);
    assert_int_equal(cb_completed_years(cb_days_from_civil(2000, 2, 29),
                                        cb_days_from_civil(2023, 2, 28)), 22);
    assert_int_equal(cb_day_of(-1), -1);
    assert_int_equal(cb_days_from_civil(1970, 1, 1), 0);
}

/*
 * "yyyy-MM-dd[ HH:mm:ss]" has a fast path of its own; "yyyy/MM/dd[ ...]"
 * takes the general one. With any byte of either changed to a non-digit or
 * to a digit, both must give the same answer.
 */
static void
test_dates_fast_path(void **state)
{
    static const char *const base[] = { "2024-02-29 23:59:59", "2024-02-29",
                                        "1999-12-31 00:00:00", "2100-02-28" };
    static const char repl[] = { '0', '1', '2', '3', '5', '9', '/', ':', '-', ' ', 'a',
                                 '\x80', '\xff', '.', '0' - 1, '9' + 1 };
    size_t b, i, k;

    (void)state;
    for (b = 0; b < sizeof(base) / sizeof(base[0]); b++) {
        size_t n = strlen(base[b]);

        for (i = 0; i < n; i++) {
            if (i == 4 || i == 7)
                continue;
            for (k = 0; k < sizeof(repl); k++) {
                char dash[20], slash[20];
                int64_t s1 = -1, s2 = -1;
                bool t1 = false, t2 = false;

                memcpy(dash, base[b], n + 1);
                dash[i] = repl[k];
                memcpy(slash, dash, n + 1);
                slash[4] = slash[7] = '/';
                enum cb_err r1 = cb_parse_datetime(cb_str_c(dash), &s1, &t1);
                enum cb_err r2 = cb_parse_datetime(cb_str_c(slash), &s2, &t2);
                if (r1 != r2 || (r1 == CB_OK && (s1 != s2 || t1 != t2)))
                    fail_msg("'%s' and '%s' parse differently", dash, slash);
            }
        }
    }
}

static void
test_json_escaping(void **state)
{
    struct cb_buf b = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_json_str(&b, cb_str_c("a\"b\\c\n\x01张")), CB_OK);
    assert_string_equal(cb_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001张\"");
    cb_buf_release(&b);
}

/* The word-at-a-time escaper against a byte-at-a-time reference. */
static void
test_json_escaping_random(void **state)
{
    static const char alphabet[] = "ab\"\\\n\t\x01\x1f \xe5\xbc\xa0z{}";
    struct cb_buf got = CB_BUF_INIT, want = CB_BUF_INIT;
    char s[64];
    unsigned seed = 12345;
    int iter, i, len;

    (void)state;
    for (iter = 0; iter < 20000; iter++) {
        len = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            s[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        cb_buf_reset(&got);
        cb_buf_reset(&want);
        assert_int_equal(cb_json_str(&got, cb_str_make(s, (size_t)len)), CB_OK);
        assert_int_equal(cb_buf_addc(&want, '"'), CB_OK);
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '"')
                assert_int_equal(cb_buf_adds(&want, "\\\""), CB_OK);
            else if (c == '\\')
                assert_int_equal(cb_buf_adds(&want, "\\\\"), CB_OK);
            else if (c == '\n')
                assert_int_equal(cb_buf_adds(&want, "\\n"), CB_OK);
            else if (c == '\t')
                assert_int_equal(cb_buf_adds(&want, "\\t"), CB_OK);
            else if (c < 0x20)
                assert_int_equal(cb_buf_addf(&want, "\\u%04x", c), CB_OK);
            else
                assert_int_equal(cb_buf_addc(&want, (char)c), CB_OK);
        }
        assert_int_equal(cb_buf_addc(&want, '"'), CB_OK);
        assert_string_equal(cb_buf_cstr(&got), cb_buf_cstr(&want));
    }
    cb_buf_release(&got);
    cb_buf_release(&want);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_cap_and_failure_releases),
        cmocka_unit_test(test_strmap),
        cmocka_unit_test(test_parsers),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_dates_fast_path),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_escaping_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
