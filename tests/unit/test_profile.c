/*
 * test_profile.c - the three dialects: detection, column mapping and value
 * normalisation (spec 0.2, a.4, a.8, a.9, a.11).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/profile.h"
#include "testutil.h"

static struct cb_profiles *ps;

static int
setup(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    (void)state;
    if (cb_profiles_load(&ps, tu_source("data/profiles"), &err) != CB_OK) {
        fprintf(stderr, "%s\n", cb_buf_cstr(&err));
        return -1;
    }
    cb_buf_release(&err);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cb_profiles_free(ps);
    return 0;
}

/* A row from parallel arrays of column names and values. */
struct row_fixture {
    struct cb_str fields[64];
    struct cb_row row;
};

static void
make_row(struct row_fixture *fx, const char *const *cells, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        fx->fields[i] = cb_str_c(cells[i]);
    fx->row.nfields = n;
    fx->row.fields = fx->fields;
    fx->row.raw = CB_STR_NULL;
    fx->row.line = 1;
    fx->row.cols = NULL; /* dense */
    fx->row.nset = 0;
}

/* Maps one data row under an explicit profile; no required-column check. */
static void
fill(const char *profile, const char *const *cols, const char *const *vals,
     size_t n, struct cb_fp *r, struct cb_arena *a)
{
    struct row_fixture h, d;
    struct cb_header_map m;
    const struct cb_profile *p = cb_profiles_find(ps, profile);
    size_t i;

    assert_non_null(p);
    make_row(&h, cols, n);
    make_row(&d, vals, n);
    memset(&m, 0, sizeof(m));
    m.profile = p;
    m.ncols = n;
    m.field_of_col = calloc(n, sizeof(int));
    for (i = 0; i < n; i++) {
        char key[64];
        int f, j;
        /* Find the field through the profile's own column list. */
        m.field_of_col[i] = -1;
        for (j = 0; cb_profile_column(p, (size_t)j, &f); j++)
            if (!strcmp(cb_profile_column(p, (size_t)j, &f), cols[i])) {
                m.field_of_col[i] = f;
                break;
            }
        if (m.field_of_col[i] < 0)
            fail_msg("column %s unknown to %s (%s)", cols[i], profile,
                     cb_fp_key(0, key, sizeof(key)));
    }
    assert_int_equal(cb_profile_fill(&m, &d.row, r, a), CB_OK);
    {
        /* The same row sparse (as the import's workers split it) fills the same. */
        struct cb_fp *r2 = calloc(1, sizeof(*r2));
        struct row_fixture sp;
        uint16_t cols_of[64];
        size_t k = 0;
        int f;

        assert_non_null(r2);
        make_row(&sp, vals, n);
        for (i = 0; i < n; i++)
            if (d.fields[i].len) {
                sp.fields[k] = d.fields[i];
                cols_of[k++] = (uint16_t)i;
            }
        sp.row.cols = cols_of;
        sp.row.nset = k;
        assert_int_equal(cb_profile_fill(&m, &sp.row, r2, a), CB_OK);
        for (f = 0; f < CB_FP_NFIELDS; f++) {
            char key[32];
            if (r->state[f] != r2->state[f] || r->v[f].len != r2->v[f].len ||
                (r->v[f].len && memcmp(r->v[f].ptr, r2->v[f].ptr, r->v[f].len)))
                fail_msg("sparse row differs at %s", cb_fp_key(f, key, sizeof(key)));
        }
        free(r2);
    }
    cb_header_map_release(&m);
}

static void
assert_field(const struct cb_fp *r, int f, const char *want)
{
    char got[256], key[32];
    snprintf(got, sizeof(got), "%.*s", (int)r->v[f].len, r->v[f].ptr ? r->v[f].ptr : "");
    if (strcmp(got, want))
        fail_msg("%s: got '%s', want '%s'", cb_fp_key(f, key, sizeof(key)), got, want);
}

/* Empty cells between filled ones: the sparse fill (see fill) must find
 * each value's own column, not its position among the filled ones. */
