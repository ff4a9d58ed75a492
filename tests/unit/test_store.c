/*
 * test_store.c - the embedded database: migrations, records and their
 * versions, rejects, organisations.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/store.h"
#include "testutil.h"

static const char *
db_path(const char *name)
{
    static char p[512];
    snprintf(p, sizeof(p), "%s/%s", tu_tmpdir(), name);
    remove(p);
    return p;
}

static long long
scalar(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

static void
test_create_and_reopen(void **state)
{
    const char *p = db_path("a.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_schema_version(st), CB_SCHEMA_VERSION);
    cb_store_close(st);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(scalar(p, "PRAGMA user_version"), CB_SCHEMA_VERSION);
    cb_buf_release(&err);
}

static void
test_newer_schema_refused(void **state)
{
    const char *p = db_path("new.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    sqlite3 *db;

    (void)state;
    assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(cb_store_open(&st, p, &err), CB_ERR_SCHEMA);
    assert_null(st);
    assert_non_null(strstr(cb_buf_cstr(&err), "schema version 99"));
    assert_non_null(strstr(cb_buf_cstr(&err), "newer"));
    cb_buf_release(&err);
}

static struct cb_fp *
record(const char *bah, const char *zycs, const char *jbdm)
{
    struct cb_fp *r = calloc(1, sizeof(*r));
    r->v[CB_F_ZZJGDM] = cb_str_c("12345678-9");
    r->v[CB_F_BAH] = cb_str_c(bah);
    r->v[CB_F_ZYCS] = cb_str_c(zycs);
    r->v[CB_F_JBDM] = cb_str_c(jbdm);
    r->v[CB_F_CYSJ] = cb_str_c("2024-05-01 10:00:00");
    r->v[cb_fp_dx(1, CB_DX_CODE)] = cb_str_c("I10.x00");
    r->v[cb_fp_px(1, CB_PX_CODE)] = cb_str_c("36.0601");
    cb_fp_parse(r);
    return r;
}

/* Encodes r as an accepted row and stores it. */
static enum cb_err
put(struct cb_store *st, struct cb_fp *r, int64_t file_id, uint64_t line,
    enum cb_put_result *res, struct cb_buf *err)
{
    struct cb_store_row row;
    struct cb_qc_result qres;
    struct cb_arena a;
    struct cb_store_encoder *enc;
    enum cb_err rc;

    memset(&qres, 0, sizeof(qres));
    cb_arena_init(&a, 4096);
    assert_int_equal(cb_store_encoder_new(&enc), CB_OK);
    rc = cb_store_row_encode(&row, r, NULL, &qres, cb_str_c("raw,line"), line, &a, enc);
    if (!rc)
        rc = cb_store_put(st, file_id, &row, res, err);
    cb_arena_release(&a);
    cb_store_encoder_free(enc);
    return rc;
}

static enum cb_err
first_value(void *ctx, int ncols, const char *const *names,
            const char *const *values)
{
    (void)ncols;
    (void)names;
    snprintf(ctx, 256, "%s", values[0] ? values[0] : "(null)");
    return CB_OK;
}

/* A query through the store, where fp_data() exists. */
static const char *
store_scalar(const char *path, const char *sql)
{
    static char out[256];
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    out[0] = '\0';
    assert_int_equal(cb_store_open(&st, path, &err), CB_OK);
    if (cb_store_query(st, sql, first_value, out, &err) != CB_OK)
        fail_msg("%s: %s", sql, cb_buf_cstr(&err));
    cb_store_close(st);
    cb_buf_release(&err);
    return out;
}