static void
test_gaps_sparse_and_dense(void **state)
{
    static const char *const cols[] = { "C03C", "C06x03C", "C08x03C", "C14x01C",
                                        "C21x01C", "C35x01C", "C42x01C", "B34C" };
    static const char *const vals[] = { "", "E11.900", "", " ", "3", "", "-", "3" };
    struct cb_fp *r = calloc(1, sizeof(*r));
    struct cb_arena a;

    (void)state;
    cb_arena_init(&a, 4096);
    fill("western", cols, vals, 8, r, &a);
    assert_field(r, CB_F_JBDM, "");
    assert_field(r, cb_fp_dx(3, CB_DX_CODE), "E11.900");
    assert_field(r, cb_fp_dx(3, CB_DX_POA), "");
    assert_field(r, cb_fp_px(1, CB_PX_CODE), "");
    assert_field(r, cb_fp_px(1, CB_PX_QKDJ), "1"); /* C21x01C 3 = Ⅰ/丙 */
    assert_field(r, cb_fp_px(2, CB_PX_CODE), "");
    assert_field(r, CB_F_LYFS, "3");
    cb_arena_release(&a);
    free(r);
}

static void
test_western_slots_and_incision(void **state)
{
    static const char *const cols[] = { "C03C", "C06x03C", "C08x03C", "C14x01C",
                                        "C21x01C", "C35x01C", "C42x01C", "C42x02C",
                                        "C22x01C", "A46C", "B34C", "B35" };
    static const char *const vals[] = { "i21.000", "E11.900", "4", "36.0601",
                                        "3", "88.5701", "20", "0", "0101",
                                        "1.1000000000000001", "3", "某某社区卫生服务中心" };
    struct cb_fp *r = calloc(1, sizeof(*r));
    struct cb_arena a;

    (void)state;
    cb_arena_init(&a, 4096);
    fill("western", cols, vals, 12, r, &a);
    assert_field(r, CB_F_JBDM, "I21.000");          /* ICD letter upper-cased */
    assert_field(r, cb_fp_dx(3, CB_DX_CODE), "E11.900");
    assert_field(r, cb_fp_dx(3, CB_DX_POA), "4");
    assert_int_equal(r->ndx, 3);
    assert_field(r, cb_fp_px(1, CB_PX_CODE), "36.0601");
    assert_field(r, cb_fp_px(2, CB_PX_CODE), "88.5701"); /* C35x01C = slot 2 */
    assert_field(r, cb_fp_px(1, CB_PX_QKDJ), "1");        /* 3 = Ⅰ/丙 */
    assert_field(r, cb_fp_px(1, CB_PX_QKYHLB), "3");
    assert_field(r, cb_fp_px(2, CB_PX_QKDJ), "2");        /* 20 = Ⅱ/其他 */
    assert_field(r, cb_fp_px(2, CB_PX_QKYHLB), "4");
    assert_field(r, cb_fp_px(3, CB_PX_QKDJ), "0");        /* 0 = 0类, no healing */
    assert_field(r, cb_fp_px(3, CB_PX_QKYHLB), "");
    assert_field(r, CB_F_YLFKFS, "1.1");                  /* float artefact */
    assert_field(r, CB_F_WSY_YLJG, "某某社区卫生服务中心");  /* B35 with LYFS 3 */
    assert_field(r, CB_F_YZZY_YLJG, "");
    cb_arena_release(&a);
    free(r);
}

static void
test_tcm_value_maps(void **state)
{
    static const char *const cols[] = { "RYTJ", "ZZYJH", "HY", "MZFS1", "MZFS2",
                                        "YLFKFS", "RYSJ", "RYSJ_S", "QKDJ1", "QKYLB1",
                                        "ZYZD_JBBM", "JBDM", "SJZY", "ZYL_ZYZD", "ZYZL", "ZYQT" };
    static const char *const vals[] = { "1", "1", "3", "211", "9", "21",
                                        "2024-03-05", "14", "1", "3",
                                        "J18.900", "BNW010", "4", "10.5", "20", "0.25" };
    struct cb_fp *r = calloc(1, sizeof(*r));
    struct cb_arena a;

    (void)state;
    cb_arena_init(&a, 4096);
    fill("tcm", cols, vals, 16, r, &a);
    assert_field(r, CB_F_RYTJ, "2");      /* TCM 1 门诊 = Western 2 */
    assert_field(r, CB_F_SFZZYJH, "2");   /* TCM 1 是 = Western RC028 2 有 */
    assert_field(r, CB_F_HY, "4");        /* TCM 3 离婚 = Western 4 */
    assert_field(r, cb_fp_px(1, CB_PX_MZFS), "020101");
    assert_field(r, cb_fp_px(2, CB_PX_MZFS), "99");
    assert_field(r, CB_F_YLFKFS, "2.1");
    assert_field(r, CB_F_RYSJ, "2024-03-05 14:00:00");
    assert_int_equal(r->state[CB_F_RYSJ], CB_FS_OK);
    assert_field(r, cb_fp_px(1, CB_PX_QKYHLB), "3");
    assert_field(r, CB_F_JBDM, "J18.900");     /* ZYZD_JBBM is the principal */
    assert_field(r, CB_F_MZZD_ZYBM, "BNW010"); /* TCM JBDM is the TCM outpatient code */
    assert_field(r, CB_F_SJZYTS, "4");
    assert_field(r, CB_F_ZYZLF, "30.75");      /* 中医类 parts summed */
    cb_arena_release(&a);
    free(r);
}

static void
test_n041_healing_other(void **state)
{
    static const char *const cols[] = { "QKDJ1", "QKYHLB1", "BZYZSNL", "ZYCS", "ZFY" };
    static const char *const vals[] = { "2", "9", "45", " 3 ", "1234.5" };
    struct cb_fp *r = calloc(1, sizeof(*r));
    struct cb_arena a;

    (void)state;
    cb_arena_init(&a, 4096);
    fill("n041", cols, vals, 5, r, &a);
    assert_field(r, cb_fp_px(1, CB_PX_QKYHLB), "4");
    assert_field(r, CB_F_BZYZS_NL, "45");
    assert_int_equal(r->val[CB_F_ZYCS], 3);     /* trimmed and parsed */
    assert_int_equal(r->val[CB_F_ZFY], 123450); /* money in fen */
    cb_arena_release(&a);
    free(r);
}

static void
test_dash_is_empty_and_bad_types(void **state)
{
    static const char *const cols[] = { "JKKH", "ZYCS", "CYSJ", "ZFY", "NL" };
    static const char *const vals[] = { "-", "2x", "2024-02-30 10:00:00", "1.234", "" };
    struct cb_fp *r = calloc(1, sizeof(*r));
    struct cb_arena a;

    (void)state;
    cb_arena_init(&a, 4096);
    fill("n041", cols, vals, 5, r, &a);
    assert_int_equal(r->state[CB_F_JKKH], CB_FS_EMPTY);
    assert_int_equal(r->state[CB_F_ZYCS], CB_FS_BAD);
    assert_int_equal(r->state[CB_F_CYSJ], CB_FS_BAD);  /* 30 February */
    assert_int_equal(r->state[CB_F_ZFY], CB_FS_BAD);   /* three decimals */
    assert_int_equal(r->state[CB_F_NL], CB_FS_EMPTY);
    cb_arena_release(&a);
    free(r);
}

/*
 * cb_profile_fill parses each value as it assigns it (its own fast money
 * reader included): the result must be what cb_parse_money / cb_parse_i64
 * say, and parsing the filled record again with cb_fp_parse must change
 * nothing (states, values, slot counts).
 */