static void
test_put_insert_unchanged_replace_duplicate(void **state)
{
    const char *p = db_path("rec.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r1 = record("B1", "1", "I21.000"), *r2 = record("B1", "1", "I21.100");
    enum cb_put_result res;
    int64_t hid;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    {
        struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
        int64_t fid;
        int k;
        for (k = 1; k <= 3; k++) {
            assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
            assert_int_equal(fid, k);
        }
    }
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r1->v[CB_F_ZZJGDM], cb_str_c("某医院"),
                                              &hid, &err), CB_OK);
    assert_int_equal(put(st, r1, 1, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    /* Same key again from the same file: a duplicate within the file. */
    assert_int_equal(put(st, r1, 1, 3, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_DUPLICATE);
    /* Same content from another file: unchanged. */
    assert_int_equal(put(st, r1, 2, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_UNCHANGED);
    /* Corrected content: replaced, the earlier version kept. */
    assert_int_equal(put(st, r2, 3, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_REPLACED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(scalar(p, "SELECT count(*) FROM reject WHERE line = 3"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM reject_issue WHERE rule = 'QC-ID-02'"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record"), 1);
    assert_int_equal(scalar(p, "SELECT version FROM record"), 2);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_history"), 1);
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.JBDM')"
                                        " FROM record_history"), "I21.000");
    assert_string_equal(store_scalar(p, "SELECT json_extract(fp_data(data), '$.JBDM')"
                                        " FROM record"), "I21.100");
    /* The payload is compressed, not plain JSON. */
    assert_int_equal(scalar(p, "SELECT typeof(data) = 'blob' FROM record"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_dx"), 2);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_dx WHERE seq = 0 AND code = 'I21.100'"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_px WHERE seq = 1"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_dx WHERE seq = 1 AND code = 'I10.x00'"), 1);
    free(r1);
    free(r2);
    cb_buf_release(&err);
}

static void
test_rollback_leaves_nothing(void **state)
{
    const char *p = db_path("rb.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *r = record("B9", "1", "J18.900");
    enum cb_put_result res;
    int64_t hid;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r->v[CB_F_ZZJGDM], CB_STR_NULL, &hid, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    cb_store_rollback(st);
    /* The hospital cache must not keep the rolled-back id. */
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(cb_store_hospital_ensure(st, r->v[CB_F_ZZJGDM], CB_STR_NULL, &hid, &err), CB_OK);
    assert_int_equal(put(st, r, 1, 2, &res, &err), CB_OK);
    assert_int_equal(res, CB_PUT_INSERTED);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_close(st);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hospital"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record r JOIN hospital h ON h.id = r.hospital_id"), 1);
    free(r);
    cb_buf_release(&err);
}

static void
test_orgs(void **state)
{
    const char *p = db_path("org.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "consortium", "YLT1", "某市医联体", &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "region", "R1", "某区", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", "中心医院", "三级", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", NULL, "二级", &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "R1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT1", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "NOPE", "H1", 0, &err), CB_ERR_NOT_FOUND);
    cb_buf_reset(&err);
    assert_int_equal(cb_store_hospital_set(st, "H2", "x", "四级", &err), CB_ERR_USAGE);
    assert_int_equal(cb_store_group_set(st, "planet", "P", "x", &err), CB_ERR_USAGE);
    cb_store_close(st);
    assert_int_equal(scalar(p, "SELECT count(*) FROM org_member"), 2);
    assert_int_equal(scalar(p, "SELECT count(*) FROM hospital WHERE name = '中心医院' AND level = '二级'"), 1);
    cb_buf_release(&err);
}

static void
test_overlapping_stays_warned(void **state)
{
    const char *p = db_path("ov.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_fp *a = record("P1", "1", "J18.900"), *b = record("P1", "2", "J18.900"),
                 *c = record("P1", "3", "J18.900");
    struct cb_import_file f = { "/x/a.csv", "a.csv", 10, "western", "utf-8", "csv" };
    enum cb_put_result res;
    int64_t fid;
    uint64_t n, first;

    (void)state;
    /* Stay 1: 1 to 10 May; stay 2 overlaps it (8 to 12 May); stay 3 does not. */
    a->v[CB_F_RYSJ] = cb_str_c("2024-05-01 08:00:00");
    a->v[CB_F_CYSJ] = cb_str_c("2024-05-10 10:00:00");
    b->v[CB_F_RYSJ] = cb_str_c("2024-05-08 08:00:00");
    b->v[CB_F_CYSJ] = cb_str_c("2024-05-12 10:00:00");
    c->v[CB_F_RYSJ] = cb_str_c("2024-06-01 08:00:00");
    c->v[CB_F_CYSJ] = cb_str_c("2024-06-03 10:00:00");
    cb_fp_parse(a);
    cb_fp_parse(b);
    cb_fp_parse(c);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_file_begin(st, &f, &fid, &err), CB_OK);
    assert_int_equal(cb_store_begin(st, &err), CB_OK);
    assert_int_equal(put(st, a, fid, 2, &res, &err), CB_OK);
    assert_int_equal(put(st, b, fid, 3, &res, &err), CB_OK);
    assert_int_equal(put(st, c, fid, 4, &res, &err), CB_OK);
    assert_int_equal(cb_store_commit(st, &err), CB_OK);
    cb_store_overlap_counts(st, &n, &first);
    assert_int_equal(n, 1);
    assert_int_equal(first, 1);
    cb_store_close(st);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_warning w JOIN record r"
                               " ON r.id = w.record_id WHERE w.rule = 'QC-ID-03' AND r.zycs = 2"), 1);
    assert_int_equal(scalar(p, "SELECT n_warnings FROM record WHERE zycs = 2"), 1);
    assert_int_equal(scalar(p, "SELECT count(*) FROM record_warning"), 1);
    free(a);
    free(b);
    free(c);
    cb_buf_release(&err);
}

static void
test_query_is_read_only(void **state)
{
    const char *p = db_path("ro.db");
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;
    char out[256];

    (void)state;
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_query(st, "DELETE FROM hospital", first_value, out, &err),
                     CB_ERR_USAGE);
    assert_int_equal(cb_store_query(st, "SELECT fp_data('plain')", first_value, out, &err),
                     CB_OK);
    assert_string_equal(out, "plain");
    assert_int_not_equal(cb_store_query(st, "SELECT fp_data(x'28b52ffd00')", first_value,
                                        out, &err), CB_OK);
    cb_store_close(st);
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_reopen),
        cmocka_unit_test(test_newer_schema_refused),
        cmocka_unit_test(test_put_insert_unchanged_replace_duplicate),
        cmocka_unit_test(test_rollback_leaves_nothing),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_query_is_read_only),
        cmocka_unit_test(test_overlapping_stays_warned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