static void
test_fill_parses_as_cb_fp_parse(void **state)
{
    static const char *const cols[] = { "ZFY", "NL", "CYSJ", "CSRQ", "JBDM3", "QKDJ2" };
    static const char *const fixed[] = {
        "0", "-0", "5.", "5.1", "5.12", "5.123", "-5.5", ".5", "-.5", "-",
        "--5", "+5", "5..", "5.a", " 12.30 ", "1234567890123456",
        "12345678901234567", "123456789012345.6", "-123456789012345",
        "9223372036854775807", "99999999999999999999", "1e5", "12 3",
    };
    static const char alphabet[] = "0123456789.-+ a";
    struct cb_fp *r = calloc(1, sizeof(*r)), *r2 = calloc(1, sizeof(*r2));
    struct cb_arena a;
    uint32_t seed = 12345;
    size_t i, nfixed = sizeof(fixed) / sizeof(fixed[0]);

    (void)state;
    assert_non_null(r);
    assert_non_null(r2);
    cb_arena_init(&a, 4096);
    for (i = 0; i < nfixed + 3000; i++) {
        char buf[32];
        const char *vals[6];
        int64_t want, got;
        int f;

        if (i < nfixed) {
            snprintf(buf, sizeof(buf), "%s", fixed[i]);
        } else {
            size_t n, k;
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 20;
            for (k = 0; k < n; k++) {
                seed = seed * 1103515245u + 12345u;
                buf[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }
            buf[n] = '\0';
        }
        vals[0] = buf;
        vals[1] = buf;
        vals[2] = i % 2 ? "2024-02-03 10:00:00" : "2024-02-03";
        vals[3] = "2001-01-31";
        vals[4] = i % 3 ? "k35.800" : "";
        vals[5] = i % 5 ? "1" : "";
        cb_arena_reset(&a);
        fill("n041", cols, vals, 6, r, &a);
        {
            struct cb_str t = cb_str_trim(cb_str_c(buf));
            bool empty = t.len == 0 || (t.len == 1 && t.ptr[0] == '-');
            enum cb_err rc = cb_parse_money(cb_str_c(buf), &want);

            if (empty)
                assert_int_equal(r->state[CB_F_ZFY], CB_FS_EMPTY);
            else if (rc != CB_OK)
                assert_int_equal(r->state[CB_F_ZFY], CB_FS_BAD);
            else {
                assert_int_equal(r->state[CB_F_ZFY], CB_FS_OK);
                assert_int_equal(r->val[CB_F_ZFY], want);
            }
            rc = cb_parse_i64(cb_str_c(buf), &got);
            if (!empty)
                assert_int_equal(r->state[CB_F_NL], rc == CB_OK ? CB_FS_OK : CB_FS_BAD);
            if (!empty && rc == CB_OK)
                assert_int_equal(r->val[CB_F_NL], got);
        }
        memcpy(r2, r, sizeof(*r));
        cb_fp_parse(r2);
        assert_int_equal(r2->ndx, r->ndx);
        assert_int_equal(r2->npx, r->npx);
        assert_int_equal(r2->dt_date_only_cysj, r->dt_date_only_cysj);
        for (f = 0; f < CB_FP_NFIELDS; f++) {
            char key[32];
            if (r2->state[f] != r->state[f] ||
                (r->state[f] == CB_FS_OK && r2->val[f] != r->val[f]))
                fail_msg("'%s': %s parses differently again", buf,
                         cb_fp_key(f, key, sizeof(key)));
        }
    }
    cb_arena_release(&a);
    free(r);
    free(r2);
}

static const struct cb_profile *
detect(const char *const *cols, size_t n)
{
    struct row_fixture h;
    make_row(&h, cols, n);
    return cb_profiles_detect(ps, &h.row);
}

static void
test_detection(void **state)
{
    static const char *const w[] = { "A01", "A48", "A49", "B12", "B15", "C03C", "D01" };
    static const char *const t[] = { "ZZJGDM", "BAH", "ZYCS", "ZYZD_JBBM", "XY_RYBQ", "SJZY", "YLFWF" };
    static const char *const n[] = { "ZZJGDM", "BAH", "ZYCS", "JBDM", "JBDM1", "SJZYTS", "YLFUF", "SSJB1" };
    static const char *const x[] = { "foo", "bar", "baz" };

    (void)state;
    assert_string_equal(cb_profile_name(detect(w, 7)), "western");
    assert_string_equal(cb_profile_name(detect(t, 7)), "tcm");
    assert_string_equal(cb_profile_name(detect(n, 8)), "n041");
    assert_null(detect(x, 3));
}

static void
test_missing_required_columns(void **state)
{
    static const char *const cols[] = { "A01", "A48", "A49" };
    struct row_fixture h;
    struct cb_header_map m;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    make_row(&h, cols, 3);
    assert_int_equal(cb_header_map_build(&m, cb_profiles_find(ps, "western"), &h.row,
                                         NULL, &err), CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "CYSJ (出院时间, western column 'B15')"));
    cb_buf_release(&err);
}

static void
test_user_alias_file(void **state)
{
    const char *extra = "kind\ta\tb\tc\nprofile\tn041\tn041\t\nalias\t出院日期\tCYSJ\n"
                        "alias\tzdbm{1..3}\tJBDM{1..3}\n";
    struct cb_buf err = CB_BUF_INIT;
    static const char *const cols[] = { "出院日期", "ZDBM2", "BAH" };
    struct row_fixture h;
    struct cb_header_map m;
    const char *const *c = cols;

    (void)state;
    assert_int_equal(cb_profiles_add_file(ps, tu_write_file("mine.tsv", extra, strlen(extra)),
                                          &err), CB_OK);
    make_row(&h, c, 3);
    /* Build without the required check by supplying nothing: expect failure
       listing missing columns, but the mapped ones must be resolved. */
    if (cb_header_map_build(&m, cb_profiles_find(ps, "n041"), &h.row, NULL, &err) == CB_OK)
        fail_msg("expected missing required columns");
    cb_buf_reset(&err);
    {
        /* Column lookup is case-insensitive and ranges expand. */
        struct cb_fp *r = calloc(1, sizeof(*r));
        struct cb_arena a;
        static const char *const v[] = { "2024-01-02 08:00:00", "K35.800", "X1" };
        cb_arena_init(&a, 4096);
        memset(&m, 0, sizeof(m));
        m.profile = cb_profiles_find(ps, "n041");
        m.ncols = 3;
        m.field_of_col = calloc(3, sizeof(int));
        m.field_of_col[0] = CB_F_CYSJ;
        m.field_of_col[1] = cb_fp_dx(2, CB_DX_CODE);
        m.field_of_col[2] = CB_F_BAH;
        make_row(&h, v, 3);
        assert_int_equal(cb_profile_fill(&m, &h.row, r, &a), CB_OK);
        assert_field(r, cb_fp_dx(2, CB_DX_CODE), "K35.800");
        cb_header_map_release(&m);
        cb_arena_release(&a);
        free(r);
    }
    cb_buf_release(&err);
}

static void
test_denormalise_inverts_maps(void **state)
{
    const struct cb_profile *tcm = cb_profiles_find(ps, "tcm");
    const struct cb_profile *w = cb_profiles_find(ps, "western");
    struct cb_buf out = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_profile_denormalise(tcm, CB_F_RYTJ, cb_str_c("1"), &out), CB_OK);
    assert_string_equal(cb_buf_cstr(&out), "2");
    assert_int_equal(cb_profile_denormalise(tcm, cb_fp_px(5, CB_PX_MZFS),
                                            cb_str_c("0301"), &out), CB_OK);
    assert_string_equal(cb_buf_cstr(&out), "31");
    assert_int_equal(cb_profile_denormalise(w, cb_fp_px(1, CB_PX_QKYH),
                                            cb_str_c("2/3"), &out), CB_OK);
    assert_string_equal(cb_buf_cstr(&out), "6");
    assert_int_equal(cb_profile_denormalise(w, CB_F_XM, cb_str_c("张三"), &out), CB_OK);
    assert_string_equal(cb_buf_cstr(&out), "张三");
    cb_buf_release(&out);
}

static void
test_columns_cover_slots(void **state)
{
    const struct cb_profile *w = cb_profiles_find(ps, "western");
    size_t i, n = cb_profile_ncolumns(w);
    int f, seen_last_px = 0;

    (void)state;
    for (i = 0; i < n; i++) {
        const char *c = cb_profile_column(w, i, &f);
        if (!strcmp(c, "C35x40C")) {
            assert_int_equal(f, cb_fp_px(41, CB_PX_CODE));
            seen_last_px = 1;
        }
    }
    assert_true(seen_last_px);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_western_slots_and_incision),
        cmocka_unit_test(test_gaps_sparse_and_dense),
        cmocka_unit_test(test_tcm_value_maps),
        cmocka_unit_test(test_n041_healing_other),
        cmocka_unit_test(test_dash_is_empty_and_bad_types),
        cmocka_unit_test(test_fill_parses_as_cb_fp_parse),
        cmocka_unit_test(test_detection),
        cmocka_unit_test(test_missing_required_columns),
        cmocka_unit_test(test_denormalise_inverts_maps),
        cmocka_unit_test(test_columns_cover_slots),
        cmocka_unit_test(test_user_alias_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
